"""A guarded Session on PostgreSQL through the emulator: a NUL byte in the conversation (which
PostgreSQL refuses in text columns) must not fail the turn after the model call was paid for."""

from __future__ import annotations

import json

from massgen_plugins import Session
from massgen_plugins.types import Message

BIG = "The build log of step {i}: compiled module_{i}.py, 0 errors, marker \x00 in the output. " * 40


def _tool_history(n: int) -> list[Message]:
    out = []
    for i in range(n):
        call = {"id": f"call_{i}", "type": "function", "function": {"name": "read_log", "arguments": json.dumps({"i": i})}}
        out += [Message(role="user", content=f"Check build step {i}."), Message(role="assistant", tool_calls=[call]),
                Message(role="tool", tool_call_id=f"call_{i}", content=BIG.format(i=i)),
                Message(role="assistant", content=f"Step {i} is fine.")]
    return out


async def test_nul_bytes_survive_a_postgres_session_with_compression(emulator_env, new_url):
    url = new_url()
    session = Session("openai/gpt-test-2k", memory=url, run_log=False, session_id="nul",
                      retry={"base_delay": 0.01, "max_delay": 0.05, "max_attempts": 3})
    session.messages = _tool_history(4)
    reply = await session.send("What did step 0 print? \x00")
    assert reply.message.content and session.turn == 1
    assert session._archive, "the large tool results were compressed and archived"
    calls = [r for r in emulator_env.requests if r.path.endswith("/chat/completions") and r.status == 200]
    assert len(calls) == 1  # paid for once, and persisted
    resumed = await Session.resume("nul", memory=url, run_log=False)
    assert resumed.turn == 1 and resumed.messages[-2].content == "What did step 0 print? \x00"
    assert any(BIG.format(i=0) == e.message.content for e in resumed._archive)
    hits = await resumed.recall("compiled module_0")
    assert hits and hits[0]["source"] == "archive"
    assert (await resumed.send("next")).message.content and resumed.turn == 2


async def test_the_store_password_never_reaches_the_run_log(emulator_env, new_url, tmp_path):
    # the test server trusts local connections, so any password is accepted and must be masked
    url = new_url().replace("postgresql://massgen@", "postgresql://massgen:Pg-Pass-7391-secret@")
    run_dir = tmp_path / "run"
    async with Session("openai/gpt-4o-mini", memory=url, run_log=str(run_dir), session_id="pw") as session:
        await session.send("hello")
        await session.remember("the deploy window is Friday")
    written = "".join(p.read_text(errors="replace") for p in run_dir.rglob("*") if p.is_file())
    assert "memory_write" in written  # the events that name the store were written
    assert "Pg-Pass-7391-secret" not in written
    assert "postgresql://massgen:[REDACTED]@" in written
