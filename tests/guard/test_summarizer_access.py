"""The summarizer a guarded session calls uses the session's credentials and retry policy: a key
given only in code (``Session(api_keys=...)``), the session's ``retry`` settings."""

from __future__ import annotations

import pytest
from massgen_plugins.compression.summarize import SYSTEM_PROMPT
from massgen_plugins.guard import Session
from massgen_plugins.runlog import read_run
from massgen_plugins.testing import Fault

from .test_session import tool_history

pytestmark = pytest.mark.plugins("anthropic")  # drives provider plugins end to end

MODEL = "anthropic/claude-haiku-4-5-20251001"
SUMMARIZE_ONLY = {"name": "balanced", "stages": ["summarize"], "keep_recent_tokens": 200}


def summarizer_posts(emu) -> list:
    return [r for r in emu.requests if r.path.endswith("/v1/messages") and SYSTEM_PROMPT[:40] in str(r.body)]


def session_with_key_in_code(emu, monkeypatch, tmp_path, **kwargs) -> Session:
    key = emu.env()["ANTHROPIC_API_KEY"]
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    return Session(MODEL, api_keys={"anthropic": key}, memory=False, run_log=str(tmp_path / "run"),
                   context_window=3000, strategy=SUMMARIZE_ONLY, **kwargs)


async def test_the_summarizer_uses_a_key_given_only_in_code(emulator_env, monkeypatch, tmp_path):
    session = session_with_key_in_code(emulator_env, monkeypatch, tmp_path, retry={"base_delay": 0.01})
    session.messages = tool_history(4)
    reply = await session.send("What failed?")
    assert reply.message.content
    assert summarizer_posts(emulator_env), "the summarizer was never called"
    stages = [e["stage"] for e in read_run(tmp_path / "run").events if e["type"] == "compression"]
    assert stages == ["summarize"]


async def test_the_summarizer_retries_under_the_session_policy(emulator_env, monkeypatch, tmp_path):
    # four failures in a row: more than any fixed retry count below five survives
    emulator_env.inject(Fault(kind="overloaded", provider="anthropic", times=4, retry_after=None))
    session = session_with_key_in_code(emulator_env, monkeypatch, tmp_path,
                                       retry={"base_delay": 0.01, "max_delay": 0.02, "max_attempts": 6})
    session.messages = tool_history(4)
    await session.send("What failed?")
    statuses = [r.status for r in summarizer_posts(emulator_env)]
    assert statuses[:4] == [529] * 4 and statuses[4] == 200


@pytest.mark.plugins("openai")
async def test_native_compaction_uses_a_key_given_only_in_code(emulator_env, monkeypatch, tmp_path):
    key = emulator_env.env()["OPENAI_API_KEY"]
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    session = Session("openai/gpt-4o-mini-8k", api_keys={"openai": key}, memory=False, run_log=str(tmp_path / "run"),
                      proactive=False, retry={"base_delay": 0.01, "max_delay": 0.05, "max_attempts": 2},
                      strategy={"name": "balanced", "stages": ["native"]})
    filler = "The payment service module {i} validates card numbers, retries declined charges and logs audit rows. "
    for i in range(40):
        await session.send(f"Read module {i}. " + filler.format(i=i) * 12)
        if any(e.stage == "native" for e in session._archive):
            break
    compacts = [r for r in emulator_env.requests if r.path.endswith("/responses/compact")]
    assert compacts and compacts[-1].status == 200, [r.status for r in compacts]
    assert any(e.stage == "native" for e in session._archive)
    session.close()
