"""Overflow detection and error classification for errors the openai SDK really raises
against the emulator, plus the near-misses that must not count."""

from __future__ import annotations

import massgen_plugins
import massgen_plugins_openai as plugin
import openai
import pytest
from massgen_plugins.testing import EmulatedModel, Fault
from massgen_plugins.types import CompletionRequest, ErrorKind, Message

LONG = "alpha beta gamma delta " * 2_400  # ~9.6k tokens: over an 8k window


def _request(model: str, text: str, **kwargs) -> CompletionRequest:
    return CompletionRequest(model=f"openai/{model}", messages=[Message(role="user", content=text)], **kwargs)


async def _raised(coro_or_iter) -> BaseException:
    with pytest.raises(openai.OpenAIError) as info:
        if hasattr(coro_or_iter, "__aiter__"):
            async for _ in coro_or_iter:
                pass
        else:
            await coro_or_iter
    return info.value


def _both(error: BaseException, model: str):
    """The plugin's own answer, and the public API's (which must agree)."""
    mine = plugin.detect_overflow(error, "openai", f"openai/{model}")
    public = massgen_plugins.detect_overflow(error, model=f"openai/{model}")
    assert (mine is None) == (public is None)
    return mine


async def test_chat_overflow_states_limit_and_messages_tokens(emulator_env, openai_settings):
    error = await _raised(plugin.complete(_request("gpt-4o-mini-8k", LONG), openai_settings))
    assert isinstance(error, openai.BadRequestError)
    overflow = _both(error, "gpt-4o-mini-8k")
    assert overflow.limit == 8192 and overflow.requested > 8192
    assert f"resulted in {overflow.requested} tokens" in overflow.message
    assert overflow.matched_by == "structure:code" and overflow.code == "context_length_exceeded"
    assert overflow.status == 400 and overflow.in_stream is False and overflow.provider == "openai"


async def test_chat_overflow_with_requested_completion(emulator_env, openai_settings):
    text = "alpha beta gamma delta " * 1_900  # ~7.6k tokens: fits alone, not with 1000 more out
    error = await _raised(plugin.complete(_request("gpt-4o-mini-8k", text, max_tokens=1000), openai_settings))
    overflow = _both(error, "gpt-4o-mini-8k")
    assert overflow.limit == 8192
    assert f"you requested {overflow.requested} tokens" in overflow.message
    assert f"{overflow.requested - 1000} in the messages, 1000 in the completion" in overflow.message


async def test_gpt5_configured_input_limit_wording(emulator_env, openai_settings):
    emulator_env.add_model("openai", EmulatedModel("gpt-5-tiny", 400_000, 128_000, input_limit=2_000))
    error = await _raised(plugin.complete(_request("gpt-5-tiny", "word " * 3_000), openai_settings))
    overflow = _both(error, "gpt-5-tiny")
    assert overflow.limit == 2_000 and overflow.requested > 2_000
    assert "configured limit" in overflow.message


async def test_chat_stream_overflow_error_after_http_200(emulator_env, openai_settings):
    emulator_env.inject(Fault(kind="stream_error", provider="openai", error_type="overflow"))
    error = await _raised(plugin.stream(_request("gpt-4o-mini-8k", "hello"), openai_settings))
    assert type(error) is openai.APIError and not hasattr(error, "status_code")
    overflow = _both(error, "gpt-4o-mini-8k")
    assert overflow.in_stream is True and overflow.limit == 8192 and overflow.requested == 8193


@pytest.mark.parametrize(("fault", "kind", "retryable"), [
    (Fault(kind="rate_limit", provider="openai", retry_after=0.25), ErrorKind.RATE_LIMIT, True),
    (Fault(kind="quota", provider="openai"), ErrorKind.QUOTA, False),
    (Fault(kind="payload_too_large", provider="openai"), ErrorKind.PAYLOAD_TOO_LARGE, False),
    (Fault(kind="server_error", provider="openai"), ErrorKind.SERVER, True),
    (Fault(kind="unavailable", provider="openai", retry_after=2), ErrorKind.SERVER, True),
    (Fault(kind="overloaded", provider="openai", retry_after=0.5), ErrorKind.OVERLOADED, True),
])
async def test_near_misses_are_not_overflow(emulator_env, openai_settings, fault, kind, retryable):
    emulator_env.inject(fault)
    error = await _raised(plugin.complete(_request("gpt-4o-mini", "hi"), openai_settings))
    assert _both(error, "gpt-4o-mini") is None
    info = plugin.classify_error(error, "openai")
    assert info.kind == kind and info.retryable is retryable
    if fault.kind in ("rate_limit", "unavailable", "overloaded"):  # these send retry-after(-ms)
        assert info.retry_after == pytest.approx(fault.retry_after)


async def test_output_cap_is_not_overflow(emulator_env, openai_settings):
    error = await _raised(plugin.complete(_request("gpt-4o-mini-8k", "hi", max_tokens=4_000), openai_settings))
    assert isinstance(error, openai.BadRequestError)
    assert _both(error, "gpt-4o-mini-8k") is None
    info = plugin.classify_error(error, "openai")
    assert info.kind == ErrorKind.OUTPUT_CAP and info.retryable is False


async def test_overflow_classifies_as_overflow(emulator_env, openai_settings):
    error = await _raised(plugin.complete(_request("gpt-4o-mini-8k", LONG), openai_settings))
    info = plugin.classify_error(error, "openai")
    assert info.kind == ErrorKind.OVERFLOW and info.retryable is False


def test_other_providers_errors_are_left_alone():
    from massgen_plugins.manager import get_hooks

    error = ValueError("This model's maximum context length is 10 tokens.")
    hooks = get_hooks()
    asked = {a.plugin for a in hooks.detect_overflow(error, "anthropic", "anthropic/x").attempts}
    asked |= {a.plugin for a in hooks.classify_error(error, "groq").attempts}
    assert "openai" not in asked  # the host routes other providers' errors to their owners


# Verbatim bodies (provider docs and issue threads), served by the emulator and raised by the SDK.
_CHAT_8K = {"error": {"message": "This model's maximum context length is 8192 tokens. However, your messages "
                      "resulted in 8227 tokens. Please reduce the length of the messages.",
                      "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}
_CHAT_COMPLETION = {"error": {"message": "This model's maximum context length is 4097 tokens. However, you requested "
                              "4120 tokens (3120 in the messages, 1000 in the completion). Please reduce the length "
                              "of the messages or completion.", "type": "invalid_request_error",
                              "param": "messages", "code": "context_length_exceeded"}}
_GPT5 = {"error": {"message": "Input tokens exceed the configured limit of 272000 tokens. Your messages resulted in "
                   "477469 tokens. Please reduce the length of the messages.", "type": "invalid_request_error",
                   "param": "messages", "code": "context_length_exceeded"}}
_RESPONSES = {"error": {"message": "Your input exceeds the context window of this model. Please adjust your input "
                        "and try again.", "type": "invalid_request_error", "param": "input",
                        "code": "context_length_exceeded"}}
_TPM = {"error": {"message": "Rate limit reached for gpt-4 in organization org-abc on tokens per min (TPM): Limit "
                  "10000, Used 9348, Requested 5086. Please try again in 26.604s. Visit "
                  "https://platform.openai.com/account/rate-limits to learn more.", "type": "tokens", "param": None,
                  "code": "rate_limit_exceeded"}}


@pytest.mark.parametrize(("body", "limit", "requested"), [
    (_CHAT_8K, 8192, 8227), (_CHAT_COMPLETION, 4097, 4120), (_GPT5, 272000, 477469), (_RESPONSES, None, None),
])
async def test_verbatim_overflow_bodies(emulator_env, openai_settings, body, limit, requested):
    emulator_env.inject(Fault(kind="custom", provider="openai", status=400, body=body))
    error = await _raised(plugin.complete(_request("gpt-4o-mini", "hi"), openai_settings))
    overflow = _both(error, "gpt-4o-mini")
    assert (overflow.limit, overflow.requested) == (limit, requested)
    assert overflow.matched_by == "structure:code"


async def test_verbatim_tpm_rate_limit_is_not_overflow(emulator_env, openai_settings):
    emulator_env.inject(Fault(kind="custom", provider="openai", status=429, body=_TPM))
    error = await _raised(plugin.complete(_request("gpt-4o-mini", "hi"), openai_settings))
    assert _both(error, "gpt-4o-mini") is None
    info = plugin.classify_error(error, "openai")
    assert info.kind == ErrorKind.RATE_LIMIT and info.retry_after == pytest.approx(26.604)
