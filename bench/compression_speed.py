"""Speed benchmark for token counting and the local compression stages (no model calls).

Seeded tool-using conversations of about 100k, 1M and 10M tokens (OpenAI tokenizer, exact
counts). Measured in one run, each next to its bar and a peer:

* **cold count** of the whole conversation by :class:`~massgen_plugins.tokens.TokenCounter`
  (framing, tool calls, schemas, cache fill) vs **raw tiktoken** ``encode_ordinary`` over the same
  texts -- bar: within 1.15x;
* **incremental recount** after appending one message to the 1M-token history (the guard's
  per-call cost) -- bar: <= 1 ms (median of 25);
* **compress to 1/10** with the local stages (mask, extract, truncate; strategy ``balanced``),
  cold (nothing cached: includes the first count) and warm (counts cached, as in a Session) --
  bars: 1M -> 100k <= 3 s; 10x the input <= 12x the time (10M vs 1M);
* times are process CPU seconds by default (robust on a shared machine; identical to wall time
  for this single-threaded code on an idle one); ``--wall`` measures wall-clock time;
* peer: LangChain ``trim_messages`` (``strategy="last"``, same counter) on the same input and
  budget, when installed (``pip install 'massgen-plugins[bench]'``).

Run: ``python bench/compression_speed.py [--sizes 100k,1m,10m] [--repeat 3] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

os.environ.setdefault("TIKTOKEN_CACHE_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "tiktoken"))

from massgen_plugins.compression import compress_conversation_sync
from massgen_plugins.compression.synthetic import generate_conversation
from massgen_plugins.tokens import TokenCounter, counter_for, load_encoding, reset

MODEL = "openai/gpt-4o"
TOKENS_PER_TURN = 3_600
SIZES = {"100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
KEY_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "GROQ_API_KEY",
            "XAI_API_KEY", "NEBIUS_API_KEY", "OPENROUTER_API_KEY")
LOCAL = {"stages": ["mask", "extract", "truncate"]}


def build(size: int, seed: int = 7) -> Any:
    turns = max(4, round(size / TOKENS_PER_TURN))
    return generate_conversation(seed, turns=turns, tool_tokens=(200, 2_000), huge_every=40, huge_tokens=20_000,
                                 parallel_share=0.3, multipart_share=0.1, facts=0)


def texts_of(messages: list[dict[str, Any]]) -> list[str]:
    out = []
    for m in messages:
        c = m.get("content")
        if isinstance(c, str):
            out.append(c)
        elif isinstance(c, list):
            out.extend(p.get("text", "") for p in c if isinstance(p, dict) and "text" in p)
        for call in m.get("tool_calls") or ():
            out.append(call["function"]["name"])
            out.append(call["function"]["arguments"])
    return out


CLOCK = time.process_time  # CPU seconds of this process: fair on a shared machine (see --wall)
WALL: dict[str, float] = {}  # the wall-clock time of the run whose CPU time was kept, by label


def best(fn, repeat: int, label: str = "") -> float:
    """The smallest time of ``repeat`` runs (CLOCK); the matching wall time goes to WALL[label]."""
    runs = []
    for _ in range(repeat):
        w, t = time.perf_counter(), CLOCK()
        fn()
        runs.append((CLOCK() - t, time.perf_counter() - w))
    chosen = min(runs)
    if label:
        WALL[label] = chosen[1]
    return chosen[0]


def langchain_peer():
    try:
        from langchain_core.messages import convert_to_messages, convert_to_openai_messages, trim_messages
    except ImportError:
        return None
    counter = counter_for(MODEL)

    def run(messages, budget):
        lc = convert_to_messages(messages)
        return trim_messages(lc, max_tokens=budget, strategy="last", include_system=True, start_on="human",
                             token_counter=lambda ms: counter.count(convert_to_openai_messages(ms)))

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1m,10m")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--wall", action="store_true",
                        help="measure wall-clock time instead of process CPU time (use on an idle machine)")
    args = parser.parse_args()
    global CLOCK
    if args.wall:
        CLOCK = time.perf_counter
    for name in KEY_VARS:
        os.environ.pop(name, None)
    enc = load_encoding("o200k_base")
    if enc is None:
        print("the o200k_base encoding file is missing: set TIKTOKEN_CACHE_DIR", file=sys.stderr)
        return 2
    peer = langchain_peer()
    results: dict[str, dict[str, Any]] = {}
    for label in [s.strip().lower() for s in args.sizes.split(",") if s.strip()]:
        size = SIZES[label]
        conv = build(size)
        msgs, tools = conv.messages, conv.tools
        texts = texts_of(msgs)
        repeat = 1 if size >= 10_000_000 else (max(args.repeat, 5) if size <= 200_000 else args.repeat)

        def raw() -> int:
            encode = enc.encode_ordinary
            return sum(len(encode(t)) for t in texts)  # noqa: B023 - called right here

        tokens = TokenCounter(MODEL).count(msgs, tools)
        raw_runs, cold_runs = [], []
        for _ in range(repeat):  # interleaved, so drift on a shared machine hits both alike
            raw_runs.append((best(raw, 1, "raw"), WALL["raw"]))
            cold_runs.append((best(lambda: TokenCounter(MODEL).count(msgs, tools), 1, "cold"), WALL["cold"]))  # noqa: B023 - called right here
        (raw_s, WALL[f"{label}:raw"]), (cold_s, WALL[f"{label}:cold"]) = min(raw_runs), min(cold_runs)
        row: dict[str, Any] = {"tokens": tokens, "messages": len(msgs), "raw_tiktoken_s": raw_s,
                               "cold_count_s": cold_s, "cold_vs_raw": cold_s / raw_s}
        if label == "1m":
            counter = TokenCounter(MODEL)
            counter.count(msgs, tools)
            samples = []
            grown = list(msgs)
            for k in range(25):
                grown = [*grown, {"role": "user", "content": f"follow-up {k}: check src/mod_{k}.py again"}]
                t = CLOCK()
                counter.count(grown, tools)
                samples.append(CLOCK() - t)
            row["incremental_ms"] = statistics.median(samples) * 1000
        budget = max(1_000, tokens // 10)
        reset()  # cold: no cached counts, encodings reloaded
        w, t = time.perf_counter(), CLOCK()
        report = compress_conversation_sync(msgs, model=MODEL, budget=budget, tools=tools, options=LOCAL)
        row["compress_cold_s"] = CLOCK() - t
        row["compress_cold_wall_s"] = time.perf_counter() - w
        row["compress_warm_s"] = best(lambda: compress_conversation_sync(msgs, model=MODEL, budget=budget, tools=tools,  # noqa: B023 - called right here
                                                                          options=LOCAL), repeat, f"{label}:warm")
        row["compress_warm_wall_s"] = WALL[f"{label}:warm"]
        row["raw_tiktoken_wall_s"], row["cold_count_wall_s"] = WALL[f"{label}:raw"], WALL[f"{label}:cold"]
        row["compress_to"] = report.tokens_after
        row["budget"] = budget
        row["stages"] = {s.name: round(s.seconds, 3) for s in report.stages if s.status == "applied"}
        if peer is not None and size <= 1_000_000:
            row["langchain_trim_s"] = best(lambda: peer(msgs, budget), 1)  # noqa: B023 - called right here
        results[label] = row
        print(f"measured {label}: {tokens:,} tokens", file=sys.stderr)

    bars = {"cold_vs_raw": 1.15, "incremental_ms": 1.0, "compress_1m_s": 3.0, "scaling": 12.0}
    scaling = None
    if "1m" in results and "10m" in results:
        scaling = results["10m"]["compress_cold_s"] / results["1m"]["compress_cold_s"]
        results["scaling_10m_vs_1m"] = {"cold": scaling,
                                        "warm": results["10m"]["compress_warm_s"] / results["1m"]["compress_warm_s"]}
    if args.json:
        print(json.dumps({"results": results, "bars": bars, "python": sys.version.split()[0]}, indent=2))
        return 0

    from rich.console import Console
    from rich.table import Table

    def verdict(ok: bool) -> str:
        return "[green]meets[/]" if ok else "[red]misses[/]"

    clock = "wall-clock" if args.wall else "process CPU time"
    table = Table(title=f"Token counting and local compression stages · openai/gpt-4o (o200k, exact) · {clock}")
    for col in ("measure", "bar", "measured", "peer / baseline (same run)", ""):
        table.add_column(col)
    for label, row in results.items():
        if not label.startswith(("1", "10")) or label.startswith("scaling"):
            continue
        size = f"{row['tokens']:,} tok"
        table.add_row(f"cold count, {size}", "≤ 1.15× raw tiktoken",
                      f"{row['cold_count_s']:.3f} s = {row['cold_vs_raw']:.2f}× (wall {row['cold_count_wall_s']:.3f} s)",
                      f"raw tiktoken encode_ordinary {row['raw_tiktoken_s']:.3f} s (wall {row['raw_tiktoken_wall_s']:.3f} s)",
                      verdict(row["cold_vs_raw"] <= 1.15))
        if "incremental_ms" in row:
            table.add_row(f"recount after 1 appended message, {size}", "≤ 1 ms", f"{row['incremental_ms']:.3f} ms",
                          f"cold recount {row['cold_count_s'] * 1000:.0f} ms", verdict(row["incremental_ms"] <= 1.0))
        bar = "≤ 3 s" if label == "1m" else "—"
        peer_text = f"langchain trim_messages {row['langchain_trim_s']:.2f} s" if "langchain_trim_s" in row else (
            "langchain not installed" if peer is None else "—")
        table.add_row(f"compress {size} → {row['budget']:,} (cold)", bar,
                      f"{row['compress_cold_s']:.2f} s, warm {row['compress_warm_s']:.2f} s → {row['compress_to']:,} "
                      f"(wall {row['compress_cold_wall_s']:.2f} s / {row['compress_warm_wall_s']:.2f} s)",
                      peer_text, verdict(row["compress_cold_s"] <= 3.0) if label == "1m" else "")
    if scaling is not None:
        warm = results["scaling_10m_vs_1m"]["warm"]
        table.add_row("10× input (10M vs 1M), time ratio", "≤ 12×", f"{scaling:.1f}× cold ({warm:.1f}× warm)",
                      "linear = 10×", verdict(scaling <= 12.0))
    Console(width=180).print(table)
    for label, row in results.items():
        if "stages" in row:
            print(f"{label}: applied stages, wall seconds of the cold run: {row['stages']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
