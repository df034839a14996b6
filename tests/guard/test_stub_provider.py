"""The guard's loop with no provider plugin installed: the stub provider of tests/conftest.py."""

from __future__ import annotations

from massgen_plugins.guard import Session
from massgen_plugins.runlog import read_run
from massgen_plugins.types import Message

NOTE = "Build step {i} compiled module_{i}.py with 0 errors and 3 warnings; the cache was warm. " * 30


def history(n: int) -> list[Message]:
    out = []
    for i in range(n):
        out += [Message(role="user", content=f"Step {i}?"), Message(role="assistant", content=NOTE.format(i=i))]
    return out


async def test_a_turn_through_the_stub_provider(stub_provider, tmp_path):
    session = Session("stub/echo", memory=f"sqlite:///{tmp_path / 'mem.db'}", run_log=str(tmp_path / "run"))
    reply = await session.send("Hello stub")
    assert reply.message.content == "echo: Hello stub"
    assert [m.role for m in session.messages] == ["user", "assistant"]
    session.close()
    resumed = await Session.resume(session.session_id, memory=f"sqlite:///{tmp_path / 'mem.db'}", run_log=False)
    assert [m.content for m in resumed.messages] == [m.content for m in session.messages]


async def test_an_overfull_conversation_is_compressed_and_answered(stub_provider, tmp_path):
    session = Session("stub/tiny-2k", memory=False, run_log=str(tmp_path / "run"), retry={"base_delay": 0.01},
                      context_window=2_048, reserve_output=256)
    session.messages = history(6)
    reply = await session.send("What is the state of the build?", max_tokens=256)
    assert reply.message.content == "echo: What is the state of the build?"
    events = read_run(session._log.path).events
    compressions = [e for e in events if e["type"] == "compression"]
    assert compressions and compressions[-1]["fits"] and compressions[-1]["archived_ids"]
    assert [e for e in events if e["type"] == "call_end"][-1]["outcome"] == "ok"
