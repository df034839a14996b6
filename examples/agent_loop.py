"""A tool-calling agent loop on a guarded ``Session``: the companion of docs/guide/agent-loop.md.

    python examples/agent_loop.py                # offline: starts the bundled provider emulator
    python examples/agent_loop.py --live         # the same code on real providers (OPENAI_API_KEY,
                                                 # ANTHROPIC_API_KEY), a few cents at most
    python examples/agent_loop.py --dir DIR      # keep the memory store and run log in DIR

It walks through five things an agent needs from the guard and prints one line for each:

1. a tool-calling loop (the model asks for files, the loop runs the tool, the model answers);
2. session ids and resume (a fresh ``Session`` object continues the same conversation, as after
   a crash or a restart);
3. recall (a small window forces compression; what was compressed away is found again);
4. fallbacks (the primary provider fails; the guard moves to the next model);
5. reading the run log (every call, compression and fallback is an event).

Offline, the emulator stands in for OpenAI and Anthropic: its models call a tool when a message
contains ``[[call NAME {json arguments}]]``, and it can be told to fail. A real model decides by
itself when to call ``read_file``; the loop is the same.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from massgen_plugins import Message, Session
from massgen_plugins.runlog import RunLog, read_run, summarize_run

MODEL = "openai/gpt-4o-mini"
FALLBACK = "anthropic/claude-haiku-4-5"
SESSION_ID = "agent-loop-example"

# the "repository" our tool reads; one file carries a fact we will want back after compression
FILES = {
    f"src/service_{i}.py": "\n".join(
        f"def handler_{i}_{n}(request_id='REQ-{i:03d}-{n:03d}'):  return route(request_id, shard={n % 7})"
        for n in range(50)) for i in range(6)
}
FILES["src/service_1.py"] += "\n# NOTE: the deploy key rotates on 2026-03-01, tracked in ticket OPS-4411"

READ_FILE = {"type": "function", "function": {
    "name": "read_file", "description": "Read a file of the repository.",
    "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}}


def read_file(path: str) -> str:
    """The tool itself: plain Python, run by the loop, never by the guard."""
    return FILES.get(path, f"error: no file {path!r}")


async def run_tools(session: Session, task: str) -> tuple[Any, int]:
    """The agent loop: send, run every tool call the model makes, send the results, repeat."""
    reply = await session.send(task)
    calls = 0
    while reply.message.tool_calls:
        results = []
        for call in reply.message.tool_calls:
            arguments = json.loads(call.function.get("arguments") or "{}")  # OpenAI format: a JSON string
            results.append(Message(role="tool", tool_call_id=call.id, content=read_file(arguments.get("path", ""))))
            calls += 1
        reply = await session.send(results)  # tool results go back in one turn, paired with their calls
    return reply, calls


def ask(path: str, live: bool) -> str:
    """A task that makes the model read ``path`` (the marker is for the emulator only)."""
    marker = "" if live else f' [[call read_file {json.dumps({"path": path})}]]'
    return f"Read {path} with the read_file tool and tell me what it routes.{marker}"


async def main(directory: Path, live: bool, emulator: Any = None) -> None:
    memory = f"sqlite:///{directory / 'memory.db'}"
    run_dir = directory / "run"
    config = {"fallbacks": [FALLBACK], "tools": [READ_FILE], "system": "You review code. Be brief.",
              # a small window for the example, so compression happens after a few files
              "context_window": 4_096, "reserve_output": 512,
              "retry": {"max_attempts": 2, "base_delay": 0.05, "max_delay": 0.2}}

    # one run log for the whole program; a restarted process would reopen it with RunLog.open(run_dir)
    with RunLog.create(run_dir, title="agent loop example") as log:
        await steps(memory, log, config, live, emulator)

    # 5 -- the run log: every decision is an event
    run = read_run(run_dir)
    kinds = Counter(e["type"] for e in run.events)
    summary = summarize_run(run.events, run.meta)
    shown = ", ".join(f"{kind} ×{kinds[kind]}" for kind in ("call_end", "compression", "retry", "fallback")
                      if kinds[kind])
    print(f"5. run log: {len(run.events)} events ({shown}); {summary['calls']['total']} calls, "
          f"{summary['tokens']['input']:,} input tokens")
    print(f"   see it with: massgen-plugins logs summary {run_dir}")


async def steps(memory: str, log: RunLog, config: dict[str, Any], live: bool, emulator: Any) -> None:
    # 1 -- a tool-calling loop
    session = Session(MODEL, session_id=SESSION_ID, memory=memory, run_log=log, **config)
    reply, calls = await run_tools(session, ask("src/service_0.py", live))
    print(f"1. tool loop: {calls} tool call{'s' if calls != 1 else ''} answered; the model said: "
          f"{(reply.message.content or '')[:60]!r}")

    # 2 -- session ids and resume: a new object, the same conversation
    turns = session.turn
    session.close()
    session = await Session.resume(SESSION_ID, memory=memory, run_log=log)
    print(f"2. resume: {SESSION_ID} reopened at turn {session.turn} (was {turns}) with "
          f"{len(session.messages)} messages")

    # 3 -- recall: read more files until the small window forces compression, then look back
    for path in ("src/service_1.py", "src/service_2.py", "src/service_3.py", "src/service_4.py"):
        await run_tools(session, ask(path, live))
    hits = await session.recall("OPS-4411 deploy key")
    archived = [h for h in hits if h["source"] == "archive" and "OPS-4411" in h["text"]]
    print(f"3. recall: {len(archived)} archived message{'s' if len(archived) != 1 else ''} mention OPS-4411 "
          "after compression "
          f"(turn {session.turn}, {len(session.messages)} messages in context)")

    # 4 -- fallbacks: the primary provider goes down for this turn
    if emulator is not None:
        from massgen_plugins.testing import Fault

        emulator.inject(Fault(kind="server_error", provider="openai", times=None))
    reply = await session.send("One line: what is the riskiest thing you have read?")
    if emulator is not None:
        emulator.clear_faults()
    print(f"4. fallback: the turn was answered by {reply.model}")
    session.close()


@contextlib.contextmanager
def offline() -> Iterator[Any]:
    """Start the bundled emulator and point the OpenAI and Anthropic SDKs at it."""
    from massgen_plugins.testing import Emulator

    saved = dict(os.environ)
    with Emulator() as emulator:
        os.environ.update(emulator.env())
        try:
            yield emulator
        finally:
            os.environ.clear()
            os.environ.update(saved)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--live", action="store_true", help="use real providers and your API keys")
    parser.add_argument("--dir", type=Path, default=None, help="where to keep the memory store and the run log")
    args = parser.parse_args()
    where = args.dir or Path(tempfile.mkdtemp(prefix="agent-loop-"))
    where.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        emu = None if args.live else stack.enter_context(offline())
        asyncio.run(main(where, args.live, emu))
