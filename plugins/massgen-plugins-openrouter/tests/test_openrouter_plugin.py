"""The OpenRouter plugin through the real openai SDK against the emulator: listing (windows,
output caps, prices), the string-code '400' overflow, in-stream and HTTP-200 errors, 402
credits, near-misses, calls with tool calls, credentials and base-URL resolution."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import massgen_plugins
import massgen_plugins_openrouter as plugin
import openai
import pytest
from massgen_plugins.errors import MissingCredentialsError
from massgen_plugins.testing import Fault
from massgen_plugins.types import CompletionRequest, ErrorKind, Message, ProviderSettings, TokenCountRequest

TINY = "emulator/tiny-8k"
CHAT = "openai/gpt-4o-mini"
LONG = "alpha beta gamma delta " * 2_400  # ~9.6k tokens: over an 8k window
TOOL = {"type": "function", "function": {"name": "fetch", "description": "Fetch a URL.",
        "parameters": {"type": "object", "properties": {"url": {"type": "string"}}}}}


@pytest.fixture
def settings(emulator_env):
    from massgen_plugins.providers import resolve_settings

    return resolve_settings("openrouter")


def _request(model: str, text: str, **kwargs) -> CompletionRequest:
    return CompletionRequest(model=f"openrouter/{model}", messages=[Message(role="user", content=text)], **kwargs)


async def _raised(call) -> BaseException:
    with pytest.raises(openai.OpenAIError) as info:
        if hasattr(call, "__aiter__"):
            async for _ in call:
                pass
        else:
            await call
    return info.value


async def _events(iterator):
    return [e async for e in iterator]


def test_list_models_windows_caps_and_prices(emulator_env, settings):
    models = {m.id: m for m in plugin.list_models("openrouter", settings)}
    assert set(models) == {m.id for m in emulator_env.models("openrouter")}
    for em in emulator_env.models("openrouter"):
        model = models[em.id]
        assert model.context_window == em.context_window, em.id
        assert model.max_output_tokens == em.max_output, em.id
        assert model.kind == "chat" and model.chat is True
        assert model.provenance["context_window"] == model.provenance["max_output_tokens"] == "api"
    raw = httpx.get(settings.base_url + "/models", headers={"Authorization": f"Bearer {settings.key()}"}).json()
    for item in raw["data"]:
        pricing = item.get("pricing") or {}
        if pricing.get("prompt") not in (None, "-1"):
            assert models[item["id"]].input_price_per_mtok == pytest.approx(float(pricing["prompt"]) * 1e6)
        if item.get("name"):
            assert models[item["id"]].display_name == item["name"]
    assert any(m.input_price_per_mtok for m in models.values())


async def test_overflow_string_code_400(emulator_env, settings):
    error = await _raised(plugin.complete(_request(TINY, LONG), settings))
    assert isinstance(error, openai.BadRequestError)
    assert error.code == "400" and error.type is None  # numeric code on the wire, a string in the SDK
    overflow = plugin.detect_overflow(error, "openrouter", f"openrouter/{TINY}")
    assert overflow is not None and overflow.provider == "openrouter"
    assert overflow.limit == 8192 and overflow.requested > 8192
    assert f"about {overflow.requested} tokens" in overflow.message
    assert overflow.matched_by.startswith("structure:openrouter")
    public = massgen_plugins.detect_overflow(error, model=f"openrouter/{TINY}")
    assert (public.limit, public.requested) == (overflow.limit, overflow.requested)
    assert plugin.classify_error(error, "openrouter").kind == ErrorKind.OVERFLOW


async def test_overflow_in_stream_after_http_200(emulator_env, settings):
    emulator_env.inject(Fault(kind="stream_error", provider="openrouter", error_type="overflow"))
    error = await _raised(plugin.stream(_request(TINY, "hello"), settings))
    assert not hasattr(error, "status_code")
    overflow = plugin.detect_overflow(error, "openrouter", f"openrouter/{TINY}")
    assert overflow is not None and overflow.in_stream is True and overflow.limit == 8192


async def test_http_200_error_body_is_raised_and_retryable(emulator_env, settings):
    emulator_env.inject(Fault(kind="http200_error", provider="openrouter"))
    error = await _raised(plugin.complete(_request(CHAT, "hi"), settings))
    assert type(error) is openai.APIError
    assert plugin.detect_overflow(error, "openrouter", f"openrouter/{CHAT}") is None
    info = plugin.classify_error(error, "openrouter")
    assert info.kind == ErrorKind.SERVER and info.retryable is True
    [sent] = emulator_env.requests_for("openrouter", "/chat/completions")
    assert sent.status == 200


@pytest.mark.parametrize(("kind", "expected", "retryable"), [
    ("rate_limit", ErrorKind.RATE_LIMIT, True), ("quota", ErrorKind.QUOTA, False),
    ("payload_too_large", ErrorKind.PAYLOAD_TOO_LARGE, False), ("server_error", ErrorKind.SERVER, True),
])
async def test_near_misses_are_not_overflow(emulator_env, settings, kind, expected, retryable):
    emulator_env.inject(Fault(kind=kind, provider="openrouter"))
    error = await _raised(plugin.complete(_request(CHAT, "hi"), settings))
    assert plugin.detect_overflow(error, "openrouter", f"openrouter/{CHAT}") is None
    assert massgen_plugins.detect_overflow(error, model=f"openrouter/{CHAT}") is None
    info = plugin.classify_error(error, "openrouter")
    assert info.kind == expected and info.retryable is retryable
    if kind == "quota":
        assert info.status == 402


async def test_output_cap_is_not_overflow(emulator_env, settings):
    error = await _raised(plugin.complete(_request(TINY, "hi", max_tokens=4_000), settings))
    assert plugin.detect_overflow(error, "openrouter", f"openrouter/{TINY}") is None
    assert plugin.classify_error(error, "openrouter").kind == ErrorKind.OUTPUT_CAP


async def test_complete_and_stream_with_tool_calls(emulator_env, settings):
    text = '[[call fetch {"url": "https://a.example"}]] [[call fetch {"url": "https://b.example"}]]'
    response = await plugin.complete(_request(CHAT, text, tools=[TOOL]), settings)
    assert [json.loads(c.function["arguments"])["url"] for c in response.message.tool_calls] == [
        "https://a.example", "https://b.example"]
    [sent] = emulator_env.requests_for("openrouter", "/chat/completions")
    assert sent.body["model"] == CHAT and sent.headers.get("x-title") == "massgen-plugins"
    events = await _events(plugin.stream(_request(CHAT, text, tools=[TOOL]), settings))
    calls = [e.tool_call for e in events if e.type == "tool_call"]
    assert len(calls) == 2 and events[-1].response.finish_reason == "tool_calls"


async def test_missing_key_and_base_url(emulator_env, settings, monkeypatch):
    assert settings.base_url == emulator_env.base_url("openrouter")
    with pytest.raises(MissingCredentialsError, match="OPENROUTER_API_KEY"):
        await _events(plugin.stream(_request(CHAT, "hi"), ProviderSettings(provider="openrouter")))
    assert emulator_env.requests == []
    from massgen_plugins.providers import resolve_settings

    monkeypatch.delenv("OPENROUTER_BASE_URL")
    assert resolve_settings("openrouter").base_url == "https://openrouter.ai/api/v1"


def test_declaration_and_token_counts():
    info = plugin.register_providers()
    assert (info.name, info.api_key_env, info.base_url_env) == (
        "openrouter", ["OPENROUTER_API_KEY"], "OPENROUTER_BASE_URL")
    assert not hasattr(plugin, "count_tokens")  # no count endpoint: the built-in counter answers
    from massgen_plugins.manager import get_hooks

    messages = [Message(role="user", content="hello world")]
    openai_model = get_hooks().count_tokens(TokenCountRequest(model=f"openrouter/{CHAT}", messages=messages)).value
    assert openai_model.method == "tiktoken:o200k_base" and openai_model.exact is True
    other = get_hooks().count_tokens(TokenCountRequest(model="openrouter/anthropic/claude-haiku-4.5",
                                                       messages=messages)).value
    assert other.exact is False and other.margin > 0


def test_importing_the_plugin_does_not_import_the_sdk():
    code = ("import sys, massgen_plugins_openrouter; "
            "bad = [m for m in ('openai', 'pydantic') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


_NEW = ("This endpoint's maximum context length is 16384 tokens. However, you requested about 26265 tokens (26255 "
        "of text input, 10 in the output). Please reduce the length of either one, or use the context-compression "
        "plugin to compress your prompt automatically.")
_OLD = ("This endpoint's maximum context length is 16384 tokens. However, you requested about 26265 tokens (26255 "
        "of text input, 10 in the output). Please reduce the length of either one, or use the \"middle-out\" "
        "transform to compress your prompt automatically.")
_UPSTREAM = ("input length and `max_tokens` exceed context limit: 199759 + 8192 > 200000, decrease input length or "
             "`max_tokens` and try again")


@pytest.mark.parametrize(("message", "limit", "requested"), [
    (_NEW, 16384, 26265), (_OLD, 16384, 26265), (_UPSTREAM, 200000, 207951),
])
async def test_verbatim_overflow_bodies(emulator_env, settings, message, limit, requested):
    body = {"error": {"message": message, "code": 400, "metadata": {"provider_name": None}}}
    emulator_env.inject(Fault(kind="custom", provider="openrouter", status=400, body=body))
    error = await _raised(plugin.complete(_request(CHAT, "hi"), settings))
    assert error.code == "400"
    overflow = plugin.detect_overflow(error, "openrouter", f"openrouter/{CHAT}")
    assert (overflow.limit, overflow.requested) == (limit, requested)
    assert overflow.matched_by.startswith("structure:openrouter")


async def test_http_200_overflow_body_is_detected(emulator_env, settings):
    body = {"error": {"message": _NEW, "code": 400, "metadata": {"provider_name": "OpenAI"}}}
    emulator_env.inject(Fault(kind="custom", provider="openrouter", status=200, body=body))
    error = await _raised(plugin.complete(_request(CHAT, "hi"), settings))
    assert type(error) is openai.APIError
    overflow = plugin.detect_overflow(error, "openrouter", f"openrouter/{CHAT}")
    assert (overflow.limit, overflow.requested, overflow.in_stream) == (16384, 26265, True)
