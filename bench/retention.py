"""Retention benchmark: how many planted facts survive compression, and is the result valid?

A seeded, long, tool-using conversation (tool calls, parallel calls, multi-part content, huge
tool outputs) carries planted facts -- user constraints, ticket ids, decisions, numeric limits --
spread through it. Each method compresses it to 1/2, 1/4 and 1/8 of its size; we report the
share of facts still present (as text: what an OpenAI compaction item keeps is opaque, so
it cannot be seen here), whether the result fits the budget, and whether it is valid for the
target provider (OpenAI) and also for Anthropic (tool call/result pairing, first turn from the
user, Anthropic's rules; an OpenAI compaction item is valid only for OpenAI).

Methods, all measured in the same run on the same conversation and budgets:

* ``conservative`` / ``balanced`` / ``aggressive`` -- this project's chain (offline: with no API
  key the summarize stage is skipped with its reason; ``--emulator`` runs it -- and OpenAI
  native compaction -- against the built-in provider emulator, whose "summaries" are
  deterministic line pickers, so that measures the plumbing, not an LLM's quality);
* ``keep-last`` -- drop the oldest messages until it fits (what MassGen's proactive path does);
* ``langchain trim_messages`` -- ``strategy="last"``, ``include_system=True``,
  ``start_on="human"``, counting with the same tokenizer (optional: ``pip install
  'massgen-plugins[bench]'``);
* ``litellm trim_messages`` -- ``trim_messages(messages, model, max_tokens=budget)`` (optional).

Run: ``python bench/retention.py [--seed N] [--turns N] [--facts N] [--emulator] [--json]``.

``--real`` scores **real agent sessions** instead (:mod:`retention_real`): public trajectories
of SWE-agent/EnIGMA, OpenHands and mini-swe-agent read from ``--sources DIR`` (or
``MASSGEN_BENCH_SOURCES``; ``bench/fetch_sessions.sh DIR`` clones them), facts taken from each
run's own outcome, beside keep-last, LangChain ``trim_messages`` and MassGen's
``ContextCompressor`` -- the last two run with ``--peer-python`` (or ``MASSGEN_PEER_PYTHON``),
a virtualenv of their own: ``python bench/retention.py --real --sources /work/.mirror
--peer-python /work/peer-venvs/massgen-c/bin/python``.

``--real --unseen`` scores the **unseen hold-out** instead (:mod:`retention_unseen`): four sessions
built the same way from sources the chain was not tuned on (A and B: the NYU CTF leaderboard's
EnIGMA and baseline transcripts, Moatless Tools' SWE-bench runs; C: Gemini CLI CTF chats,
SWE-agent 1.x ``str_replace_editor`` runs and aider sessions; D: InterCode-CTF runs, AutoCodeRover
runs and OpenHands CodeAct evaluation output), with the same methods, plus how many
dropped facts one ``recall(final question)`` brings back.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TIKTOKEN_CACHE_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "tiktoken"))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from massgen_plugins.compression import CannotFitError, InvalidConversationError, compress_conversation_sync
from massgen_plugins.compression.invariants import validate_conversation
from massgen_plugins.compression.synthetic import generate_conversation, kept_facts
from massgen_plugins.tokens import counter_for

MODEL = "openai/gpt-4o"
RATIOS = (2, 4, 8)
KEY_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "GROQ_API_KEY",
            "XAI_API_KEY", "NEBIUS_API_KEY", "OPENROUTER_API_KEY")

Method = Callable[[list[dict[str, Any]], list[dict[str, Any]], int], list[dict[str, Any]]]


def ours(strategy: str) -> Method:
    def run(messages, tools, budget):
        report = compress_conversation_sync(messages, model=MODEL, budget=budget, strategy=strategy, tools=tools)
        return [m.model_dump(mode="json", exclude_unset=True) for m in report.messages]

    return run


def keep_last(messages, tools, budget):
    counter = counter_for(MODEL)
    head = [m for m in messages[:1] if m["role"] == "system"]
    rest = messages[len(head):]
    keep: list[dict[str, Any]] = []
    total = counter.count(head, tools)
    for m in reversed(rest):
        size = counter.message(m)
        if total + size > budget:
            break
        keep.append(m)
        total += size
    return head + keep[::-1]


def langchain_trim() -> Method | None:
    try:
        from langchain_core.messages import convert_to_messages, convert_to_openai_messages, trim_messages
    except ImportError:
        return None
    counter = counter_for(MODEL)

    def count(msgs) -> int:
        return counter.count(convert_to_openai_messages(msgs))

    def run(messages, tools, budget):
        lc = convert_to_messages(messages)
        out = trim_messages(lc, max_tokens=budget - counter.tools(tools), strategy="last", token_counter=count,
                            include_system=True, start_on="human", allow_partial=False)
        return convert_to_openai_messages(out)

    return run


def litellm_trim() -> Method | None:
    try:
        from litellm.utils import trim_messages
    except Exception:  # not installed, or broken by its own dependencies
        return None

    import logging

    import litellm

    litellm.suppress_debug_info = True
    for name in ("LiteLLM", "litellm"):
        logging.getLogger(name).setLevel(logging.CRITICAL)

    def run(messages, tools, budget):
        # litellm catches its own errors and then returns the input unchanged (reported as
        # "returned the input unchanged" below)
        out = trim_messages(messages, model="gpt-4o", max_tokens=budget - counter_for(MODEL).tools(tools))
        return out[0] if isinstance(out, tuple) else out

    return run


def valid_for(messages, provider: str) -> str | None:
    try:
        validate_conversation(messages, provider)
    except InvalidConversationError as exc:
        return exc.reason
    return None


def measure(name: str, method: Method, conv, total: int) -> dict[str, Any]:
    row: dict[str, Any] = {"method": name, "results": {}}
    for ratio in RATIOS:
        budget = total // ratio
        started = time.perf_counter()
        try:
            out = method(conv.messages, conv.tools, budget)
            error = None
        except CannotFitError as exc:
            out, error = [], str(exc)
        seconds = time.perf_counter() - started
        counter = counter_for(MODEL)
        tokens = counter.count(out, conv.tools) if out else None
        kept = kept_facts(conv.facts, out) if out else []
        invalid = {p: valid_for(out, p) for p in ("openai", "anthropic")} if out else {}
        if out and tokens == total:
            error = "returned the input unchanged"
        row["results"][ratio] = {
            "budget": budget, "tokens": tokens, "fits": tokens is not None and tokens <= budget,
            "facts_kept": len(kept), "facts": len(conv.facts), "share": len(kept) / max(1, len(conv.facts)),
            "valid_openai": out != [] and invalid.get("openai") is None,
            "valid_anthropic": out != [] and invalid.get("anthropic") is None,
            "invalid_reason": next((r for r in invalid.values() if r), None),
            "error": error,
            "seconds": round(seconds, 3),
        }
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--turns", type=int, default=120)
    parser.add_argument("--facts", type=int, default=40)
    parser.add_argument("--emulator", action="store_true", help="run model-backed stages against the emulator")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--real", action="store_true", help="score real agent sessions (see --sources)")
    parser.add_argument("--unseen", action="store_true",
                        help="with --real: score the unseen hold-out sessions A, B, C and D instead "
                             "(bench/real_sessions_unseen.py)")
    parser.add_argument("--sources", default=os.environ.get("MASSGEN_BENCH_SOURCES"),
                        help="directory with the session repositories (bench/fetch_sessions.sh DIR)")
    parser.add_argument("--peer-python", default=os.environ.get("MASSGEN_PEER_PYTHON"),
                        help="python of a venv with massgen + langchain-core + tiktoken (the peers)")
    args = parser.parse_args()

    for name in KEY_VARS:
        os.environ.pop(name, None)
    if args.real:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import retention_real
        import retention_unseen

        if not args.sources:
            parser.error("--real needs --sources DIR (or MASSGEN_BENCH_SOURCES); bench/fetch_sessions.sh DIR fetches them")
        bench = retention_unseen if args.unseen else retention_real
        try:
            result = bench.run(args.sources, args.peer_python)
        except retention_real.rs.SourceMissing as exc:
            parser.error(str(exc))
        if args.json:
            print(json.dumps(result, indent=2, default=str))
        else:
            bench.print_tables(result)
        return 0
    if args.unseen:
        parser.error("--unseen goes with --real")
    emu = None
    if args.emulator:
        from massgen_plugins.testing import Emulator

        emu = Emulator().__enter__()
        os.environ.update(emu.env())

    conv = generate_conversation(args.seed, turns=args.turns, facts=args.facts, huge_every=12, huge_tokens=15_000,
                                 tool_tokens=(50, 1_500), parallel_share=0.3, multipart_share=0.15)
    counter = counter_for(MODEL)
    total = counter.count(conv.messages, conv.tools)
    methods: list[tuple[str, Method | None, str]] = [
        ("ours: conservative", ours("conservative"), ""),
        ("ours: balanced", ours("balanced"), ""),
        ("ours: aggressive", ours("aggressive"), ""),
        ("keep-last truncation", keep_last, ""),
        ("langchain trim_messages", langchain_trim(), "pip install langchain-core (extra: bench)"),
        ("litellm trim_messages", litellm_trim(), "pip install litellm (extra: bench)"),
    ]
    rows = []
    notes = []
    for name, method, hint in methods:
        if method is None:
            notes.append(f"{name}: not installed, skipped ({hint})")
            continue
        rows.append(measure(name, method, conv, total))
    if emu is not None:
        emu.__exit__(None, None, None)

    meta = {"model": MODEL, "seed": args.seed, "turns": args.turns, "messages": len(conv.messages),
            "tokens": total, "facts": len(conv.facts), "emulator": args.emulator, "python": sys.version.split()[0]}
    if args.json:
        print(json.dumps({"meta": meta, "rows": rows, "notes": notes}, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Planted-fact retention · {len(conv.messages)} messages, {total:,} tokens, "
                        f"{len(conv.facts)} facts · {MODEL}" + (" · summarize via emulator" if args.emulator else
                                                                 " · offline (no API key)"))
    table.add_column("method")
    for ratio in RATIOS:
        table.add_column(f"{ratio}× facts kept", justify="right")
    table.add_column("valid for OpenAI (target), all ratios")
    table.add_column("also valid for Anthropic")
    table.add_column("fits budget")
    table.add_column("time 2×/4×/8×", justify="right")
    for row in rows:
        res = row["results"]
        valid_openai = all(r["valid_openai"] for r in res.values())
        portable = [r for r in RATIOS if res[r]["valid_anthropic"]]
        reasons = {r["invalid_reason"] for r in res.values() if r["invalid_reason"] and not r["valid_openai"]}
        table.add_row(
            row["method"],
            *[f"{res[r]['share']:.0%} ({res[r]['facts_kept']}/{res[r]['facts']})" for r in RATIOS],
            "yes" if valid_openai else "NO: " + "; ".join(sorted(reasons))[:80],
            "yes" if len(portable) == len(RATIOS) else (
                "no: opaque compaction item" if any("compaction" in (res[r]["invalid_reason"] or "") for r in RATIOS)
                else "NO") + (f" (yes at {', '.join(f'{r}×' for r in portable)})" if portable and
                              len(portable) < len(RATIOS) else ""),
            "yes" if all(r["fits"] for r in res.values()) else
            "NO" + "".join(sorted({f": {r['error']}" for r in res.values() if r["error"]})),
            " / ".join(f"{res[r]['seconds']:.2f}s" for r in RATIOS),
        )
    console = Console(width=200)
    console.print(table)
    console.print("bar: the result is always provider-valid and within budget; facts: report, and beat the "
                  "baselines measured here")
    for note in notes:
        console.print(f"note: {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
