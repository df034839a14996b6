"""Crash and resume (a real process killed with SIGKILL mid-session), teams, the sync facade."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from massgen_plugins.guard import AgentConfig, Session, Team
from massgen_plugins.memory import open_store
from massgen_plugins.runlog import read_run

pytestmark = pytest.mark.plugins("openai")  # drives provider plugins end to end

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from massgen_plugins import Session

    async def main(store, session_id):
        session = Session("openai/gpt-4o-mini", system="Count with me.", session_id=session_id,
                          memory=store, run_log=False)
        for i in range(1000):
            await session.send(f"number {i}")
            print(f"ack {session.turn}", flush=True)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


@pytest.mark.slow
def test_kill_9_mid_session_then_resume_loses_nothing(emulator_env, tmp_path):
    store = f"sqlite:///{tmp_path / 'memory.db'}"
    process = subprocess.Popen([sys.executable, "-c", WRITER, store, "crashy"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    acked = 0
    for line in process.stdout:
        acked = int(line.split()[1])
        if acked >= 7:
            break
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert acked >= 7, process.stderr.read()

    resumed = asyncio.run(Session.resume("crashy", memory=store, run_log=False))
    assert resumed.turn >= acked  # every acknowledged turn survived (one more may have landed)
    users = [m.content for m in resumed.messages if m.role == "user"]
    assert users == [f"number {i}" for i in range(resumed.turn)]
    assert resumed.messages[0].content == "Count with me."
    assert [m.role for m in resumed.messages[1:]] == ["user", "assistant"] * resumed.turn
    reply = asyncio.run(resumed.send("and now?"))
    assert reply.message.content and resumed.turn == len(users) + 1


async def test_team_agents_run_concurrently_without_cross_talk(emulator_env, tmp_path):
    team = Team(
        {"planner": AgentConfig(model="openai/gpt-4o-mini", system="You plan."),
         "coder": AgentConfig(model="openai/gpt-4o", system="You code.", strategy="aggressive")},
        team="t1", memory=f"sqlite:///{tmp_path / 'team.db'}", run_dir=str(tmp_path / "run"),
    )
    results = await team.run({"planner": "Plan the release", "coder": "Write the patch"})
    assert all(not isinstance(r, BaseException) for r in results.values())
    planner, coder = team["planner"], team["coder"]
    assert "Write the patch" not in str([m.content for m in planner.messages])
    assert "Plan the release" not in str([m.content for m in coder.messages])
    # shared team memory: what one agent stores, the other recalls
    await team.share("The release branch is release/2.4 and the freeze is on Friday.")
    hits = await coder.recall("release branch freeze")
    assert any("release/2.4" in h["text"] for h in hits)
    team.close()
    events = read_run(tmp_path / "run").events
    assert {e.get("agent") for e in events if e["type"] == "call_end"} == {"planner", "coder"}
    assert events[-1]["type"] == "run_end"


def test_sync_facade(emulator_env, tmp_path):
    with Session("openai/gpt-4o-mini", memory=False, run_log=False).sync() as session:
        reply = session.send("hello")
        assert reply.message.content
        events = list(session.stream("again"))
        assert events[-1].type == "done" and any(e.type == "text" for e in events)
        assert [m.role for m in session.messages] == ["user", "assistant", "user", "assistant"]


async def test_recall_finds_compressed_away_detail(emulator_env, tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    session = Session("openai/gpt-test-2k", memory=store, run_log=False, retry={"base_delay": 0.01})
    await session.send("The deploy key id is KEY-77312 and it rotates on the 3rd. " + "filler text " * 300)
    await session.send("Now something else entirely. " * 200)
    assert session._archive, "the first turn had to be compressed away"
    hits = await session.recall("deploy key id")
    assert any("KEY-77312" in h["text"] for h in hits)
    assert hits[0]["source"] == "archive"


async def test_the_model_can_recall_archived_detail_itself(emulator_env, tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    session = Session("openai/gpt-test-2k", memory=store, run_log=False, recall_tool=True,
                      retry={"base_delay": 0.01})
    await session.send("The staging database password rotates on day 12; ticket OPS-4411. " + "filler text " * 300)
    await session.send("Now something else entirely. " * 200)
    assert session._archive
    reply = await session.send('What was the ticket? [[call recall {"query": "staging database ticket"}]]')
    assert reply.message.content  # the recall call was answered inside the turn, then the model replied
    tool_results = [m for m in session.messages if m.role == "tool"]
    assert tool_results and "OPS-4411" in tool_results[-1].content


async def test_relevant_long_term_memories_are_injected_at_start(emulator_env, tmp_path):
    url = f"sqlite:///{tmp_path / 'lt.db'}"
    first = Session("openai/gpt-4o-mini", memory=url, run_log=False, user="alice")
    await first.remember("Alice prefers answers in metric units.", scope="user")
    await first.remember("Alice's cluster is named orion-7.", scope="user")
    later = Session("openai/gpt-4o-mini", memory=url, run_log=False, user="alice", memory_tokens=200)
    await later.send("Which cluster am I on, in metric units please?")
    injected = [m for m in later.messages if m.role == "system" and "long-term memories" in (m.content or "")]
    assert injected and "orion-7" in injected[0].content
    bob = Session("openai/gpt-4o-mini", memory=url, run_log=False, user="bob", memory_tokens=200)
    await bob.send("Which cluster am I on?")
    assert not any("orion-7" in (m.content or "") for m in bob.messages if m.role == "system")


async def test_recall_brings_back_what_an_archived_tool_call_did(tmp_path):
    """An assistant turn that only called a tool has no text: recall must still show the call
    (a submitted flag, an edited path), not an empty hit."""
    store = open_store(f"sqlite:///{tmp_path / 'calls.db'}")
    call = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "submit", "arguments": '{"flag": "flag{r3c4ll_m3}"}'}}]}
    store.append_turn("ctf-1", [{"role": "user", "content": "Capture the flag."}], turn=1, archived=[
        {"id": "m-1", "message": call, "replaced_by": "x", "stage": "extract"},
        {"id": "m-2", "message": {"role": "tool", "tool_call_id": "c1", "content": "Correct!"},
         "replaced_by": "x", "stage": "extract"}])
    session = Session("openai/gpt-4o-mini", memory=store, run_log=False, session_id="ctf-1")
    hits = await session.recall("submit flag")
    assert any('called submit({"flag": "flag{r3c4ll_m3}"})' in h["text"] for h in hits), hits
    store.close()
