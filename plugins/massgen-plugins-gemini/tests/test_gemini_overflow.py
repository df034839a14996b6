"""Overflow detection and error classification on what google-genai raises against the emulator:
the 400 INVALID_ARGUMENT overflow (JSON and in-stream) with its numbers, and the near misses
(429 with RetryInfo, quota, output cap, payload size, 503) that must never read as overflow."""

from __future__ import annotations

import re

import pytest
from massgen_plugins import detect_overflow
from massgen_plugins.testing import Fault
from massgen_plugins.types import CompletionRequest, ErrorKind, Message

TINY = "gemini/gemini-tiny-2k"
FLASH = "gemini/gemini-2.5-flash"


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


def _hello(model=FLASH):
    return CompletionRequest(model=model, messages=[Message(role="user", content="hello there")])


async def test_input_token_count_overflow_with_numbers(emulator_env, settings, hooks):
    request = CompletionRequest(model=TINY, max_tokens=100, messages=[Message(role="user", content=_words(3000))])
    error = await _fail(hooks, settings, request)
    assert type(error).__name__ == "ClientError" and error.code == 400 and error.status == "INVALID_ARGUMENT"
    stated = re.search(r"input token count \((\d+)\) exceeds the maximum number of tokens allowed \((\d+)\)",
                       error.message)
    assert stated, error.message
    overflow = detect_overflow(error, model=TINY)
    assert overflow is not None and overflow.provider == "gemini" and overflow.in_stream is False
    assert (overflow.requested, overflow.limit) == (int(stated.group(1)), int(stated.group(2)))
    assert overflow.matched_by.startswith("structure:INVALID_ARGUMENT")
    info = hooks.classify_error(error, "gemini").value
    assert info.kind is ErrorKind.OVERFLOW and not info.retryable


async def test_in_stream_overflow_chunk(emulator_env, settings, hooks):
    emulator_env.inject(Fault(kind="stream_error", provider="gemini", error_type="overflow"))
    error = await _fail(hooks, settings, CompletionRequest(
        model=FLASH, messages=[Message(role="user", content="a long story please")]), stream=True)
    assert error.code == 400
    overflow = detect_overflow(error, model=FLASH)
    assert overflow is not None and overflow.in_stream is True
    stated = re.search(r"input token count \((\d+)\) exceeds the maximum number of tokens allowed \((\d+)\)",
                       error.message)
    assert stated, error.message
    assert (overflow.requested, overflow.limit) == (int(stated.group(1)), int(stated.group(2)))
    assert overflow.limit == 1_048_576
    assert hooks.classify_error(error, "gemini").value.kind is ErrorKind.OVERFLOW


async def test_rate_limit_with_retry_info(emulator_env, settings, hooks):
    emulator_env.inject(Fault(kind="rate_limit", provider="gemini", retry_after=2))
    error = await _fail(hooks, settings, _hello())
    assert error.code == 429 and error.status == "RESOURCE_EXHAUSTED"
    assert detect_overflow(error, model=FLASH) is None
    info = hooks.classify_error(error, "gemini").value
    assert info.kind is ErrorKind.RATE_LIMIT and info.retryable and info.retry_after == pytest.approx(2)


async def test_quota_without_retry_info(emulator_env, settings, hooks):
    emulator_env.inject(Fault(kind="quota", provider="gemini"))
    error = await _fail(hooks, settings, _hello())
    assert error.code == 429
    assert detect_overflow(error, model=FLASH) is None
    info = hooks.classify_error(error, "gemini").value
    assert info.kind is ErrorKind.QUOTA and not info.retryable


PER_DAY_BODY = {"error": {
    "code": 429,
    "message": "You exceeded your current quota, please check your plan and billing details. "
               "Please retry in 47.174066935s.",
    "status": "RESOURCE_EXHAUSTED",
    "details": [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
            "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"}, "quotaValue": "250"}]},
        {"@type": "type.googleapis.com/google.rpc.Help", "links": [{
            "description": "Learn more about Gemini API quotas",
            "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "47s"},
    ]}}


async def test_per_minute_and_per_day_resource_exhausted(emulator_env, settings, hooks):
    """Verbatim shape of Gemini's documented 429 body: RetryInfo makes a per-minute limit a rate
    limit (with its delay); a per-day QuotaFailure is a quota even though a delay is given."""
    import copy

    per_minute = copy.deepcopy(PER_DAY_BODY)
    per_minute["error"]["details"][0]["violations"][0]["quotaId"] = "GenerateRequestsPerMinutePerProjectPerModel"
    emulator_env.inject(Fault(kind="custom", provider="gemini", status=429, body=per_minute))
    minute = await _fail(hooks, settings, _hello())
    emulator_env.inject(Fault(kind="custom", provider="gemini", status=429, body=PER_DAY_BODY))
    day = await _fail(hooks, settings, _hello())
    for error in (minute, day):
        assert type(error).__name__ == "ClientError" and detect_overflow(error, model=FLASH) is None
    rate = hooks.classify_error(minute, "gemini").value
    assert rate.kind is ErrorKind.RATE_LIMIT and rate.retryable and rate.retry_after == 47
    quota = hooks.classify_error(day, "gemini").value
    assert quota.kind is ErrorKind.QUOTA and not quota.retryable and quota.retry_after == 47


async def test_output_cap_is_not_overflow(emulator_env, settings, hooks):
    error = await _fail(hooks, settings, CompletionRequest(
        model=TINY, max_tokens=100_000, messages=[Message(role="user", content="hi")]))
    assert error.code == 400
    assert detect_overflow(error, model=TINY) is None
    assert hooks.classify_error(error, "gemini").value.kind is ErrorKind.OUTPUT_CAP


async def test_payload_too_large_is_not_overflow(emulator_env, settings, hooks):
    emulator_env.inject(Fault(kind="payload_too_large", provider="gemini"))
    error = await _fail(hooks, settings, _hello())
    assert detect_overflow(error, model=FLASH) is None
    assert hooks.classify_error(error, "gemini").value.kind is ErrorKind.PAYLOAD_TOO_LARGE


@pytest.mark.parametrize("kind", ["overloaded", "unavailable", "server_error"])
async def test_server_side_failures_are_retryable(emulator_env, settings, hooks, kind):
    emulator_env.inject(Fault(kind=kind, provider="gemini"))
    error = await _fail(hooks, settings, _hello())
    assert type(error).__name__ == "ServerError"
    assert detect_overflow(error, model=FLASH) is None
    info = hooks.classify_error(error, "gemini").value
    assert info.kind in (ErrorKind.SERVER, ErrorKind.OVERLOADED) and info.retryable


async def test_in_stream_server_error_is_retryable(emulator_env, settings, hooks):
    emulator_env.inject(Fault(kind="stream_error", provider="gemini", error_type="overloaded"))
    error = await _fail(hooks, settings, CompletionRequest(
        model=FLASH, messages=[Message(role="user", content="a long story please")]), stream=True)
    assert detect_overflow(error, model=FLASH) is None
    assert hooks.classify_error(error, "gemini").value.retryable


@pytest.mark.parametrize("abrupt", [False, True])
async def test_truncated_stream_raises_a_retryable_error(emulator_env, settings, hooks, abrupt):
    emulator_env.inject(Fault(kind="truncated_stream", provider="gemini", abrupt=abrupt))
    request = CompletionRequest(model=FLASH, messages=[Message(role="user", content="a long story please")])
    events = []
    with pytest.raises(Exception) as caught:
        async for event in hooks.stream(request, settings):
            events.append(event)
    assert not [e for e in events if e.type == "done"]  # an incomplete answer is never presented as done
    if not abrupt:
        from massgen_plugins_gemini.errors import TruncatedStreamError

        assert isinstance(caught.value, TruncatedStreamError) and isinstance(caught.value, ConnectionError)
    assert detect_overflow(caught.value, model=FLASH) is None
    info = hooks.classify_error(caught.value, "gemini").value
    assert info.retryable and info.kind in (ErrorKind.CONNECTION, ErrorKind.STREAM)


async def test_timeout_comes_from_the_settings(emulator_env, hooks):
    from massgen_plugins.providers import resolve_settings

    emulator_env.inject(Fault(kind="hang", provider="gemini", seconds=20))
    settings = resolve_settings("gemini", timeout=0.5)
    error = await _fail(hooks, settings, CompletionRequest(model=FLASH, messages=[Message(role="user", content="x")]))
    assert "Timeout" in type(error).__name__
    info = hooks.classify_error(error, "gemini").value
    assert info.kind is ErrorKind.TIMEOUT and info.retryable
    assert len([r for r in emulator_env.requests if r.provider == "gemini"]) == 1  # no SDK retry
