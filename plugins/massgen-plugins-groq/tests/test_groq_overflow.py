"""Overflow detection and error classification on what the real groq SDK raises against the
emulator: ``code=None`` with the code in ``e.body['error']['code']`` (JSON and in-stream), and the
near misses (429 TPM, quota, output cap, 413 TPM "Request too large", 5xx)."""

from __future__ import annotations

import pytest
from massgen_plugins import detect_overflow
from massgen_plugins.testing import Fault
from massgen_plugins.types import CompletionRequest, ErrorKind, Message

TINY = "groq/llama-tiny-8k"
LLAMA = "groq/llama-3.3-70b-versatile"


async def _fail(hooks, settings, request, stream=False):
    with pytest.raises(Exception) as caught:
        if stream:
            async for _ in hooks.stream(request, settings):
                pass
        else:
            await hooks.complete(request, settings)
    return caught.value


def _hello(model=LLAMA):
    return CompletionRequest(model=model, messages=[Message(role="user", content="hello there")])


async def test_context_length_exceeded_from_the_body_code(emulator_env, settings, hooks):
    words = " ".join(f"w{i % 97}" for i in range(10_000))
    error = await _fail(hooks, settings, CompletionRequest(
        model=TINY, max_tokens=100, messages=[Message(role="user", content=words)]))
    assert type(error).__name__ == "BadRequestError"
    assert getattr(error, "code", None) is None and error.body["error"]["code"] == "context_length_exceeded"
    overflow = detect_overflow(error, model=TINY)
    assert overflow is not None and overflow.provider == "groq" and overflow.in_stream is False
    assert overflow.matched_by == "structure:body.error.code=context_length_exceeded"
    assert overflow.code == "context_length_exceeded" and overflow.status == 400
    info = hooks.classify_error(error, "groq").value
    assert info.kind is ErrorKind.OVERFLOW and not info.retryable


async def test_in_stream_overflow(emulator_env, settings, hooks):
    emulator_env.inject(Fault(kind="stream_error", provider="groq", error_type="overflow"))
    error = await _fail(hooks, settings, CompletionRequest(
        model=LLAMA, messages=[Message(role="user", content="a long story please")]), stream=True)
    assert type(error).__name__ == "APIError"
    overflow = detect_overflow(error, model=LLAMA)
    assert overflow is not None and overflow.in_stream is True and overflow.code == "context_length_exceeded"


async def test_tpm_rate_limit_is_not_overflow(emulator_env, settings, hooks):
    emulator_env.inject(Fault(kind="rate_limit", provider="groq", retry_after=0.5))
    error = await _fail(hooks, settings, _hello())
    assert detect_overflow(error, model=LLAMA) is None
    info = hooks.classify_error(error, "groq").value
    assert info.kind is ErrorKind.RATE_LIMIT and info.retryable and info.retry_after == pytest.approx(0.5)


async def test_quota_is_not_overflow(emulator_env, settings, hooks):
    emulator_env.inject(Fault(kind="quota", provider="groq"))
    error = await _fail(hooks, settings, _hello())
    assert detect_overflow(error, model=LLAMA) is None
    info = hooks.classify_error(error, "groq").value
    assert info.kind in (ErrorKind.QUOTA, ErrorKind.RATE_LIMIT)
    assert info.kind is not ErrorKind.OVERFLOW


async def test_output_cap_is_not_overflow(emulator_env, settings, hooks):
    error = await _fail(hooks, settings, CompletionRequest(
        model=TINY, max_tokens=100_000, messages=[Message(role="user", content="hi")]))
    assert error.status_code == 400
    assert detect_overflow(error, model=TINY) is None
    assert hooks.classify_error(error, "groq").value.kind is ErrorKind.OUTPUT_CAP


TPM_413 = {"error": {
    "message": "Request too large for model `llama-3.3-70b-versatile` in organization `org_01emulator` service tier "
               "`on_demand` on tokens per minute (TPM): Limit 6000, Requested 6294, please reduce your message size "
               "and try again. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing",
    "type": "tokens", "code": "rate_limit_exceeded"}}


async def test_413_tpm_request_too_large_is_a_rate_limit_not_overflow(emulator_env, settings, hooks):
    emulator_env.inject(Fault(kind="custom", provider="groq", status=413, body=TPM_413))
    error = await _fail(hooks, settings, _hello())
    assert error.status_code == 413
    assert detect_overflow(error, model=LLAMA) is None
    info = hooks.classify_error(error, "groq").value
    assert info.kind is ErrorKind.RATE_LIMIT and info.retryable is False


async def test_plain_payload_too_large(emulator_env, settings, hooks):
    emulator_env.inject(Fault(kind="payload_too_large", provider="groq"))
    error = await _fail(hooks, settings, _hello())
    assert error.status_code == 413
    assert detect_overflow(error, model=LLAMA) is None
    assert hooks.classify_error(error, "groq").value.kind in (ErrorKind.PAYLOAD_TOO_LARGE, ErrorKind.RATE_LIMIT)


@pytest.mark.parametrize("kind", ["overloaded", "unavailable", "server_error"])
async def test_server_side_failures_are_retryable(emulator_env, settings, hooks, kind):
    emulator_env.inject(Fault(kind=kind, provider="groq"))
    error = await _fail(hooks, settings, _hello())
    assert detect_overflow(error, model=LLAMA) is None
    info = hooks.classify_error(error, "groq").value
    assert info.retryable
    # Groq says "over capacity" on its 503s: that is an overload signal, a plain 500 is not
    assert info.kind is (ErrorKind.SERVER if kind == "server_error" else ErrorKind.OVERLOADED)


async def test_in_stream_overloaded_is_retryable(emulator_env, settings, hooks):
    emulator_env.inject(Fault(kind="stream_error", provider="groq", error_type="overloaded"))
    error = await _fail(hooks, settings, CompletionRequest(
        model=LLAMA, messages=[Message(role="user", content="a long story please")]), stream=True)
    assert detect_overflow(error, model=LLAMA) is None
    info = hooks.classify_error(error, "groq").value
    assert info.kind is ErrorKind.OVERLOADED and info.retryable and info.status is None


@pytest.mark.parametrize("abrupt", [False, True])
async def test_truncated_stream_raises_a_retryable_error(emulator_env, settings, hooks, abrupt):
    emulator_env.inject(Fault(kind="truncated_stream", provider="groq", abrupt=abrupt))
    request = CompletionRequest(model=LLAMA, messages=[Message(role="user", content="a long story please")])
    events = []
    with pytest.raises(Exception) as caught:
        async for event in hooks.stream(request, settings):
            events.append(event)
    assert not [e for e in events if e.type == "done"]  # an incomplete answer is never presented as done
    if not abrupt:
        from massgen_plugins_groq.errors import TruncatedStreamError

        assert isinstance(caught.value, TruncatedStreamError) and isinstance(caught.value, ConnectionError)
    assert detect_overflow(caught.value, model=LLAMA) is None
    info = hooks.classify_error(caught.value, "groq").value
    assert info.retryable and info.kind in (ErrorKind.CONNECTION, ErrorKind.STREAM)


async def test_timeout_comes_from_the_settings(emulator_env, hooks):
    from massgen_plugins.providers import resolve_settings

    emulator_env.inject(Fault(kind="hang", provider="groq", seconds=20))
    settings = resolve_settings("groq", timeout=0.5)
    error = await _fail(hooks, settings, CompletionRequest(model=LLAMA, messages=[Message(role="user", content="x")]))
    assert "Timeout" in type(error).__name__
    info = hooks.classify_error(error, "groq").value
    assert info.kind is ErrorKind.TIMEOUT and info.retryable
    assert len([r for r in emulator_env.requests if r.provider == "groq"]) == 1  # no SDK retry
