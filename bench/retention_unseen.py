"""Retention on the unseen real sessions: task facts kept at 2x, 4x and 8x, beside the peers.

Part of ``bench/retention.py`` (``--real --unseen``). Scores :mod:`real_sessions_unseen`'s three
hold-out sessions, **unseen A** and **unseen B** (EnIGMA and NYU-baseline CTF runs, Moatless
Tools SWE-bench runs; a dozen runs each, ~56k and ~59k tokens, 12 facts each) and **unseen C**
(Gemini CLI CTF chats, SWE-agent 1.x ``str_replace_editor`` SWE-bench runs, aider sessions;
a dozen runs, ~81k tokens, 15 facts) and **unseen D** (InterCode-CTF GPT-4 runs, AutoCodeRover's
GPT-4 SWE-bench runs, OpenHands CodeAct Multi-SWE-bench runs; a dozen runs, ~63k tokens, 13 facts),
each in tool-call and in text-action form, with the methods, budgets and table
of :mod:`retention_real`: this project's chain offline (balanced, aggressive, conservative), keep-last, LangChain
``trim_messages`` and MassGen's ``ContextCompressor`` (the last two with ``--peer-python``).

Besides "back by one ``expand``" it measures, for this project's chain, **dropped facts back by
one ``recall(query)``**, the query being the session's last user turn (the final question): the
archive compression returned is written to a real SQLite memory store in a temporary directory
(``MemoryStore.append_turn(..., archived=...)``, as a guarded session persists it), and the
guard's own ``recall`` tool answers the query over it (``MemoryStore.recall``, five hits, each
cut to 2,000 characters) -- a fact counts as back when its text is in that answer.

The facts that this project's balanced and aggressive strategies dropped at 4x and 8x are listed
(run and fact) for sessions A, C and D; B is printed as numbers only.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import real_sessions as rs
import real_sessions_unseen as unseen
import retention_real
from massgen_plugins.guard.tools import recall_tool
from retention_real import MODEL, RATIOS, aggregate

SESSION_NAMES = tuple(f"unseen {w}, {form}" for w in "ABCD" for form in ("tool calls", "text actions"))
LISTED = ("A", "C", "D")  # sessions whose dropped facts are listed by run and fact; B is numbers only


def sessions(root: str) -> list[tuple[str, rs.RealSession]]:
    out = []
    for which in "ABCD":
        for text_actions in (False, True):
            session = unseen.unseen_session(root, which, text_actions=text_actions)
            out.append((session.name, session))
    return out


def recall_answer(archive: list[Any], query: str) -> str:
    """What one call of a guarded session's ``recall`` tool answers for ``query`` when ``archive``
    is what compression archived (kept in a fresh SQLite memory store): the session's own
    ``recall``, formatted by the tool."""
    from massgen_plugins import Session
    from massgen_plugins.memory import open_store

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(os.path.join(tmp, "memory.db"))
        try:
            store.append_turn("unseen-bench", [{"role": "user", "content": query}], turn=1, archived=archive)
            session = Session("openai/gpt-4o", memory=store, run_log=False, session_id="unseen-bench")
            return asyncio.run(recall_tool(session.recall).handler({"query": query}))
        finally:
            store.close()


def recall_row(session: rs.RealSession, out: list[dict[str, Any]], archive: list[Any]) -> dict[str, Any]:
    """The facts ``out`` dropped, and how many of them one ``recall(final question)`` brings back."""
    kept = set(rs.kept(session.facts, out))
    dropped = [f for f in session.facts if f not in kept]
    answer = recall_answer(archive, session.messages[-1]["content"]) if archive and dropped else ""
    return {"dropped_facts": [(f.run, f.kind, f.key) for f in dropped],
            "recalled": sum(1 for f in dropped if f.key in answer)}


def run(root: str, peer_python: str | None) -> dict[str, Any]:
    return retention_real.run(root, peer_python, found=sessions(root), extra=recall_row)


def print_tables(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=200)
    rows = result["rows"]
    sizes = {n: (msgs, tokens, facts) for n, msgs, tokens, facts in result["meta"]["sessions"]}
    for name in SESSION_NAMES:
        msgs, tokens, facts = sizes[name]
        table = Table(title=f"Task facts kept · {name} · {msgs} messages, {tokens:,} tokens, {facts} facts · "
                            f"{MODEL} · offline (no API key)")
        table.add_column("method")
        for ratio in RATIOS:
            table.add_column(f"{ratio}×", justify="right")
        table.add_column("valid, fits (all ratios)")
        table.add_column("8×: dropped back by one expand", justify="right")
        table.add_column("4× / 8×: dropped back by one recall(final question)", justify="right")
        for label, cases in rows.items():
            every = [aggregate(cases, name, r) for r in RATIOS]
            cells = [f"{a['kept']}/{a['facts']}" + (" (cannot fit)" if a["cannot_fit"] else "") for a in every]
            ok = "yes" if all(a["valid"] and a["fits"] for a in every) else (
                "NO: " + ", ".join(f"{r}× " + ("invalid" if not a["valid"] else "over budget")
                                   for r, a in zip(RATIOS, every, strict=True) if not (a["valid"] and a["fits"])))
            ourrow = label.startswith("ours")
            at8 = every[-1]
            expand_cell = (f"{at8['recoverable']}/{at8['dropped']}" if at8["dropped"] else "nothing dropped") \
                if ourrow else "no archive"
            recall_cell = " / ".join(
                f"{cases[f'{name}@{r}'].get('recalled', 0)}/{a['dropped']}" if a["dropped"] else "-"
                for r, a in zip(RATIOS, every, strict=True) if r in (4, 8)) if ourrow else "no archive"
            table.add_row(label, *cells, ok, expand_cell, recall_cell)
        console.print(table)
    console.print("bar: >= 11/12 facts at 4x and >= 9/12 at 8x on a held-back real session, all invariants held, "
                  "within budget; every dropped fact recoverable by one recall/expand")
    for name in (n for n in SESSION_NAMES if n.split(",")[0][-1] in LISTED):
        for label in ("ours: balanced", "ours: aggressive"):
            for ratio in (4, 8):
                row = rows[label].get(f"{name}@{ratio}", {})
                for run_name, kind, key in row.get("dropped_facts", []):
                    console.print(f"dropped by {label} · {name} @ {ratio}× · {run_name}: {kind} {key}")
    retention_real.print_notes(console, result["meta"])
