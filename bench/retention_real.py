"""Retention on real agent sessions: task facts kept at 2x, 4x and 8x, beside the peers.

Part of ``bench/retention.py`` (``--real``). The sessions come from public repositories
(:mod:`real_sessions`: SWE-agent/EnIGMA CTF and SWE-bench runs, OpenHands, mini-swe-agent; each
pinned by repository, path and commit); their facts are taken mechanically from each run's own
outcome (the flag or answer submitted, the files the patch changed).

Sessions scored:

* **12 runs in one session** (~70k tokens): a dozen runs one after the other, ending with
  "List every flag you captured and every file you changed." -- twice: as tool calls and tool
  results (how a function-calling agent sees it), and with the commands in the assistant's text
  and their outputs as user turns (how SWE-agent's and mini-swe-agent's models saw them);
* **single runs**: every run with a fact, alone, followed by a question about its outcome.

Methods, all measured in this run on the same sessions and budgets: this project's chain (offline:
no API key; mask, extract, truncate), keep-last truncation, LangChain ``trim_messages`` and
MassGen's own offline compressor (``ContextCompressor``), the last two in their own virtualenv
(``--peer-python``). For this project's chain it also reports, at 8x, how many dropped facts one
``expand(gist_id)`` of a gist shown in the compressed context brings back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import real_sessions as rs
from massgen_plugins.compression import CannotFitError, compress_conversation_sync
from massgen_plugins.compression.gists import GIST_RE, expand
from massgen_plugins.compression.invariants import validate_conversation
from massgen_plugins.tokens import counter_for

MODEL = "openai/gpt-4o"
RATIOS = (2, 4, 8)
PEER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers", "retention_peers.py")
Method = Callable[[list[dict[str, Any]], int], tuple[list[dict[str, Any]], list[Any]]]


def ours(strategy: str) -> Method:
    def run(messages: list[dict[str, Any]], budget: int) -> tuple[list[dict[str, Any]], list[Any]]:
        report = compress_conversation_sync(messages, model=MODEL, budget=budget, strategy=strategy)
        return [m.model_dump(mode="json", exclude_unset=True) for m in report.messages], list(report.archive)

    return run


def keep_last(messages: list[dict[str, Any]], budget: int) -> tuple[list[dict[str, Any]], list[Any]]:
    counter = counter_for(MODEL)
    head = [m for m in messages[:1] if m["role"] == "system"]
    keep: list[dict[str, Any]] = []
    total = counter.count(head)
    for m in reversed(messages[len(head):]):
        size = counter.message(m)
        if total + size > budget:
            break
        keep.append(m)
        total += size
    return head + keep[::-1], []


def sessions(root: str) -> list[tuple[str, rs.RealSession]]:
    tools = {r.source.name: r for r in rs.load_runs(root)}
    text = {r.source.name: r for r in rs.load_runs(root, text_actions=True)}
    out = [("12 runs, tool calls", rs.concatenated_session([tools[n] for n in rs.LONG_SESSION])),
           ("12 runs, text actions", rs.concatenated_session([text[n] for n in rs.LONG_SESSION]))]
    out += [(f"single: {r.source.name}", rs.single_session(r)) for r in tools.values() if r.facts]
    return out


def peer_results(python: str | None, cases: list[dict[str, Any]]) -> tuple[dict[str, Any], str | None]:
    if not python:
        return {}, "no --peer-python (LangChain and MassGen run in their own venv: see docs/benchmarks.md)"
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": os.environ.get("TIKTOKEN_CACHE_DIR", "")}
    try:
        done = subprocess.run([python, PEER_SCRIPT], input=json.dumps({"cases": cases}), capture_output=True,
                              text=True, env=env, timeout=1800, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        return {}, f"peer venv failed: {type(exc).__name__}: {str(exc)[:200]}"
    return json.loads(done.stdout.strip().splitlines()[-1]), None


def score(session: rs.RealSession, out: list[dict[str, Any]], budget: int, archive: list[Any]) -> dict[str, Any]:
    counter = counter_for(MODEL)
    tokens = counter.count(out) if out else None
    kept = rs.kept(session.facts, out) if out else []
    try:
        validate_conversation(out, "openai")
        valid = bool(out)
    except Exception:
        valid = False
    dropped = [f for f in session.facts if f not in kept]
    recoverable = 0
    if archive and dropped:
        shown = {g for m in out for g in GIST_RE.findall(rs.flat_text([m]))}
        texts = {g: rs.flat_text([m.model_dump(mode="json") for m in expand(archive, g)]) for g in shown}
        recoverable = sum(1 for f in dropped if any(f.key in t for t in texts.values()))
    return {"kept": len(kept), "facts": len(session.facts), "fits": tokens is not None and tokens <= budget,
            "valid": valid, "tokens": tokens, "dropped": [f.run for f in dropped], "recoverable": recoverable}


Extra = Callable[[rs.RealSession, list[dict[str, Any]], list[Any]], dict[str, Any]]


def run(root: str, peer_python: str | None, found: list[tuple[str, rs.RealSession]] | None = None,
        extra: Extra | None = None) -> dict[str, Any]:
    """Every method on every session (default: :func:`sessions`) at every ratio; ``extra(session,
    output, archive)`` adds fields to each row of this project's methods."""
    counter = counter_for(MODEL)
    found = sessions(root) if found is None else found
    cases = []
    for name, session in found:
        total = counter.count(session.messages)
        for ratio in RATIOS:
            cases.append({"id": f"{name}@{ratio}", "messages": session.messages, "budget": total // ratio})
    started = time.perf_counter()
    peers, peer_note = peer_results(peer_python, cases)
    peer_seconds = time.perf_counter() - started
    methods: list[tuple[str, Method]] = [("ours: balanced", ours("balanced")), ("ours: aggressive", ours("aggressive")),
                                         ("ours: conservative", ours("conservative")), ("keep-last", keep_last)]
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    for label, method in methods:
        rows[label] = {}
        for case in cases:
            session = dict(found)[case["id"].rsplit("@", 1)[0]]
            try:
                out, archive = method(case["messages"], case["budget"])
            except CannotFitError as exc:
                rows[label][case["id"]] = {"kept": 0, "facts": len(session.facts), "fits": False, "valid": False,
                                           "tokens": None, "dropped": [], "recoverable": 0,
                                           "error": f"cannot fit ({exc.over_by:,} over)"}
                continue
            rows[label][case["id"]] = score(session, out, case["budget"], archive)
            if extra is not None and label.startswith("ours"):
                rows[label][case["id"]].update(extra(session, out, archive))
    for peer, label in (("langchain", "langchain trim_messages"), ("massgen", "MassGen ContextCompressor")):
        if peer in peers:
            rows[label] = {}
            for case in cases:
                session = dict(found)[case["id"].rsplit("@", 1)[0]]
                out = peers[peer].get(case["id"])
                rows[label][case["id"]] = score(session, out or [], case["budget"], [])
    meta = {"sessions": [(n, len(s.messages), counter.count(s.messages), len(s.facts)) for n, s in found],
            "sources": sorted({(src.repo, src.commit) for _, s in found for src in s.sources}),
            "peer_note": peer_note, "peer_errors": peers.get("errors", {}), "peer_seconds": round(peer_seconds, 1)}
    return {"meta": meta, "rows": rows}


def aggregate(rows: dict[str, dict[str, Any]], prefix: str, ratio: int) -> dict[str, Any]:
    picked = [v for k, v in rows.items() if k.startswith(prefix) and k.endswith(f"@{ratio}")]
    return {"kept": sum(v["kept"] for v in picked), "facts": sum(v["facts"] for v in picked),
            "fits": all(v["fits"] for v in picked), "valid": all(v["valid"] for v in picked),
            "recoverable": sum(v["recoverable"] for v in picked),
            "dropped": sum(v["facts"] - v["kept"] for v in picked),
            "cannot_fit": sum(1 for v in picked if v.get("error"))}


def print_tables(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=200)
    rows = result["rows"]
    groups = [("12 runs, tool calls", "12 runs, tool calls"), ("12 runs, text actions", "12 runs, text actions"),
              (f"{sum(1 for n, *_ in result['meta']['sessions'] if n.startswith('single'))} single runs", "single: ")]
    for title, prefix in groups:
        table = Table(title=f"Task facts kept · {title} · {MODEL} · offline (no API key)")
        table.add_column("method")
        for ratio in RATIOS:
            table.add_column(f"{ratio}×", justify="right")
        table.add_column("valid, fits (all ratios)")
        table.add_column("8×: dropped facts back by one expand", justify="right")
        for label, cases in rows.items():
            cells = []
            for ratio in RATIOS:
                agg = aggregate(cases, prefix, ratio)
                cell = f"{agg['kept']}/{agg['facts']}"
                if agg["cannot_fit"]:
                    cell += f" ({agg['cannot_fit']} cannot fit)"
                cells.append(cell)
            every = [aggregate(cases, prefix, r) for r in RATIOS]
            ok = "yes" if all(a["valid"] and a["fits"] for a in every) else (
                "NO: " + ", ".join(f"{r}× " + ("invalid" if not a["valid"] else "over budget")
                                   for r, a in zip(RATIOS, every, strict=True) if not (a["valid"] and a["fits"])))
            at8 = every[-1]
            back = f"{at8['recoverable']}/{at8['dropped']}" if label.startswith("ours") and at8["dropped"] else (
                "nothing dropped" if label.startswith("ours") else "no archive")
            table.add_row(label, *cells, ok, back)
        console.print(table)
    console.print("bar: >= 11/12 facts at 4x and >= 9/12 at 8x on a real session, all invariants held, within budget; "
                  "every dropped fact recoverable by one recall/expand")
    print_notes(console, result["meta"])


def print_notes(console: Any, meta: dict[str, Any]) -> None:
    """The sources measured and what went wrong with the peers, if anything."""
    console.print("sources: " + "; ".join(f"github.com/{r}@{c[:10]}" for r, c in meta["sources"]))
    if meta["peer_note"]:
        console.print(f"note: {meta['peer_note']}")
    for key, err in list(meta["peer_errors"].items())[:5]:
        console.print(f"note: peer {key}: {err[:160]}")
