"""Calls, streaming, tool calls, listing, counting and settings, through the real anthropic SDK
against the emulator over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from massgen_plugins.errors import MissingCredentialsError
from massgen_plugins.providers import resolve_settings
from massgen_plugins.types import CompletionRequest, Message, ProviderSettings, TokenCountRequest

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
MODEL = "anthropic/claude-haiku-4-5-20251001"


def _posts(emu, suffix):
    return [r for r in emu.requests if r.provider == "anthropic" and r.path.endswith(suffix)]


def test_listing_follows_every_page_with_window_and_cap(emulator_env, settings, hooks):
    settings.extra["page_size"] = 4
    result = hooks.list_models("anthropic", settings)
    models = {m.id: m for m in result.value}
    assert result.plugin == "anthropic"
    assert set(models) == {m.id for m in emulator_env.models("anthropic")}
    haiku = models["claude-haiku-4-5-20251001"]
    assert (haiku.context_window, haiku.max_output_tokens) == (200_000, 64_000)
    assert haiku.display_name == "Claude Haiku 4.5" and haiku.chat is True
    assert haiku.provenance["context_window"] == "api"
    pages = [r for r in emulator_env.requests if r.path == "/v1/models"]
    assert len(pages) == 3  # 11 models at 4 per page
    assert pages[0].query.get("limit") == "4" and "after_id" not in pages[0].query
    assert pages[1].query.get("after_id") and pages[2].query.get("after_id")


async def test_complete_translates_the_conversation(emulator_env, settings, hooks):
    request = CompletionRequest(model=MODEL, max_tokens=300, messages=[
        Message(role="system", content="Be brief."),
        Message(role="assistant", content="(earlier)"),
        Message(role="user", content="Say hello"),
        Message(role="user", content="to the team"),
    ])
    response = await hooks.complete(request, settings)
    assert response.message.role == "assistant" and response.message.content
    assert response.finish_reason == "stop"
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    body = _posts(emulator_env, "/v1/messages")[-1].body
    assert body["system"] == "Be brief."
    assert body["max_tokens"] == 300
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert [b["text"] for b in body["messages"][2]["content"]] == ["Say hello", "to the team"]


async def test_default_max_tokens_is_sent_and_respects_a_known_output_cap(emulator_env, settings, hooks):
    from massgen_plugins.registry.lookup import clear_memo

    await hooks.complete(CompletionRequest(model=MODEL, messages=[Message(role="user", content="hi")]), settings)
    assert _posts(emulator_env, "/v1/messages")[-1].body["max_tokens"] == 4096

    # once the registry has listed the provider, a model whose cap is below the default gets its cap
    clear_memo()
    from massgen_plugins.registry import list_models

    list_models(["anthropic"], refresh=True)
    clear_memo()
    tiny = CompletionRequest(model="anthropic/claude-tiny-2k", messages=[Message(role="user", content="hi")])
    response = await hooks.complete(tiny, settings)
    assert response.message.content
    assert _posts(emulator_env, "/v1/messages")[-1].body["max_tokens"] == 512


async def test_non_streaming_tool_calls_and_round_trip(emulator_env, settings, hooks):
    ask = Message(role="user", content='Weather? [[call get_weather {"city": "Paris"}]] [[call get_weather {"city": "Oslo"}]]')
    response = await hooks.complete(CompletionRequest(model=MODEL, messages=[ask], tools=[WEATHER]), settings)
    calls = response.message.tool_calls
    assert response.finish_reason == "tool_calls"
    assert [json.loads(c.function["arguments"]) for c in calls] == [{"city": "Paris"}, {"city": "Oslo"}]
    assert all(c.function["name"] == "get_weather" and c.id for c in calls)
    sent = _posts(emulator_env, "/v1/messages")[-1].body
    assert sent["tools"][0]["input_schema"]["required"] == ["city"]

    follow = [ask, response.message,
              *[Message(role="tool", tool_call_id=c.id, content=f"sunny in {json.loads(c.function['arguments'])['city']}")
                for c in calls]]
    final = await hooks.complete(CompletionRequest(model=MODEL, messages=follow, tools=[WEATHER]), settings)
    assert final.message.content and not final.message.tool_calls
    body = _posts(emulator_env, "/v1/messages")[-1].body
    last = body["messages"][-1]
    assert last["role"] == "user"
    assert [b["type"] for b in last["content"]] == ["tool_result", "tool_result"]
    assert [b["tool_use_id"] for b in last["content"]] == [c.id for c in calls]


async def test_streaming_text_and_tool_calls(emulator_env, settings, hooks):
    ask = Message(role="user", content='Look it up [[call get_weather {"city": "Lima"}]]')
    events = [e async for e in hooks.stream(CompletionRequest(model=MODEL, messages=[ask], tools=[WEATHER]), settings)]
    assert events[-1].type == "done"
    calls = [e.tool_call for e in events if e.type == "tool_call"]
    assert len(calls) == 1 and json.loads(calls[0].function["arguments"]) == {"city": "Lima"}
    done = events[-1].response
    assert done.finish_reason == "tool_calls" and done.message.tool_calls[0].id == calls[0].id
    assert _posts(emulator_env, "/v1/messages")[-1].body["stream"] is True

    text_events = [e async for e in hooks.stream(
        CompletionRequest(model=MODEL, messages=[Message(role="user", content="tell me a story")]), settings)]
    deltas = "".join(e.delta for e in text_events if e.type == "text")
    assert deltas and deltas == text_events[-1].response.message.content
    assert text_events[-1].response.usage.output_tokens > 0


async def test_sdk_retries_are_off(emulator_env, settings, hooks):
    from massgen_plugins.testing import Fault

    emulator_env.inject(Fault(kind="rate_limit", provider="anthropic", times=1, retry_after=0.01))
    with pytest.raises(Exception) as caught:
        await hooks.complete(CompletionRequest(model=MODEL, messages=[Message(role="user", content="hi")]), settings)
    assert type(caught.value).__name__ == "RateLimitError"
    assert len(_posts(emulator_env, "/v1/messages")) == 1


def test_count_endpoint_when_network_is_allowed(emulator_env, hooks):
    import massgen_plugins_anthropic as plugin

    request = TokenCountRequest(model=MODEL, tools=[WEATHER], allow_network=True, messages=[
        Message(role="system", content="You are a weather bot."),
        Message(role="user", content="What is the weather in Paris today? " * 20)])
    result = hooks.count_tokens(request)
    assert result.plugin == "anthropic"
    count = result.value
    assert (count.method, count.exact, count.margin) == ("api", True, 0.0)
    calls = _posts(emulator_env, "/v1/messages/count_tokens")
    assert len(calls) == 1
    assert calls[0].body["system"] == "You are a weather bot." and calls[0].body["tools"][0]["name"] == "get_weather"
    assert count.tokens > 100

    offline = request.model_copy(update={"allow_network": False})
    from massgen_plugins.providers import resolve_settings

    assert plugin.count_tokens(offline, resolve_settings("anthropic")) is None
    assert len(_posts(emulator_env, "/v1/messages/count_tokens")) == 1  # no second request


def test_missing_key_names_the_variable(emulator_env, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(MissingCredentialsError, match="ANTHROPIC_API_KEY"):
        resolve_settings("anthropic")
    from massgen_plugins_anthropic.calls import list_models

    with pytest.raises(MissingCredentialsError, match="ANTHROPIC_API_KEY"):
        list_models(ProviderSettings(provider="anthropic", base_url=emulator_env.base_url("anthropic")))


def test_base_url_override_from_environment(emulator_env, monkeypatch, hooks):
    from massgen_plugins.testing import Emulator

    with Emulator() as other:  # a second server: only the variable can send the SDK there
        monkeypatch.setenv("ANTHROPIC_BASE_URL", other.base_url("anthropic"))
        settings = resolve_settings("anthropic")
        assert settings.base_url == other.base_url("anthropic")
        assert hooks.list_models("anthropic", settings).value
        assert [r.path for r in other.requests][:1] == ["/v1/models"]
        assert not emulator_env.requests

    monkeypatch.delenv("ANTHROPIC_BASE_URL")
    assert resolve_settings("anthropic").base_url == "https://api.anthropic.com"


def test_importing_the_plugin_does_not_import_the_sdk():
    code = ("import sys, massgen_plugins_anthropic; "
            "assert 'anthropic' not in sys.modules, 'SDK imported'; "
            "assert 'massgen_plugins_anthropic.calls' not in sys.modules; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


async def test_temperature_reaches_the_wire_without_breaking_the_sdk(emulator_env):
    """anthropic 2.x removed ``temperature`` from ``messages.create``; it travels in the body."""
    import asyncio  # noqa: F401 - async test

    from massgen_plugins.manager import get_hooks
    from massgen_plugins.providers import resolve_settings
    from massgen_plugins.types import CompletionRequest, Message

    request = CompletionRequest(model="anthropic/claude-haiku-4-5-20251001", temperature=0.2,
                                messages=[Message(role="user", content="hi")], options={"top_k": 5})
    reply = await get_hooks().complete(request, resolve_settings("anthropic"))
    assert reply.message.content
    body = [r.body for r in emulator_env.requests if r.path.endswith("/messages")][-1]
    assert body["temperature"] == 0.2 and body["top_k"] == 5


async def test_an_error_body_with_http_200_is_raised_not_read_as_an_empty_reply(emulator_env, settings, hooks):
    from massgen_plugins.testing import Fault
    from massgen_plugins.types import ErrorKind

    emulator_env.inject(Fault(kind="http200_error", provider="anthropic", times=1, message="Internal server error"))
    with pytest.raises(Exception) as caught:
        await hooks.complete(CompletionRequest(model=MODEL, messages=[Message(role="user", content="hi")]), settings)
    assert type(caught.value).__name__ == "APIStatusError" and caught.value.status_code == 200
    info = hooks.classify_error(caught.value, "anthropic").value
    assert info is not None and info.retryable and info.kind != ErrorKind.OVERFLOW
    assert "Internal server error" in info.message
