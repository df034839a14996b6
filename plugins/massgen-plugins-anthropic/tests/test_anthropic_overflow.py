"""Overflow detection and error classification on what the real anthropic SDK raises against the
emulator: both overflow wordings (JSON) and the in-stream ``event: error`` form, with the numbers
the message states; and the near misses (429, quota, output cap, 413, 529, in-stream overloaded)
that must never read as overflow."""

from __future__ import annotations

import re

import pytest
from massgen_plugins import detect_overflow
from massgen_plugins.testing import Fault
from massgen_plugins.types import CompletionRequest, ErrorKind, Message

TINY = "anthropic/claude-tiny-2k"  # 2048-token window, 512-token output cap
HAIKU = "anthropic/claude-haiku-4-5-20251001"


async def _fail(hooks, settings, request, stream=False):
    with pytest.raises(Exception) as caught:
        if stream:
            async for _ in hooks.stream(request, settings):
                pass
        else:
            await hooks.complete(request, settings)
    return caught.value


def _words(n):
    return " ".join(f"w{i % 97}" for i in range(n))


async def test_prompt_too_long_states_both_numbers(emulator_env, settings, hooks):
    request = CompletionRequest(model=TINY, max_tokens=100, messages=[Message(role="user", content=_words(3000))])
    error = await _fail(hooks, settings, request)
    assert type(error).__name__ == "BadRequestError"
    stated = re.search(r"prompt is too long: (\d+) tokens > (\d+) maximum", str(error.body))
    assert stated, error.body
    overflow = detect_overflow(error, model=TINY)
    assert overflow is not None and overflow.provider == "anthropic"
    assert (overflow.requested, overflow.limit) == (int(stated.group(1)), int(stated.group(2)))
    assert overflow.limit == 2048 and overflow.requested > 2048
    assert overflow.in_stream is False and overflow.status == 400
    assert overflow.matched_by.startswith("structure:invalid_request_error")
    info = hooks.classify_error(error, "anthropic").value
    assert info.kind is ErrorKind.OVERFLOW and info.retryable is False


async def test_input_plus_max_tokens_over_the_window(emulator_env, settings, hooks):
    request = CompletionRequest(model=TINY, max_tokens=500, messages=[Message(role="user", content=_words(850))])
    error = await _fail(hooks, settings, request)
    stated = re.search(r"exceed context limit: (\d+) \+ (\d+) > (\d+)", str(error.body))
    assert stated, error.body
    overflow = detect_overflow(error, model=TINY)
    inp, out, limit = (int(g) for g in stated.groups())
    assert out == 500 and limit == 2048
    assert (overflow.limit, overflow.requested) == (limit, inp + out)
    assert overflow.model_extra["input_tokens"] == inp and overflow.model_extra["output_tokens"] == out


async def test_in_stream_overflow_event(emulator_env, settings, hooks):
    emulator_env.inject(Fault(kind="stream_error", provider="anthropic", error_type="overflow"))
    request = CompletionRequest(model=HAIKU, max_tokens=200, messages=[Message(role="user", content="a story")])
    error = await _fail(hooks, settings, request, stream=True)
    assert type(error).__name__ == "APIStatusError" and error.status_code == 200
    overflow = detect_overflow(error, model=HAIKU)
    assert overflow is not None and overflow.in_stream is True
    stated = re.search(r"prompt is too long: (\d+) tokens > (\d+) maximum", str(error.body))
    assert stated, error.body
    assert (overflow.requested, overflow.limit) == (int(stated.group(1)), int(stated.group(2)))
    assert overflow.limit == 200_000 and overflow.status == 200
    assert hooks.classify_error(error, "anthropic").value.kind is ErrorKind.OVERFLOW


async def test_rate_limit_is_not_overflow_and_carries_retry_after(emulator_env, settings, hooks):
    emulator_env.inject(Fault(kind="rate_limit", provider="anthropic", retry_after=0.25))
    error = await _fail(hooks, settings, CompletionRequest(model=HAIKU, messages=[Message(role="user", content="x")]))
    assert detect_overflow(error, model=HAIKU) is None
    info = hooks.classify_error(error, "anthropic").value
    assert info.kind is ErrorKind.RATE_LIMIT and info.retryable
    assert info.retry_after == pytest.approx(0.25)


async def test_quota_is_not_overflow(emulator_env, settings, hooks):
    emulator_env.inject(Fault(kind="quota", provider="anthropic"))
    error = await _fail(hooks, settings, CompletionRequest(model=HAIKU, messages=[Message(role="user", content="x")]))
    assert detect_overflow(error, model=HAIKU) is None
    info = hooks.classify_error(error, "anthropic").value
    assert info.kind is ErrorKind.QUOTA and not info.retryable


async def test_output_cap_is_not_overflow(emulator_env, settings, hooks):
    request = CompletionRequest(model=TINY, max_tokens=100_000, messages=[Message(role="user", content="hi")])
    error = await _fail(hooks, settings, request)
    assert error.status_code == 400
    assert detect_overflow(error, model=TINY) is None
    assert hooks.classify_error(error, "anthropic").value.kind is ErrorKind.OUTPUT_CAP


async def test_payload_too_large_is_not_overflow(emulator_env, settings, hooks):
    emulator_env.inject(Fault(kind="payload_too_large", provider="anthropic"))
    error = await _fail(hooks, settings, CompletionRequest(model=HAIKU, messages=[Message(role="user", content="x")]))
    assert type(error).__name__ == "ContentTooLargeError"
    assert detect_overflow(error, model=HAIKU) is None
    assert hooks.classify_error(error, "anthropic").value.kind is ErrorKind.PAYLOAD_TOO_LARGE


async def test_529_overloaded_is_retryable_not_overflow(emulator_env, settings, hooks):
    emulator_env.inject(Fault(kind="overloaded", provider="anthropic"))
    error = await _fail(hooks, settings, CompletionRequest(model=HAIKU, messages=[Message(role="user", content="x")]))
    assert type(error).__name__ == "OverloadedError" and error.status_code == 529
    assert detect_overflow(error, model=HAIKU) is None
    info = hooks.classify_error(error, "anthropic").value
    assert info.kind is ErrorKind.OVERLOADED and info.retryable


async def test_in_stream_overloaded_is_retryable_not_overflow(emulator_env, settings, hooks):
    emulator_env.inject(Fault(kind="stream_error", provider="anthropic", error_type="overloaded"))
    request = CompletionRequest(model=HAIKU, messages=[Message(role="user", content="a long story please")])
    error = await _fail(hooks, settings, request, stream=True)
    assert error.status_code == 200 and error.type == "overloaded_error"
    assert detect_overflow(error, model=HAIKU) is None
    info = hooks.classify_error(error, "anthropic").value
    assert info.kind is ErrorKind.OVERLOADED and info.retryable


async def test_server_error_is_retryable(emulator_env, settings, hooks):
    emulator_env.inject(Fault(kind="server_error", provider="anthropic"))
    error = await _fail(hooks, settings, CompletionRequest(model=HAIKU, messages=[Message(role="user", content="x")]))
    assert detect_overflow(error, model=HAIKU) is None
    info = hooks.classify_error(error, "anthropic").value
    assert info.kind is ErrorKind.SERVER and info.retryable


def test_errors_of_other_providers_are_left_alone():
    from massgen_plugins.manager import get_hooks

    error = RuntimeError("prompt is too long: 300000 tokens > 200000 maximum")
    hooks = get_hooks()
    asked = {a.plugin for a in hooks.detect_overflow(error, "openai", None).attempts}
    asked |= {a.plugin for a in hooks.classify_error(error, "groq").attempts}
    assert "anthropic" not in asked  # the host routes other providers' errors to their owners
    assert hooks.detect_overflow(error, "anthropic", None).plugin == "anthropic"


@pytest.mark.parametrize("abrupt", [False, True])
async def test_truncated_stream_raises_a_retryable_error(emulator_env, settings, hooks, abrupt):
    emulator_env.inject(Fault(kind="truncated_stream", provider="anthropic", abrupt=abrupt))
    request = CompletionRequest(model=HAIKU, messages=[Message(role="user", content="a long story please")])
    events = []
    with pytest.raises(Exception) as caught:
        async for event in hooks.stream(request, settings):
            events.append(event)
    assert not [e for e in events if e.type == "done"]  # an incomplete answer is never presented as done
    if not abrupt:
        from massgen_plugins_anthropic.errors import TruncatedStreamError

        assert isinstance(caught.value, TruncatedStreamError) and isinstance(caught.value, ConnectionError)
    assert detect_overflow(caught.value, model=HAIKU) is None
    info = hooks.classify_error(caught.value, "anthropic").value
    assert info.retryable and info.kind in (ErrorKind.CONNECTION, ErrorKind.STREAM)


async def test_timeout_comes_from_the_settings(emulator_env, hooks):
    from massgen_plugins.providers import resolve_settings

    emulator_env.inject(Fault(kind="hang", provider="anthropic", seconds=20))
    settings = resolve_settings("anthropic", timeout=0.5)
    error = await _fail(hooks, settings, CompletionRequest(model=HAIKU, messages=[Message(role="user", content="x")]))
    assert "Timeout" in type(error).__name__
    info = hooks.classify_error(error, "anthropic").value
    assert info.kind is ErrorKind.TIMEOUT and info.retryable
    assert len([r for r in emulator_env.requests if r.provider == "anthropic"]) == 1  # no SDK retry
