"""OpenAI calls through the real openai SDK against the emulator: chat completions (JSON and
SSE, tool calls incl. parallel ones), retries off, credentials and base-URL resolution."""

from __future__ import annotations

import json
import subprocess
import sys

import massgen_plugins_openai as plugin
import openai
import pytest
from massgen_plugins.errors import MissingCredentialsError
from massgen_plugins.testing import Fault
from massgen_plugins.types import CompletionRequest, Message, ProviderSettings


def _request(text: str, **kwargs) -> CompletionRequest:
    return CompletionRequest(model="openai/gpt-4o-mini", messages=[
        Message(role="system", content="You are terse."), Message(role="user", content=text)], **kwargs)


async def _collect(iterator):
    return [event async for event in iterator]


async def test_complete_text_reports_usage_and_sends_chat_format(emulator_env, openai_settings):
    response = await plugin.complete(_request("hello there", max_tokens=50, temperature=0.2), openai_settings)
    assert response.message.role == "assistant"
    assert "hello there" in response.message.content
    assert response.finish_reason == "stop"
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    [sent] = emulator_env.requests_for("openai", "/chat/completions")
    assert sent.body["model"] == "gpt-4o-mini"
    assert sent.body["max_completion_tokens"] == 50
    assert sent.body["messages"][0] == {"role": "system", "content": "You are terse."}


async def test_complete_parallel_tool_calls(emulator_env, openai_settings, weather_tool):
    text = 'weather? [[call get_weather {"city": "Paris"}]] [[call get_weather {"city": "Rome"}]]'
    response = await plugin.complete(_request(text, tools=[weather_tool]), openai_settings)
    calls = response.message.tool_calls
    assert response.finish_reason == "tool_calls"
    assert [json.loads(c.function["arguments"]) for c in calls] == [{"city": "Paris"}, {"city": "Rome"}]
    assert all(c.function["name"] == "get_weather" and c.id for c in calls)
    [sent] = emulator_env.requests_for("openai", "/chat/completions")
    assert sent.body["tools"] == [weather_tool]


async def test_tool_result_round_trip(emulator_env, openai_settings, weather_tool):
    first = await plugin.complete(_request('[[call get_weather {"city": "Oslo"}]]', tools=[weather_tool]),
                                  openai_settings)
    call = first.message.tool_calls[0]
    follow = _request('[[call get_weather {"city": "Oslo"}]]', tools=[weather_tool])
    follow.messages += [first.message, Message(role="tool", tool_call_id=call.id, content="-3C, snow")]
    follow.messages.append(Message(role="user", content="thanks, summary please"))
    second = await plugin.complete(follow, openai_settings)
    assert second.message.content and not second.message.tool_calls
    sent = emulator_env.requests_for("openai", "/chat/completions")[-1].body["messages"]
    assert sent[2]["tool_calls"][0]["id"] == call.id and sent[2]["content"] is None
    assert sent[3] == {"role": "tool", "content": "-3C, snow", "tool_call_id": call.id}


async def test_stream_text_then_done(emulator_env, openai_settings):
    events = await _collect(plugin.stream(_request("stream me a reply"), openai_settings))
    texts = [e.delta for e in events if e.type == "text"]
    assert len(texts) > 1
    assert events[-1].type == "done"
    final = events[-1].response
    assert final.message.content == "".join(texts)
    assert final.usage.input_tokens > 0  # include_usage was requested and honoured
    [sent] = emulator_env.requests_for("openai", "/chat/completions")
    assert sent.body["stream"] is True and sent.body["stream_options"] == {"include_usage": True}


async def test_stream_assembles_parallel_tool_calls(emulator_env, openai_settings, weather_tool):
    text = '[[call get_weather {"city": "Lima", "unit": "celsius"}]] [[call get_weather {"city": "Quito"}]]'
    events = await _collect(plugin.stream(_request(text, tools=[weather_tool]), openai_settings))
    calls = [e.tool_call for e in events if e.type == "tool_call"]
    assert [json.loads(c.function["arguments"]) for c in calls] == [
        {"city": "Lima", "unit": "celsius"}, {"city": "Quito"}]
    assert len({c.id for c in calls}) == 2
    done = events[-1]
    assert done.type == "done" and done.response.finish_reason == "tool_calls"
    assert [c.id for c in done.response.message.tool_calls] == [c.id for c in calls]


async def test_truncated_stream_raises_connection_error(emulator_env, openai_settings):
    emulator_env.inject(Fault(kind="truncated_stream", provider="openai"))
    with pytest.raises(openai.APIConnectionError):
        await _collect(plugin.stream(_request("a reply that will be cut short"), openai_settings))


async def test_sdk_retries_are_off(emulator_env, openai_settings):
    emulator_env.inject(Fault(kind="rate_limit", provider="openai", times=1))
    with pytest.raises(openai.RateLimitError):
        await plugin.complete(_request("hi"), openai_settings)
    assert len(emulator_env.requests_for("openai", "/chat/completions")) == 1


async def test_missing_key_names_the_variable_and_sends_nothing(emulator_env):
    settings = ProviderSettings(provider="openai", base_url=emulator_env.base_url("openai"))
    with pytest.raises(MissingCredentialsError, match="OPENAI_API_KEY"):
        await plugin.complete(_request("hi"), settings)
    with pytest.raises(MissingCredentialsError, match="OPENAI_API_KEY"):
        await _collect(plugin.stream(_request("hi"), settings))
    with pytest.raises(MissingCredentialsError, match="OPENAI_API_KEY"):
        plugin.list_models("openai", settings)
    assert emulator_env.requests == []


def test_resolve_settings_without_key_names_the_variable(monkeypatch):
    from massgen_plugins.providers import resolve_settings

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(MissingCredentialsError, match="OPENAI_API_KEY"):
        resolve_settings("openai")


async def test_base_url_override_from_environment(emulator_env, openai_settings, monkeypatch):
    assert openai_settings.base_url == emulator_env.base_url("openai")
    assert openai_settings.key() == emulator_env.env()["OPENAI_API_KEY"]
    await plugin.complete(_request("routed"), openai_settings)
    assert len(emulator_env.requests_for("openai")) == 1
    from massgen_plugins.providers import resolve_settings

    monkeypatch.delenv("OPENAI_BASE_URL")
    assert resolve_settings("openai").base_url == "https://api.openai.com/v1"


def test_other_providers_requests_are_not_routed_here():
    from massgen_plugins.manager import get_hooks

    hooks = get_hooks()
    route = hooks.provider_table().route("xai")
    assert hooks.provider_table().owners["openai"] == "openai"
    assert not route("openai") and route("xai")  # the host asks xai's owner, never this plugin
    assert "openai" not in {i.plugin_name for i in hooks.compress_stages("xai")}
    assert "openai" in {i.plugin_name for i in hooks.compress_stages("openai")}


def test_register_providers_declares_openai(monkeypatch, tmp_path):
    monkeypatch.setenv("MASSGEN_PLUGINS_HOME", str(tmp_path))  # no config file: OpenAI alone
    (info,) = plugin.register_providers()
    assert info.name == "openai" and info.api_key_env == ["OPENAI_API_KEY"]
    assert info.base_url_env == "OPENAI_BASE_URL" and info.default_base_url == "https://api.openai.com/v1"
    assert info.sdk == "openai" and info.tokenizer == "tiktoken:o200k_base" and info.token_margin == 0.02


def test_importing_the_plugin_does_not_import_the_sdk():
    code = ("import sys, massgen_plugins_openai, massgen_plugins_openai.kit; "
            "bad = [m for m in ('openai', 'tiktoken', 'pydantic') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_client_timeout_and_dropped_connection_are_transient(emulator_env, openai_settings):
    from massgen_plugins.types import ErrorKind

    emulator_env.inject(Fault(kind="hang", provider="openai", seconds=5))
    with pytest.raises(openai.APITimeoutError) as info:
        await plugin.complete(_request("hi", timeout=0.3), openai_settings)
    timeout = plugin.classify_error(info.value, "openai")
    assert timeout.kind == ErrorKind.TIMEOUT and timeout.retryable is True
    emulator_env.clear()
    emulator_env.inject(Fault(kind="drop", provider="openai"))
    with pytest.raises(openai.APIConnectionError) as info:
        await plugin.complete(_request("hi"), openai_settings)
    dropped = plugin.classify_error(info.value, "openai")
    assert dropped.kind == ErrorKind.CONNECTION and dropped.retryable is True
    assert plugin.detect_overflow(info.value, "openai", "openai/gpt-4o-mini") is None


async def test_each_request_timeout_reaches_the_sdk_through_its_cached_client(emulator_env, openai_settings):
    """No ``timeout=`` per call: the client for the request's timeout carries it, and a call with
    another timeout gets another client (the SDK sends the read timeout it applies as a header)."""
    await plugin.complete(_request("a patient call", timeout=30.0), openai_settings)
    await plugin.complete(_request("the same timeout again", timeout=30.0), openai_settings)
    emulator_env.inject(Fault(kind="hang", provider="openai", seconds=5))
    with pytest.raises(openai.APITimeoutError):
        await plugin.complete(_request("an impatient call", timeout=0.3), openai_settings)
    sent = emulator_env.requests_for("openai", "/chat/completions")
    assert [r.headers["x-stainless-read-timeout"] for r in sent] == ["30.0", "30.0", "0.3"]
    assert all("timeout" not in r.body for r in sent)


@pytest.mark.parametrize(("options", "path"), [({}, "/chat/completions"), ({"api": "responses"}, "/responses")])
async def test_error_in_http_200_body_names_the_request_without_its_key(emulator_env, openai_settings,
                                                                         options, path):
    """The response is parsed without the raw-response wrapper; an error object in a 200 body
    still raises ``openai.APIError`` with the call's method and URL (and no Authorization header)."""
    emulator_env.inject(Fault(kind="http200_error", provider="openai", message="upstream went away"))
    with pytest.raises(openai.APIError) as info:
        await plugin.complete(_request("hi", options=options), openai_settings)
    error = info.value
    assert type(error) is openai.APIError and "upstream went away" in str(error)
    assert error.request.method == "POST"
    assert str(error.request.url) == emulator_env.base_url("openai").rstrip("/") + path
    assert "authorization" not in {k.lower() for k in error.request.headers}
    assert openai_settings.key() not in repr(error.request.headers)
    classified = plugin.classify_error(error, "openai")
    assert classified.retryable is True
    [sent] = emulator_env.requests_for("openai", path)
    assert sent.status == 200


async def test_response_fields_are_mapped_from_the_plain_sdk_call(emulator_env, openai_settings, weather_tool):
    response = await plugin.complete(_request('[[call get_weather {"city": "Oslo"}]]', tools=[weather_tool]),
                                     openai_settings)
    [sent] = emulator_env.requests_for("openai", "/chat/completions")
    assert sent.headers.get("x-stainless-raw-response") is None  # no raw-response wrapper
    assert response.id and response.id.startswith("chatcmpl")
    assert response.finish_reason == "tool_calls" and response.message.content is None
    [call] = response.message.tool_calls
    assert call.function["name"] == "get_weather" and json.loads(call.function["arguments"]) == {"city": "Oslo"}
    assert call.id
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0


def test_wire_messages_match_each_message_dumped_on_its_own():
    """The list is serialized in one call; the result is what each message's own dump gives:
    extra keys kept, None fields dropped, a tool-only assistant turn with an explicit null."""
    from massgen_plugins_openai.chat import wire_messages

    class Tagged(Message):
        tag: str = "kept"

    call = {"id": "call_1", "type": "function", "function": {"name": "read", "arguments": "{}"}}
    messages = [Message(role="system", content="be brief"),
                Message(role="user", content=[{"type": "text", "text": "hi"}], name="ann"),
                Message(role="assistant", content=None, tool_calls=[call]),
                Message(role="tool", tool_call_id="call_1", content="done"),
                Message.model_validate({"role": "user", "content": "x", "cache_control": {"type": "ephemeral"}})]
    expected = [m.model_dump(mode="json", exclude_none=True) for m in messages]
    expected[2]["content"] = None
    assert wire_messages(messages) == expected
    assert "content" in wire_messages(messages)[2] and wire_messages(messages)[4]["cache_control"] == {"type": "ephemeral"}
    mixed = [*messages, Tagged(role="user", content="sub")]
    assert wire_messages(mixed)[-1] == {"role": "user", "content": "sub", "tag": "kept"}
