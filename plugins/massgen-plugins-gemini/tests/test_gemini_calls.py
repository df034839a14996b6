"""Calls, streaming, tool calls, listing, counting and settings, through the real google-genai SDK
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
MODEL = "gemini/gemini-2.5-flash"


def _calls(emu, suffix):
    return [r for r in emu.requests if r.provider == "gemini" and r.path.endswith(suffix)]


def test_listing_follows_every_page_and_marks_chat_models(emulator_env, settings, hooks):
    settings.extra["page_size"] = 5
    result = hooks.list_models("gemini", settings)
    models = {m.id: m for m in result.value}
    assert result.plugin == "gemini"
    assert set(models) == {m.id for m in emulator_env.models("gemini")}
    flash = models["gemini-2.5-flash"]
    assert (flash.context_window, flash.max_output_tokens) == (1_048_576, 65_536)
    assert flash.chat is True and flash.kind == "chat" and "generateContent" in flash.model_extra["supported_actions"]
    assert models["gemini-embedding-001"].chat is False and models["gemini-embedding-001"].kind == "embedding"
    assert models["gemini-2.5-flash-preview-tts"].chat is False
    pages = [r for r in emulator_env.requests if r.path.endswith("/models")]
    assert len(pages) == 3  # 13 models at 5 per page
    assert all(r.path == "/v1beta/models" for r in pages)  # pinned API version, not the SDK's v1 default
    assert pages[0].query.get("pageSize") == "5" and "pageToken" not in pages[0].query
    assert pages[1].query.get("pageToken") and pages[2].query.get("pageToken")


async def test_complete_sends_system_instruction_and_merged_contents(emulator_env, settings, hooks):
    request = CompletionRequest(model=MODEL, max_tokens=200, temperature=0.2, messages=[
        Message(role="system", content="Be brief."),
        Message(role="user", content="Say hello"),
        Message(role="user", content="to the team"),
    ])
    response = await hooks.complete(request, settings)
    assert response.message.content and response.finish_reason == "stop"
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    sent = _calls(emulator_env, ":generateContent")[-1]
    assert sent.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent.body["systemInstruction"]["parts"][0]["text"] == "Be brief."
    assert sent.body["contents"] == [{"role": "user", "parts": [{"text": "Say hello"}, {"text": "to the team"}]}]
    assert sent.body["generationConfig"]["maxOutputTokens"] == 200


async def test_non_streaming_tool_calls_and_round_trip(emulator_env, settings, hooks):
    ask = Message(role="user", content='Weather? [[call get_weather {"city": "Paris"}]] [[call get_weather {"city": "Oslo"}]]')
    response = await hooks.complete(CompletionRequest(model=MODEL, messages=[ask], tools=[WEATHER]), settings)
    calls = response.message.tool_calls
    assert response.finish_reason == "tool_calls"
    assert [json.loads(c.function["arguments"]) for c in calls] == [{"city": "Paris"}, {"city": "Oslo"}]
    sent = _calls(emulator_env, ":generateContent")[-1].body
    declaration = sent["tools"][0]["functionDeclarations"][0]
    # google-genai serialises FunctionDeclaration fields by their proto names (snake_case), which
    # the REST API accepts alongside camelCase.
    schema = declaration.get("parametersJsonSchema") or declaration["parameters_json_schema"]
    assert declaration["name"] == "get_weather" and schema["required"] == ["city"]

    follow = [ask, response.message, *[Message(role="tool", tool_call_id=c.id, content='{"sky": "clear"}') for c in calls]]
    final = await hooks.complete(CompletionRequest(model=MODEL, messages=follow, tools=[WEATHER]), settings)
    assert final.message.content and not final.message.tool_calls
    contents = _calls(emulator_env, ":generateContent")[-1].body["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    responses = [p["functionResponse"] for p in contents[2]["parts"]]
    assert [r["name"] for r in responses] == ["get_weather", "get_weather"]
    assert responses[0]["response"] == {"sky": "clear"}


async def test_streaming_text_and_tool_calls(emulator_env, settings, hooks):
    ask = Message(role="user", content='Look it up [[call get_weather {"city": "Lima"}]]')
    events = [e async for e in hooks.stream(CompletionRequest(model=MODEL, messages=[ask], tools=[WEATHER]), settings)]
    assert events[-1].type == "done"
    calls = [e.tool_call for e in events if e.type == "tool_call"]
    assert len(calls) == 1 and json.loads(calls[0].function["arguments"]) == {"city": "Lima"}
    assert events[-1].response.finish_reason == "tool_calls"
    sent = _calls(emulator_env, ":streamGenerateContent")[-1]
    assert sent.query.get("alt") == "sse"

    text_events = [e async for e in hooks.stream(
        CompletionRequest(model=MODEL, messages=[Message(role="user", content="tell me a story")]), settings)]
    deltas = "".join(e.delta for e in text_events if e.type == "text")
    assert deltas and deltas == text_events[-1].response.message.content
    assert text_events[-1].response.usage.input_tokens > 0


async def test_sdk_does_not_retry(emulator_env, settings, hooks):
    from massgen_plugins.testing import Fault

    emulator_env.inject(Fault(kind="server_error", provider="gemini", times=1))
    with pytest.raises(Exception) as caught:
        await hooks.complete(CompletionRequest(model=MODEL, messages=[Message(role="user", content="hi")]), settings)
    assert type(caught.value).__name__ == "ServerError"
    assert len(_calls(emulator_env, ":generateContent")) == 1


def test_count_endpoint_when_network_is_allowed(emulator_env, hooks):
    import massgen_plugins_gemini as plugin

    request = TokenCountRequest(model=MODEL, allow_network=True, messages=[
        Message(role="system", content="You are a weather bot."),
        Message(role="user", content="What is the weather in Paris today? " * 20)])
    result = hooks.count_tokens(request)
    assert result.plugin == "gemini"
    count = result.value
    assert (count.method, count.exact, count.margin) == ("api", True, 0.0)
    sent = _calls(emulator_env, ":countTokens")
    assert len(sent) == 1 and sent[0].path == "/v1beta/models/gemini-2.5-flash:countTokens"
    texts = [p["text"] for c in sent[0].body["contents"] for p in c["parts"]]
    assert texts[0] == "You are a weather bot."  # the system prompt is counted too
    assert count.tokens > 100

    with_tools = hooks.count_tokens(request.model_copy(update={"tools": [WEATHER]})).value
    assert with_tools.exact is False and with_tools.margin > 0 and with_tools.tokens > count.tokens

    from massgen_plugins.providers import resolve_settings

    assert plugin.count_tokens(request.model_copy(update={"allow_network": False}), resolve_settings("gemini")) is None
    assert len(_calls(emulator_env, ":countTokens")) == 2


def test_missing_key_names_both_variables(emulator_env, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY")
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    with pytest.raises(MissingCredentialsError, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        resolve_settings("gemini")
    from massgen_plugins_gemini.calls import list_models

    with pytest.raises(MissingCredentialsError, match="GEMINI_API_KEY"):
        list_models(ProviderSettings(provider="gemini", base_url=emulator_env.base_url("gemini")))


def test_google_api_key_is_accepted(emulator_env, monkeypatch, hooks):
    key = emulator_env.env()["GEMINI_API_KEY"]
    monkeypatch.delenv("GEMINI_API_KEY")
    monkeypatch.setenv("GOOGLE_API_KEY", key)
    assert resolve_settings("gemini").key() == key


def test_base_url_override_from_environment(emulator_env, monkeypatch, hooks):
    from massgen_plugins.testing import Emulator

    with Emulator() as other:  # a second server: only the variable can send the SDK there
        monkeypatch.setenv("GEMINI_BASE_URL", other.base_url("gemini"))
        settings = resolve_settings("gemini")
        assert settings.base_url == other.base_url("gemini")
        assert hooks.list_models("gemini", settings).value
        assert [r.path for r in other.requests][:1] == ["/v1beta/models"]
        assert not emulator_env.requests

    monkeypatch.delenv("GEMINI_BASE_URL")
    assert resolve_settings("gemini").base_url == "https://generativelanguage.googleapis.com"


def test_importing_the_plugin_does_not_import_the_sdk():
    code = ("import sys, massgen_plugins_gemini; "
            "assert not any(m == 'google.genai' or m.startswith('google.genai.') for m in sys.modules), 'SDK imported'; "
            "print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


async def test_runs_on_httpx_without_hidden_connection_retries(emulator_env, hooks):
    """google-genai would switch to aiohttp when it is importable, and aiohttp's path retries a
    refused connection once after sleeping 1-10 s. The plugin injects httpx clients instead."""
    import socket

    import httpx

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = resolve_settings("gemini", base_url=f"http://127.0.0.1:{port}/gemini", timeout=10)
    request = CompletionRequest(model=MODEL, messages=[Message(role="user", content="hi")])
    with pytest.raises(httpx.ConnectError) as caught:
        await hooks.complete(request, settings)
    info = hooks.classify_error(caught.value, "gemini").value
    assert info.kind.value == "connection" and info.retryable


async def test_an_error_body_with_http_200_is_raised_not_read_as_an_empty_reply(emulator_env, settings, hooks):
    from massgen_plugins.testing import Fault
    from massgen_plugins.types import CompletionRequest, ErrorKind, Message

    emulator_env.inject(Fault(kind="http200_error", provider="gemini", times=1, message="An internal error has occurred."))
    with pytest.raises(Exception) as caught:
        await hooks.complete(CompletionRequest(model=MODEL, messages=[Message(role="user", content="hi")]), settings)
    assert type(caught.value).__module__.startswith("google.genai")  # the SDK's own error type
    info = hooks.classify_error(caught.value, "gemini").value
    assert info is not None and info.retryable and info.kind in (ErrorKind.SERVER, ErrorKind.STREAM)
    assert "An internal error has occurred." in info.message
