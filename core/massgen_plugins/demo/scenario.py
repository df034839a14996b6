"""The main job: a multi-agent run that hits every wall and survives it.

Offline by default: the bundled emulator serves all seven providers on 127.0.0.1 and the
official SDKs talk to it over real HTTP. Stages, each verified from the run's own event log:

1. a team of three agents on three providers starts working (tool calls included);
2. two agents read files until their provider rejects the window: OpenAI's is compacted
   natively (``/responses/compact``), Anthropic's is summarised;
3. injected 429 (Retry-After honoured) and 529 faults are retried;
4. OpenAI goes down: the agent falls back to Anthropic, regenerating a portable summary of
   the OpenAI-only compaction item from its archive;
5. a fourth agent in its own process is killed with SIGKILL and resumed from memory;
6. the run analyses its own log (deterministic + an LLM self-analysis) and prints a timeline.

With real keys (``live``) the same stages run on real model ids (``openai/gpt-4o-mini``,
``anthropic/claude-haiku-4-5``, ``gemini/gemini-2.5-flash``) whose windows are capped at
:data:`LIVE_WINDOW` for the run, so the guard compresses proactively after a few turns; the
fault-injection stages (3 and 4) are reported as skipped, since nothing can make a real
provider fail on cue.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..formatting import plural
from ..guard import AgentConfig, RetryPolicy, Session, Team
from ..types import Message

READ_FILE = {"type": "function", "function": {
    "name": "read_file", "description": "Read a file of the repository.",
    "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}}

_RETRY = RetryPolicy(base_delay=0.05, max_delay=0.5, max_attempts=3)

#: Offline: the emulator's small-window models, so the provider itself rejects the overflowing call.
AGENTS = {
    "researcher": AgentConfig(model="openai/gpt-4o-mini-8k", fallbacks=["anthropic/claude-tiny-8k"],
                              system="You are the researcher. Read the code and report findings.",
                              tools=[READ_FILE], proactive=False,
                              strategy={"name": "balanced", "stages": ["native", "summarize", "extract", "truncate"]},
                              retry=_RETRY),
    "analyst": AgentConfig(model="anthropic/claude-tiny-8k", fallbacks=["gemini/gemini-tiny-8k"],
                           system="You are the analyst. Summarise risks precisely.", tools=[READ_FILE],
                           proactive=False,
                           strategy={"name": "balanced", "stages": ["summarize", "extract", "truncate"]},
                           retry=_RETRY),
    "reviewer": AgentConfig(model="gemini/gemini-tiny-8k", fallbacks=["groq/llama-tiny-8k"],
                            system="You are the reviewer. Approve or reject.", strategy="aggressive", retry=_RETRY),
}

#: The window every live agent is capped at for the run: real models have 128k-1M windows, and
#: filling one would be slow and expensive; a capped window makes the guard compress after a few
#: turns, at a cost of cents.
LIVE_WINDOW = 8_192

#: With real keys: real model ids, windows capped at :data:`LIVE_WINDOW`, proactive compression
#: (a real provider would accept far more than the cap, so it never rejects the call itself).
LIVE_AGENTS = {
    "researcher": AgentConfig(model="openai/gpt-4o-mini", fallbacks=["anthropic/claude-haiku-4-5"],
                              system=AGENTS["researcher"].system, tools=[READ_FILE], context_window=LIVE_WINDOW,
                              reserve_output=1_024,
                              strategy={"name": "balanced", "stages": ["native", "summarize", "extract", "truncate"]}),
    "analyst": AgentConfig(model="anthropic/claude-haiku-4-5", fallbacks=["gemini/gemini-2.5-flash"],
                           system=AGENTS["analyst"].system, tools=[READ_FILE], context_window=LIVE_WINDOW,
                           reserve_output=1_024,
                           strategy={"name": "balanced", "stages": ["summarize", "extract", "truncate"]}),
    "reviewer": AgentConfig(model="gemini/gemini-2.5-flash", fallbacks=["openai/gpt-4o-mini"],
                            system=AGENTS["reviewer"].system, strategy="aggressive", context_window=LIVE_WINDOW,
                            reserve_output=1_024),
}

#: What ``demo --live`` needs: each provider it calls and the variables that can hold its key.
LIVE_KEYS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
}

SCRIBE_MODEL = "openai/gpt-4o-mini"
ANALYSIS_MODEL = "openai/gpt-4o-mini"


@dataclass
class StageResult:
    name: str
    ok: bool
    detail: str


@dataclass
class DemoResult:
    run_dir: Path
    stages: list[StageResult] = field(default_factory=list)
    report: Path | None = None
    html: Path | None = None

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.stages)


Say = Callable[[str], None]


def _file(path: str) -> str:
    from ..guard.check import _filler

    return _filler(sum(map(ord, path)) % 997)


async def _tool_turn(session: Session, path: str) -> None:
    """One realistic tool round: ask, let the model call read_file, hand it the file.

    The ``[[call ...]]`` marker makes the emulator call the tool; a real model decides by itself,
    and when it answers without calling, the file is pasted into the next message instead, so
    the conversation grows toward the window either way."""
    reply = await session.send(f"Read {path} and note anything risky. "
                               f'[[call read_file {json.dumps({"path": path})}]]')
    calls = reply.message.tool_calls or []
    if calls:
        await session.send([Message(role="tool", tool_call_id=c.id, content=_file(path)) for c in calls])
    else:
        await session.send(f"Here is {path}; note anything risky:\n{_file(path)}")


def _events(team: Team, *types: str, agent: str | None = None) -> list[dict[str, Any]]:
    from ..runlog import read_run

    return [e for e in read_run(team.log.path).events
            if e["type"] in types and (agent is None or e.get("agent") == agent)]


async def _fill_until_overflow(team: Team, agent: str, say: Say, limit: int = 12) -> list[dict[str, Any]]:
    session = team[agent]
    for index in range(limit):
        await _tool_turn(session, f"src/{agent}/module_{index}.py")
        compressions = _events(team, "compression", agent=agent)
        say(f"{agent}: {plural(index + 1, 'file')} read, {session.count_tokens():,} tokens "
            f"in context")
        if compressions:
            return compressions
    return []


async def run_scenario(emulator: Any, run_dir: Path, say: Say) -> DemoResult:
    """Run every stage; ``emulator`` is the running :class:`~massgen_plugins.testing.Emulator`
    (or ``None`` against real providers, where fault injection is skipped)."""
    from ..testing import Fault

    result = DemoResult(run_dir=run_dir)
    memory = f"sqlite:///{run_dir / 'memory.db'}"
    live = emulator is None
    team = Team(LIVE_AGENTS if live else AGENTS, team="demo", memory=memory, run_dir=run_dir)

    def stage(name: str, ok: bool, detail: str) -> None:
        result.stages.append(StageResult(name, ok, detail))
        say(f"{'✔' if ok else '✘'} {name}: {detail}")

    try:
        # 0 -- what models exist, with which windows (cached for the whole run)
        from ..registry import list_models

        models = list_models(refresh=True)
        providers = sorted({m.provider for m in models})
        stage("model registry", len(providers) == 7 or (live and {"openai", "anthropic", "gemini"} <= set(providers)),
              f"{len(models)} chat models from {len(providers)} providers, windows and prices merged")

        # 1 -- the team starts
        replies = await team.run({"researcher": "We are auditing the payment service. Plan your reading.",
                                  "analyst": "List the risk categories you will track.",
                                  "reviewer": "State your approval criteria."})
        failed = [k for k, v in replies.items() if isinstance(v, BaseException)]
        await team.share("Audit scope: payment service, release 2.4; the freeze starts Friday.")
        stage("team", not failed, "3 agents on openai, anthropic and gemini answered their first turn"
              + (f" (failed: {failed})" if failed else ""))

        # 2 -- fill windows until the providers reject them; compress
        native = await _fill_until_overflow(team, "researcher", say)
        overflows = [e for e in _events(team, "overflow", agent="researcher")
                     if e["mode"] == ("proactive" if live else "reactive")]
        compacted = any(c["stage"] == "native" for c in native)
        if not native:
            detail = "no compaction happened"
        elif live:
            detail = (f"window capped at {LIVE_WINDOW:,} for the run: compressed before the call "
                      f"({native[0]['tokens_before']:,} → {native[0]['tokens_after']:,} tokens, stage "
                      f"{native[0]['stage']})")
        else:
            first = overflows[0] if overflows else {}
            detail = (f"openai rejected {first.get('requested', '?')} tokens > {first.get('limit', '?')}; "
                      "compacted with /responses/compact")
        stage("overflow → native compaction", bool(overflows) and compacted, detail)
        summary = await _fill_until_overflow(team, "analyst", say)
        stage("overflow → summarization", any(c["stage"] == "summarize" for c in summary),
              f"anthropic context summarised: {summary[0]['tokens_before']:,} → {summary[0]['tokens_after']:,} tokens"
              if summary else "no summary happened")

        # 3 -- transient faults are retried
        if emulator is not None:
            emulator.inject(Fault(kind="rate_limit", provider="openai", times=2, retry_after=0.3))
            emulator.inject(Fault(kind="overloaded", provider="anthropic", times=1, retry_after=None))
        await team.run({"researcher": "One-line status, please.", "analyst": "One-line status, please."})
        kinds = sorted({e["kind"] for e in _events(team, "retry")})
        stage("429/529 retried", {"rate_limit", "overloaded"} <= set(kinds) or live,
              f"retries: {', '.join(kinds) or 'none needed'}"
              + (" (no faults are injected into real providers)" if live else ""))

        # 4 -- a provider goes down: fall back across providers (only the emulator can take one down)
        if live:
            stage("fallback across providers", True, "skipped with real providers (needs an injected outage); "
                  "fallbacks stay configured for real failures")
        else:
            emulator.inject(Fault(kind="server_error", provider="openai", times=None))
            await team["researcher"].send("Give me your three most important findings so far.")
            moved = _events(team, "fallback", agent="researcher")
            portable = [e for e in _events(team, "note", agent="researcher") if "portable" in e.get("message", "")]
            stage("fallback across providers", bool(moved) and bool(portable),
                  f"{moved[0]['from_model']} → {moved[0]['to_model']} ({moved[0]['why']}); "
                  f"{'portable summary regenerated from the archive' if portable else 'no compaction to port'}"
                  if moved else "no fallback happened")
            emulator.clear_faults()

        # 5 -- kill -9 an agent's process, resume it from memory
        stage("kill -9 and resume", *(await _crash_and_resume(team, memory, say)))
    except BaseException as exc:  # Ctrl-C (cancellation) or a failure: the run log says which
        from ..runlog.lifecycle import exit_status

        team.close(exit_status(exc), error=exc)
        raise
    team.close("ok")
    return result


async def _crash_and_resume(team: Team, memory: str, say: Say) -> tuple[bool, str]:
    env = dict(os.environ)
    process = subprocess.Popen([sys.executable, "-m", "massgen_plugins.demo.worker", memory, "demo-scribe",
                                SCRIBE_MODEL], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    acked = 0
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("ack "):
            acked = int(line.split()[1])
            say(f"scribe (pid {process.pid}): turn {acked} acknowledged")
        if acked >= 3:
            break
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    if acked == 0:
        return False, f"the scribe never acknowledged a turn: {(process.stderr.read() if process.stderr else '')[-300:]}"
    team.log.event("note", agent="scribe", message=f"scribe process {process.pid} killed with SIGKILL after "
                   f"{acked} acknowledged turns")
    resumed = await Session.resume("demo-scribe", memory=memory, run_log=team.log)
    survived = resumed.turn
    team.log.event("note", agent="scribe", message=f"scribe resumed from memory at turn {survived} "
                   f"({len(resumed.messages)} messages restored)")
    await resumed.send("We restarted. What was the last decision you recorded?")
    ok = survived >= acked and resumed.turn == survived + 1
    return ok, f"killed after {acked} acknowledged turns; resumed at turn {survived} with nothing lost"
