"""Every provider × every injected fault: the turn ends in success or a typed error, never a
hang, never a corrupted conversation."""

from __future__ import annotations

import asyncio

import pytest
from massgen_plugins.compression.invariants import validate_conversation
from massgen_plugins.guard import GuardError, Session
from massgen_plugins.testing import Fault
from massgen_plugins.testing.spec import STREAM_ONLY_KINDS
from massgen_plugins.types import Message

pytestmark = pytest.mark.plugins("openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter")  # drives provider plugins end to end

MODELS = {
    "openai": "openai/gpt-4o-mini",
    "anthropic": "anthropic/claude-haiku-4-5-20251001",
    "gemini": "gemini/gemini-2.5-flash",
    "groq": "groq/llama-3.3-70b-versatile",
    "xai": "xai/grok-3-mini",
    "nebius": "nebius/meta-llama/Llama-3.3-70B-Instruct",
    "openrouter": "openrouter/openai/gpt-4o-mini",
}
# faults a retry (or compression, or a smaller output reserve) must get past
RECOVERABLE = {"rate_limit", "server_error", "unavailable", "overloaded", "hang", "drop", "truncated_stream",
               "stream_error", "overflow", "output_cap", "http200_error", "malformed"}
# faults no retry can fix: a typed error, the conversation untouched
FATAL = {"quota", "payload_too_large"}
KINDS = sorted(RECOVERABLE | FATAL)
HANG_BUDGET = 90  # seconds: generous; only there to turn a hang into a failure instead of a stuck run


def _cases():
    for provider, model in MODELS.items():
        for kind in KINDS:
            if kind == "http200_error" and provider not in ("openrouter", "anthropic", "gemini"):
                continue
            yield pytest.param(provider, model, kind, id=f"{provider}-{kind}")


@pytest.mark.slow
@pytest.mark.parametrize(("provider", "model", "kind"), list(_cases()))
async def test_fault(emulator_env, provider, model, kind):
    from massgen_plugins.providers import installed_providers

    if provider not in installed_providers():
        pytest.fail(f"provider plugin {provider!r} is not installed (pip install -r requirements-dev.txt)")
    emulator_env.inject(Fault(kind=kind, provider=provider, times=1, seconds=5, retry_after=0.01))
    session = Session(model, system="You are terse.", memory=False, run_log=False,
                      retry={"base_delay": 0.01, "max_delay": 0.05, "max_attempts": 3, "timeout": 2.0})
    before = list(session.messages)
    stream = kind in STREAM_ONLY_KINDS

    async def turn():
        if stream:
            return [e async for e in session.stream("status?")][-1].response
        return await session.send("status?")

    try:
        reply = await asyncio.wait_for(turn(), timeout=HANG_BUDGET)
    except GuardError as exc:
        assert kind not in RECOVERABLE, f"{kind} should have been recovered: {exc}"
        assert session.messages == before and session.turn == 0
        return
    assert kind not in FATAL, f"{kind} cannot be recovered from, yet the turn succeeded"
    assert reply.message.role == "assistant"
    # a real answer, not an error body read as an empty reply (and persisted as ``assistant: None``)
    assert reply.message.content or reply.message.tool_calls
    assert session.messages[: len(before)] == before
    assert [m.role for m in session.messages[len(before):]] == ["user", "assistant"]
    # the conversation stays valid for the provider: the next user turn can follow directly
    validate_conversation([*session.messages, Message(role="user", content="next")], provider)


@pytest.mark.slow
@pytest.mark.parametrize("header", ["abc", "0.5, 3"])
@pytest.mark.parametrize(("provider", "model"), [(p, m) for p, m in MODELS.items() if p != "gemini"],
                         ids=[p for p in MODELS if p != "gemini"])
async def test_unparseable_retry_after(emulator_env, provider, model, header):
    """A 429 whose ``retry-after`` cannot be read is retried after the backoff (Gemini states its
    waits in ``RetryInfo``, not in a header)."""
    emulator_env.inject(Fault(kind="rate_limit", provider=provider, times=1, retry_after=None,
                              headers={"retry-after": header}, message="Rate limit reached; slow down."))
    session = Session(model, memory=False, run_log=False,
                      retry={"base_delay": 0.01, "max_delay": 0.05, "max_attempts": 3, "max_retry_after": 1.0})
    reply = await asyncio.wait_for(session.send("status?"), timeout=HANG_BUDGET)
    assert reply.message.content
    assert [r.status for r in emulator_env.requests_for(provider) if r.method == "POST"][:2] == [429, 200]
