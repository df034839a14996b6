"""The xAI plugin through the real openai SDK against the emulator: listing (/models +
/language-models prices), xAI's string-error overflow (JSON and in-stream), near-misses, calls
with tool calls, credentials and base-URL resolution."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import massgen_plugins
import massgen_plugins_xai as plugin
import openai
import pytest
from massgen_plugins.errors import MissingCredentialsError
from massgen_plugins.testing import Fault
from massgen_plugins.types import CompletionRequest, ErrorKind, Message, ProviderSettings, TokenCountRequest

LONG = "alpha beta gamma delta " * 2_400  # ~9.6k tokens: over an 8k window
TOOL = {"type": "function", "function": {"name": "lookup", "description": "Look a term up.",
        "parameters": {"type": "object", "properties": {"term": {"type": "string"}}}}}


@pytest.fixture
def settings(emulator_env):
    from massgen_plugins.providers import resolve_settings

    return resolve_settings("xai")


def _request(model: str, text: str, **kwargs) -> CompletionRequest:
    return CompletionRequest(model=f"xai/{model}", messages=[Message(role="user", content=text)], **kwargs)


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


def test_list_models_merges_language_models_prices(emulator_env, settings):
    models = {m.id: m for m in plugin.list_models("xai", settings)}
    assert set(models) == {m.id for m in emulator_env.models("xai")}
    paths = [r.path for r in emulator_env.requests_for("xai")]
    assert paths == ["/v1/models", "/v1/language-models"]
    raw = httpx.get(settings.base_url + "/language-models",
                    headers={"Authorization": f"Bearer {settings.key()}"}).json()["models"]
    assert raw, "the emulator lists language models"
    for item in raw:
        model = models[item["id"]]
        assert model.kind == "chat" and model.chat is True
        assert model.input_price_per_mtok == pytest.approx(item["prompt_text_token_price"] / 10_000)
        assert model.output_price_per_mtok == pytest.approx(item["completion_text_token_price"] / 10_000)
        assert model.provenance["input_price_per_mtok"] == "api"
    assert models["grok-2-image-1212"].kind == "image" and models["grok-2-image-1212"].chat is False


async def test_overflow_string_error_body(emulator_env, settings):
    error = await _raised(plugin.complete(_request("grok-tiny-8k", LONG), settings))
    assert isinstance(error, openai.BadRequestError)
    assert isinstance(error.body, str) and error.code is None  # xAI's {"code": ..., "error": "<text>"}
    overflow = plugin.detect_overflow(error, "xai", "xai/grok-tiny-8k")
    assert overflow is not None and overflow.provider == "xai"
    assert overflow.limit == 8192 and overflow.requested > 8192
    assert f"{overflow.requested} tokens" in overflow.message
    assert overflow.matched_by.startswith("structure:string-error")
    public = massgen_plugins.detect_overflow(error, model="xai/grok-tiny-8k")
    assert (public.limit, public.requested) == (overflow.limit, overflow.requested)
    assert plugin.classify_error(error, "xai").kind == ErrorKind.OVERFLOW


async def test_overflow_in_stream(emulator_env, settings):
    emulator_env.inject(Fault(kind="stream_error", provider="xai", error_type="overflow"))
    error = await _raised(plugin.stream(_request("grok-tiny-8k", "hello"), settings))
    overflow = plugin.detect_overflow(error, "xai", "xai/grok-tiny-8k")
    assert overflow is not None and overflow.in_stream is True and overflow.limit == 8192


@pytest.mark.parametrize(("kind", "expected"), [
    ("rate_limit", ErrorKind.RATE_LIMIT), ("quota", ErrorKind.QUOTA),
    ("payload_too_large", ErrorKind.PAYLOAD_TOO_LARGE), ("server_error", ErrorKind.SERVER),
])
async def test_near_misses_are_not_overflow(emulator_env, settings, kind, expected):
    emulator_env.inject(Fault(kind=kind, provider="xai"))
    error = await _raised(plugin.complete(_request("grok-3", "hi"), settings))
    assert plugin.detect_overflow(error, "xai", "xai/grok-3") is None
    assert massgen_plugins.detect_overflow(error, model="xai/grok-3") is None
    assert plugin.classify_error(error, "xai").kind == expected


async def test_output_cap_is_not_overflow(emulator_env, settings):
    error = await _raised(plugin.complete(_request("grok-tiny-8k", "hi", max_tokens=4_000), settings))
    assert plugin.detect_overflow(error, "xai", "xai/grok-tiny-8k") is None
    assert plugin.classify_error(error, "xai").kind == ErrorKind.OUTPUT_CAP


async def test_complete_and_stream_with_tool_calls(emulator_env, settings):
    text = '[[call lookup {"term": "grok"}]] [[call lookup {"term": "xai"}]]'
    response = await plugin.complete(_request("grok-3", text, tools=[TOOL], max_tokens=200), settings)
    assert [json.loads(c.function["arguments"]) for c in response.message.tool_calls] == [
        {"term": "grok"}, {"term": "xai"}]
    assert emulator_env.requests_for("xai", "/chat/completions")[0].body["max_tokens"] == 200
    events = await _events(plugin.stream(_request("grok-3", text, tools=[TOOL]), settings))
    calls = [e.tool_call for e in events if e.type == "tool_call"]
    assert [c.function["name"] for c in calls] == ["lookup", "lookup"]
    assert [json.loads(c.function["arguments"])["term"] for c in calls] == ["grok", "xai"]
    assert events[-1].type == "done" and events[-1].response.finish_reason == "tool_calls"
    text_events = await _events(plugin.stream(_request("grok-3", "just talk"), settings))
    assert "".join(e.delta for e in text_events if e.type == "text") == text_events[-1].response.message.content


async def test_missing_key_and_base_url(emulator_env, settings, monkeypatch):
    assert settings.base_url == emulator_env.base_url("xai")
    no_key = ProviderSettings(provider="xai", base_url=settings.base_url)
    with pytest.raises(MissingCredentialsError, match="XAI_API_KEY"):
        await plugin.complete(_request("grok-3", "hi"), no_key)
    assert emulator_env.requests == []
    from massgen_plugins.providers import resolve_settings

    monkeypatch.delenv("XAI_BASE_URL")
    assert resolve_settings("xai").base_url == "https://api.x.ai/v1"
    monkeypatch.delenv("XAI_API_KEY")
    with pytest.raises(MissingCredentialsError, match="XAI_API_KEY"):
        resolve_settings("xai")


def test_declaration_and_estimated_tokens():
    info = plugin.register_providers()
    assert (info.name, info.api_key_env, info.base_url_env, info.sdk) == ("xai", ["XAI_API_KEY"], "XAI_BASE_URL", "openai")
    assert info.tokenizer == "estimate" and info.token_margin >= 0.05
    assert not hasattr(plugin, "count_tokens")  # the built-in estimator answers for Grok
    from massgen_plugins.manager import get_hooks

    route = get_hooks().provider_table().route("openai")  # openai's requests and errors never reach xai
    assert not route("xai") and get_hooks().provider_table().owners["xai"] == "xai"
    asked = get_hooks().detect_overflow(ValueError("maximum prompt length is 5"), "openai", None).attempts
    assert "xai" not in {a.plugin for a in asked}
    counted = get_hooks().count_tokens(TokenCountRequest(model="xai/grok-3", messages=[
        Message(role="user", content="hello world")])).value
    assert counted is not None and counted.tokens > 0 and counted.exact is False


def test_importing_the_plugin_does_not_import_the_sdk():
    code = ("import sys, massgen_plugins_xai; bad = [m for m in ('openai', 'pydantic') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(("message", "limit", "requested"), [
    ("This model's maximum prompt length is 131072 but the request contains 149617 tokens.", 131072, 149617),
    ("Failed to start sampling: [input_too_large] Current message (1149677 tokens) exceeds budget (975424 tokens)",
     975424, 1149677),
])
async def test_verbatim_string_error_bodies(emulator_env, settings, message, limit, requested):
    body = {"code": "Client specified an invalid argument", "error": message}
    emulator_env.inject(Fault(kind="custom", provider="xai", status=400, body=body))
    error = await _raised(plugin.complete(_request("grok-3", "hi"), settings))
    assert str(error) == "Error code: 400"  # openai 3.x: no message when ``error`` is not an object
    overflow = plugin.detect_overflow(error, "xai", "xai/grok-3")
    assert (overflow.limit, overflow.requested) == (limit, requested)


async def test_verbatim_team_rate_limit_is_not_overflow(emulator_env, settings):
    body = {"code": "Some resource has been exhausted",
            "error": "Too many tokens for team abc and model grok-4-0709. Your team's rate limit is — Tokens per "
                     "Minute (actual/limit): 65605/16000."}
    emulator_env.inject(Fault(kind="custom", provider="xai", status=429, body=body))
    error = await _raised(plugin.complete(_request("grok-3", "hi"), settings))
    assert plugin.detect_overflow(error, "xai", "xai/grok-3") is None
    assert plugin.classify_error(error, "xai").kind == ErrorKind.RATE_LIMIT
