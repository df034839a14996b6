"""Per provider, through its real SDK: overflow (JSON and in-stream) → compression → success, and
proactive compression that prevents the error altogether."""

from __future__ import annotations

import pytest
from massgen_plugins.guard import Session
from massgen_plugins.guard.check import EMULATOR_MODELS, filled_conversation
from massgen_plugins.runlog import read_run
from massgen_plugins.testing import Fault

pytestmark = pytest.mark.plugins("openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter")  # drives provider plugins end to end

PROVIDERS = sorted(EMULATOR_MODELS)
FAST = {"base_delay": 0.01, "max_delay": 0.05, "max_attempts": 3}


def events(run_dir, type_):
    return [e for e in read_run(run_dir).events if e["type"] == type_]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_reactive_overflow_compresses_and_succeeds(emulator_env, tmp_path, provider):
    model = EMULATOR_MODELS[provider]
    session = Session(model, memory=False, run_log=str(tmp_path / "run"), proactive=False, retry=FAST)
    session.messages = filled_conversation(model, int(8192 * 1.3))
    reply = await session.send("Which modules did you review?")
    assert reply.message.content
    rejected = [r for r in emulator_env.requests_for(provider) if r.status and r.status >= 400]
    assert rejected, "the provider must have rejected the over-full request"
    overflow = events(tmp_path / "run", "overflow")
    assert overflow[0]["mode"] == "reactive" and overflow[0].get("limit") in (8192, None)  # Groq states none
    assert events(tmp_path / "run", "compression")
    session.close()


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_in_stream_overflow_is_detected_and_retried(emulator_env, tmp_path, provider):
    model = EMULATOR_MODELS[provider]
    emulator_env.inject(Fault(kind="stream_error", provider=provider, error_type="overflow", after_events=0))
    session = Session(model, memory=False, run_log=str(tmp_path / "run"), retry=FAST, reserve_output=512)
    stream = [e async for e in session.stream("Say something short.")]
    assert stream[-1].type == "done" and stream[-1].response.message.role == "assistant"
    assert [e["mode"] for e in events(tmp_path / "run", "overflow")] == ["reactive"]
    session.close()


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_proactive_compression_prevents_the_rejection(emulator_env, tmp_path, provider):
    model = EMULATOR_MODELS[provider]
    session = Session(model, memory=False, run_log=str(tmp_path / "run"), context_window=8192, retry=FAST)
    session.messages = filled_conversation(model, int(8192 * 1.3))
    await session.send("Which modules did you review?")
    assert [r for r in emulator_env.requests_for(provider) if r.status and r.status >= 400] == []
    assert events(tmp_path / "run", "overflow")[0]["mode"] == "proactive"
    session.close()
