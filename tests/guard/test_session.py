"""The guarded Session end to end: real SDKs, real HTTP, the emulator on the other side."""

from __future__ import annotations

import json

import pytest
from massgen_plugins.guard import AllModelsFailedError, ContextOverflowError, Session
from massgen_plugins.runlog import read_run
from massgen_plugins.testing import Fault
from massgen_plugins.types import Message

pytestmark = pytest.mark.plugins("openai")  # drives provider plugins end to end

BIG = "The build log says: step {i} compiled module_{i}.py with 0 errors and 3 warnings. " * 40
FAST_RETRY = {"base_delay": 0.01, "max_delay": 0.05, "max_attempts": 3}


def tool_history(n: int) -> list[Message]:
    """A tool-using history with ``n`` large tool results (about 700 tokens each)."""
    out = []
    for i in range(n):
        call = {"id": f"call_{i}", "type": "function", "function": {"name": "read_log", "arguments": json.dumps({"i": i})}}
        out += [Message(role="user", content=f"Check build step {i}."),
                Message(role="assistant", tool_calls=[call]),
                Message(role="tool", tool_call_id=f"call_{i}", content=BIG.format(i=i)),
                Message(role="assistant", content=f"Step {i} is fine.")]
    return out


def events_of(session: Session, type_: str) -> list[dict]:
    return [e for e in read_run(session._log.path).events if e["type"] == type_]


def rejected(emu) -> list:
    return [r for r in emu.requests if r.status >= 400]


@pytest.fixture
def run_dir(tmp_path):
    return str(tmp_path / "run")


async def test_plain_send_is_acknowledged_logged_and_persisted(emulator_env, run_dir, tmp_path):
    store = f"sqlite:///{tmp_path / 'mem.db'}"
    session = Session("openai/gpt-4o-mini", system="Be brief.", memory=store, run_log=run_dir)
    reply = await session.send("Hello there")
    assert reply.message.role == "assistant" and reply.message.content
    assert [m.role for m in session.messages] == ["system", "user", "assistant"]
    assert session.turn == 1
    calls = events_of(session, "call_end")
    assert len(calls) == 1 and calls[0]["outcome"] == "ok" and calls[0]["usage"]["input_tokens"] > 0
    session.close()
    resumed = await Session.resume(session.session_id, memory=store, run_log=False)
    assert [m.content for m in resumed.messages] == [m.content for m in session.messages]


async def test_reactive_overflow_is_compressed_and_retried(emulator_env, run_dir):
    session = Session("openai/gpt-test-2k", memory=False, run_log=run_dir, retry=FAST_RETRY)
    session.messages = tool_history(4)
    reply = await session.send("Summarise the state of the build.")
    assert reply.message.content
    statuses = [r.status for r in emulator_env.requests if r.path.endswith("/chat/completions")]
    assert statuses[0] == 400 and statuses[-1] == 200
    overflow = events_of(session, "overflow")
    assert overflow[0]["mode"] == "reactive" and overflow[0]["limit"] == 2048
    compression = events_of(session, "compression")
    assert compression and compression[0]["tokens_after"] < compression[0]["tokens_before"]
    # nothing is lost: the masked tool outputs are in the archive
    assert any(BIG.format(i=0) in (a.message.text()) for a in session._archive)
    assert session.messages[-2].content == "Summarise the state of the build."


async def test_proactive_compression_prevents_the_error(emulator_env, run_dir):
    session = Session("openai/gpt-test-2k", memory=False, run_log=run_dir, context_window=2048, retry=FAST_RETRY)
    session.messages = tool_history(4)
    await session.send("What failed?")
    assert rejected(emulator_env) == []
    assert events_of(session, "overflow")[0]["mode"] == "proactive"


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault(kind="rate_limit", provider="openai", times=2, retry_after=0.02), "rate_limit"),
        (Fault(kind="server_error", provider="openai", times=1), "server"),
        (Fault(kind="unavailable", provider="openai", times=1), "server"),
        (Fault(kind="drop", provider="openai", times=1), "connection"),
        (Fault(kind="hang", provider="openai", times=1, seconds=5), "timeout"),
    ],
)
async def test_transient_failures_recover(emulator_env, run_dir, fault, kind):
    emulator_env.inject(fault)
    session = Session("openai/gpt-4o-mini", memory=False, run_log=run_dir,
                      retry={**FAST_RETRY, "timeout": 1.0})
    reply = await session.send("hi")
    assert reply.message.content
    retries = events_of(session, "retry")
    assert retries and {r["kind"] for r in retries} == {kind}
    if fault.kind == "rate_limit":
        assert retries[0]["delay_s"] == pytest.approx(0.02, abs=0.005)  # Retry-After honoured


async def test_exhausted_retries_move_to_the_fallback(emulator_env, run_dir):
    emulator_env.inject(Fault(kind="server_error", provider="openai", model="gpt-4o-mini", times=None))
    session = Session("openai/gpt-4o-mini", fallbacks=["openai/gpt-4o"], memory=False, run_log=run_dir,
                      retry=FAST_RETRY)
    reply = await session.send("hi")
    assert reply.model.endswith("gpt-4o")
    fallback = events_of(session, "fallback")
    assert fallback == [fallback[0]] and fallback[0]["to_model"] == "openai/gpt-4o"
    assert fallback[0]["why"] == "retries_exhausted"


async def test_everything_down_raises_typed_error_and_keeps_the_conversation(emulator_env, run_dir):
    emulator_env.inject(Fault(kind="server_error", provider="openai", times=None))
    session = Session("openai/gpt-4o-mini", fallbacks=["openai/gpt-4o"], system="s", memory=False,
                      run_log=run_dir, retry=FAST_RETRY)
    before = list(session.messages)
    with pytest.raises(AllModelsFailedError) as caught:
        await session.send("hi")
    assert session.messages == before and session.turn == 0
    assert {a.model for a in caught.value.attempts} == {"openai/gpt-4o-mini", "openai/gpt-4o"}


async def test_overflow_everywhere_is_a_context_overflow_error(emulator_env, run_dir):
    session = Session("openai/gpt-test-2k", memory=False, run_log=run_dir, max_compressions_per_turn=1,
                      strategy={"name": "conservative", "stages": ["mask"]}, retry=FAST_RETRY)
    with pytest.raises(ContextOverflowError) as caught:
        await session.send("x " * 3000)
    assert caught.value.limit == 2048
    assert session.messages == []


async def test_stream_retries_after_partial_output_and_keeps_it(emulator_env, run_dir):
    emulator_env.inject(Fault(kind="stream_error", provider="openai", error_type="server_error", times=1))
    session = Session("openai/gpt-4o-mini", memory=False, run_log=run_dir, retry=FAST_RETRY)
    events = [e async for e in session.stream("Tell me a story")]
    types = [e.type for e in events]
    assert "error" in types and types[-1] == "done"
    error = events[types.index("error")]
    assert error.partial  # the text produced before the failure is handed over ...
    assert any(a.stage == "partial-output" and a.message.content == error.partial for a in session._archive)
    assert events[-1].response.message.content  # ... and the retried turn completes


async def test_stream_keeps_reasoning_in_the_partial_output(emulator_env, run_dir):
    # extended thinking streams a thinking block first; the stream then fails mid-answer
    emulator_env.inject(Fault(kind="stream_error", provider="anthropic", error_type="overloaded", times=1,
                              after_events=8))
    session = Session("anthropic/claude-haiku-4-5", memory=False, run_log=run_dir, retry=FAST_RETRY,
                      provider_options={"thinking": {"type": "enabled", "budget_tokens": 1024}})
    events = [e async for e in session.stream("Tell me a story")]
    types = [e.type for e in events]
    assert "reasoning" in types and "error" in types and types[-1] == "done"
    error = events[types.index("error")]
    streamed = "".join(e.delta for e in events[:types.index("error")] if e.type == "reasoning")
    assert streamed and error.reasoning == streamed  # the thinking so far is handed over ...
    [kept] = [a for a in session._archive if a.stage == "partial-output"]
    assert streamed in kept.message.text()  # ... and archived with the partial output
