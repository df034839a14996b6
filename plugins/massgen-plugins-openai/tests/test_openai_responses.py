"""The Responses API path (/responses) through the real openai SDK against the emulator:
conversion, tool calls (JSON and SSE), and the three in-stream error forms plus the 400."""

from __future__ import annotations

import json

import massgen_plugins
import massgen_plugins_openai as plugin
import openai
import pytest
from massgen_plugins.testing import Fault
from massgen_plugins.types import CompletionRequest, ErrorKind, Message, ToolCall

LONG = "alpha beta gamma delta " * 2_400  # ~9.6k tokens: over an 8k window


def _request(text: str, model: str = "gpt-4o-mini", **kwargs) -> CompletionRequest:
    return CompletionRequest(model=f"openai/{model}", options={"api": "responses"}, messages=[
        Message(role="system", content="Be brief."), Message(role="user", content=text)], **kwargs)


def _responses_calls(emu):
    return [r for r in emu.requests_for("openai") if r.path.endswith("/responses")]


async def test_complete_converts_chat_format_and_parses_tool_calls(emulator_env, openai_settings, weather_tool):
    request = _request('[[call get_weather {"city": "Paris"}]] [[call get_weather {"city": "Rome"}]]',
                       tools=[weather_tool], max_tokens=300)
    request.messages[1:1] = [
        Message(role="user", content="earlier"),
        Message(role="assistant", content=None, tool_calls=[
            ToolCall(id="call_0", function={"name": "get_weather", "arguments": '{"city": "Oslo"}'})]),
        Message(role="tool", tool_call_id="call_0", content="snow"),
        Message(role="assistant", content="It snows in Oslo."),
    ]
    response = await plugin.complete(request, openai_settings)
    assert response.finish_reason == "tool_calls"
    assert [json.loads(c.function["arguments"]) for c in response.message.tool_calls] == [
        {"city": "Paris"}, {"city": "Rome"}]
    [sent] = _responses_calls(emulator_env)
    body = sent.body
    assert body["instructions"] == "Be brief." and body["max_output_tokens"] == 300
    assert body["tools"] == [{"type": "function", "name": "get_weather",
                              "description": weather_tool["function"]["description"],
                              "parameters": weather_tool["function"]["parameters"]}]
    assert body["input"][:4] == [
        {"role": "user", "content": "earlier"},
        {"type": "function_call", "call_id": "call_0", "name": "get_weather", "arguments": '{"city": "Oslo"}'},
        {"type": "function_call_output", "call_id": "call_0", "output": "snow"},
        {"role": "assistant", "content": "It snows in Oslo."},
    ]
    assert "api" not in body  # control options never reach the provider


async def test_stream_text_and_tool_calls(emulator_env, openai_settings, weather_tool):
    events = [e async for e in plugin.stream(_request("tell me something"), openai_settings)]
    assert events[-1].type == "done"
    text = "".join(e.delta for e in events if e.type == "text")
    assert text and text == events[-1].response.message.content
    assert events[-1].response.usage.input_tokens > 0
    events = [e async for e in plugin.stream(
        _request('[[call get_weather {"city": "Kyiv"}]]', tools=[weather_tool]), openai_settings)]
    [call] = [e.tool_call for e in events if e.type == "tool_call"]
    assert json.loads(call.function["arguments"]) == {"city": "Kyiv"}
    assert events[-1].response.finish_reason == "tool_calls"


async def test_responses_overflow_400(emulator_env, openai_settings):
    with pytest.raises(openai.BadRequestError) as info:
        await plugin.complete(_request(LONG, "gpt-4o-mini-8k"), openai_settings)
    overflow = plugin.detect_overflow(info.value, "openai", "openai/gpt-4o-mini-8k")
    assert overflow.matched_by == "structure:code" and overflow.status == 400 and not overflow.in_stream
    assert "context window" in overflow.message
    assert massgen_plugins.detect_overflow(info.value, model="openai/gpt-4o-mini-8k") is not None


async def test_responses_stream_overflow_nested_error_is_raised_without_status(emulator_env, openai_settings):
    with pytest.raises(openai.APIError) as info:
        async for _ in plugin.stream(_request(LONG, "gpt-4o-mini-8k"), openai_settings):
            pass
    error = info.value
    assert type(error) is openai.APIError and error.code == "context_length_exceeded"
    overflow = plugin.detect_overflow(error, "openai", "openai/gpt-4o-mini-8k")
    assert overflow.in_stream is True and overflow.status is None and overflow.matched_by == "structure:code"
    assert plugin.classify_error(error, "openai").kind == ErrorKind.OVERFLOW


@pytest.mark.parametrize("form", ["flat", "failed"])
async def test_yielded_in_stream_overflow_events(emulator_env, openai_settings, form):
    emulator_env.inject(Fault(kind="stream_error", provider="openai", error_type="overflow", form=form))
    events = [e async for e in plugin.stream(_request("hello there, a long enough reply"), openai_settings)]
    assert events[-1].type == "error"  # the SDK yields these forms; the stream ends with them
    assert all(e.type != "done" for e in events)
    event = events[-1].error
    assert event.type == ("error" if form == "flat" else "response.failed")
    overflow = plugin.detect_overflow(event, "openai", "openai/gpt-4o-mini")
    assert overflow is not None and overflow.in_stream is True and overflow.code == "context_length_exceeded"
    public = massgen_plugins.detect_overflow(event, model="openai/gpt-4o-mini")
    assert public is not None and public.in_stream is True


@pytest.mark.parametrize("form", ["nested", "flat", "failed"])
async def test_in_stream_server_errors_are_not_overflow(emulator_env, openai_settings, form):
    emulator_env.inject(Fault(kind="stream_error", provider="openai", error_type="server_error", form=form))
    events = []
    error = None
    try:
        async for event in plugin.stream(_request("hello there, a long enough reply"), openai_settings):
            events.append(event)
    except openai.APIError as raised:
        error = raised
    if form == "nested":
        assert error is not None
    else:
        assert error is None and events[-1].type == "error"
        error = events[-1].error
    assert plugin.detect_overflow(error, "openai", "openai/gpt-4o-mini") is None
    info = plugin.classify_error(error, "openai")
    assert info.retryable is True and info.kind in (ErrorKind.STREAM, ErrorKind.SERVER)
