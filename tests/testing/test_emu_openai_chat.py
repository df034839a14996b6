"""OpenAI models and chat completions through the real openai SDK."""

from __future__ import annotations

import json

import openai
import pytest
from massgen_plugins.testing import EmulatedModel

TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "weather",
                                           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]


def test_models_list_has_chat_and_non_chat_models(openai_client):
    ids = [m.id for m in openai_client.models.list()]
    assert "gpt-4o" in ids and "gpt-4o-mini-8k" in ids
    assert {"text-embedding-3-small", "whisper-1", "tts-1"} <= set(ids)
    assert openai_client.models.retrieve("gpt-4o").owned_by == "openai"


def test_set_models_replaces_catalogue(emu, openai_client):
    emu.set_models("openai", [EmulatedModel("only-one", 1000, 100)])
    assert [m.id for m in openai_client.models.list()] == ["only-one"]
    assert [m.id for m in emu.models("openai")] == ["only-one"]


def test_chat_reply_is_deterministic_with_real_usage(openai_client):
    msgs = [{"role": "user", "content": "hello there, how are you today"}]
    first = openai_client.chat.completions.create(model="gpt-4o", messages=msgs)
    second = openai_client.chat.completions.create(model="gpt-4o", messages=msgs)
    assert first.choices[0].message.content == "emulated reply from gpt-4o to: hello there, how are you today"
    assert first.choices[0].message.content == second.choices[0].message.content
    assert first.choices[0].finish_reason == "stop"
    assert first.usage.prompt_tokens > 3 and first.usage.completion_tokens > 3
    assert first.usage.total_tokens == first.usage.prompt_tokens + first.usage.completion_tokens


def test_summary_request_keeps_lines_with_numbers(openai_client):
    convo = "We met at 10:30.\nnothing important here\nTicket ABC-123 is open.\nsmall talk"
    reply = openai_client.chat.completions.create(model="gpt-4o", messages=[
        {"role": "system", "content": "Summarize the conversation."}, {"role": "user", "content": convo}])
    text = reply.choices[0].message.content
    assert "We met at 10:30." in text and "Ticket ABC-123 is open." in text
    assert "small talk" not in text


def test_tool_call_markers_give_parallel_tool_calls(openai_client):
    content = 'go [[call get_weather {"city": "Paris"}]] and [[call get_weather {"city": "Rome"}]]'
    reply = openai_client.chat.completions.create(model="gpt-4o", tools=TOOLS,
                                                  messages=[{"role": "user", "content": content}])
    calls = reply.choices[0].message.tool_calls
    assert reply.choices[0].finish_reason == "tool_calls"
    assert [json.loads(c.function.arguments) for c in calls] == [{"city": "Paris"}, {"city": "Rome"}]
    # the tool result turn ends the loop with text
    follow = openai_client.chat.completions.create(model="gpt-4o", tools=TOOLS, messages=[
        {"role": "user", "content": content},
        reply.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": calls[0].id, "content": "sunny 21C"},
        {"role": "tool", "tool_call_id": calls[1].id, "content": "rain 15C"},
    ])
    assert follow.choices[0].message.tool_calls is None
    assert "after tool get_weather: rain 15C" in follow.choices[0].message.content


def test_streaming_with_tool_calls_and_usage(openai_client):
    content = '[[call get_weather {"city": "Paris"}]] [[call get_weather {"city": "Oslo"}]]'
    stream = openai_client.chat.completions.create(model="gpt-4o", tools=TOOLS, stream=True,
                                                   stream_options={"include_usage": True},
                                                   messages=[{"role": "user", "content": content}])
    args: dict[int, str] = {}
    names: dict[int, str] = {}
    finish, usage = None, None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for call in choice.delta.tool_calls or []:
                args[call.index] = args.get(call.index, "") + (call.function.arguments or "")
                if call.function.name:
                    names[call.index] = call.function.name
    assert finish == "tool_calls"
    assert names == {0: "get_weather", 1: "get_weather"}
    assert [json.loads(args[i]) for i in (0, 1)] == [{"city": "Paris"}, {"city": "Oslo"}]
    assert usage is not None and usage.prompt_tokens > 0


def test_streaming_text_matches_non_streaming(openai_client):
    msgs = [{"role": "user", "content": "stream me a reply please, one two three four five"}]
    text = "".join(c.choices[0].delta.content or "" for c in
                   openai_client.chat.completions.create(model="gpt-4o", messages=msgs, stream=True) if c.choices)
    plain = openai_client.chat.completions.create(model="gpt-4o", messages=msgs).choices[0].message.content
    assert text == plain


def test_window_enforced_with_messages_only(openai_client):
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.chat.completions.create(model="gpt-test-2k", messages=[{"role": "user", "content": "word " * 3000}])
    err = info.value
    assert err.status_code == 400 and err.code == "context_length_exceeded" and err.param == "messages"
    assert err.type == "invalid_request_error"
    assert "maximum context length is 2048 tokens" in err.body["message"]
    assert err.request_id and err.request_id.startswith("req_")


def test_window_counts_requested_output(openai_client):
    # fits alone, but not with 500 completion tokens on a 2k window
    msgs = [{"role": "user", "content": "word " * 1700}]
    openai_client.chat.completions.create(model="gpt-test-2k", messages=msgs)
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.chat.completions.create(model="gpt-test-2k", messages=msgs, max_completion_tokens=500)
    assert "in the messages, 500 in the completion" in info.value.body["message"]


def test_gpt5_input_limit_wording(emu, openai_client):
    emu.set_models("openai", [EmulatedModel("gpt-5-small", 4000, 1000, input_limit=3000)])
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.chat.completions.create(model="gpt-5-small", messages=[{"role": "user", "content": "word " * 3100}])
    assert info.value.body["message"].startswith("Input tokens exceed the configured limit of 3000 tokens.")
    assert info.value.code == "context_length_exceeded"


def test_output_cap_is_not_an_overflow(openai_client):
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}],
                                              max_tokens=20000)
    assert info.value.code == "invalid_value" and info.value.param == "max_tokens"
    assert "at most 16384 completion tokens" in info.value.body["message"]


def test_unknown_and_non_chat_models_are_404(openai_client):
    with pytest.raises(openai.NotFoundError) as info:
        openai_client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "hi"}])
    assert info.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError, match="not a chat model"):
        openai_client.chat.completions.create(model="whisper-1", messages=[{"role": "user", "content": "hi"}])


def test_request_log_records_and_redacts(emu, openai_client):
    openai_client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    (rec,) = emu.requests
    assert (rec.provider, rec.method, rec.path, rec.model, rec.status) == ("openai", "POST", "/v1/chat/completions",
                                                                         "gpt-4o", 200)
    assert rec.body["messages"][0]["content"] == "hi"
    assert "sk-test-openai-0001" not in rec.headers["authorization"]
    assert rec.headers["authorization"].endswith("0001>")
