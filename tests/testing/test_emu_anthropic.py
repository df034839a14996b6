"""Anthropic through the real anthropic SDK: paginated models, messages, streaming, counting, errors."""

from __future__ import annotations

import json

import anthropic
import pytest
from massgen_plugins.testing import EmulatedModel, Fault

TOOLS = [{"name": "get_weather", "description": "weather", "input_schema": {
    "type": "object", "properties": {"city": {"type": "string"}}}}]


def test_models_paginate_with_after_id_and_has_more(emu, anthropic_client):
    ids = [m.id for m in anthropic_client.models.list(limit=3)]
    assert len(ids) == len(emu.models("anthropic")) > 6 and len(set(ids)) == len(ids)
    pages = emu.requests_for("anthropic", "/v1/models")
    assert len(pages) == -(-len(ids) // 3)
    assert pages[0].query == {"limit": "3"}
    assert pages[1].query == {"limit": "3", "after_id": ids[2]}
    first = anthropic_client.models.list(limit=3)
    assert first.has_more is True and first.first_id == ids[0] and first.last_id == ids[2]
    assert first.data[0].max_input_tokens == 200_000 and first.data[0].max_tokens == 64_000


def test_models_before_id_pages_backwards(anthropic_client):
    ids = [m.id for m in anthropic_client.models.list(limit=100)]
    page = anthropic_client.models.list(limit=2, before_id=ids[4])
    assert [m.id for m in page.data] == ids[2:4] and page.has_more is True
    assert [m.id for m in anthropic_client.models.list(limit=5, before_id=ids[2]).data] == ids[:2]


def test_retrieve_model_and_alias(anthropic_client):
    assert anthropic_client.models.retrieve("claude-haiku-4-5-20251001").display_name == "Claude Haiku 4.5"
    with pytest.raises(anthropic.NotFoundError):
        anthropic_client.models.retrieve("claude-nope")


def test_message_and_count_tokens_agree(anthropic_client):
    kwargs = dict(model="claude-haiku-4-5", system="be brief", tools=TOOLS,
                  messages=[{"role": "user", "content": "hello there friend"}])
    message = anthropic_client.messages.create(max_tokens=200, **kwargs)
    assert message.content[0].text == "emulated reply from claude-haiku-4-5 to: hello there friend"
    assert message.stop_reason == "end_turn"
    assert anthropic_client.messages.count_tokens(**kwargs).input_tokens == message.usage.input_tokens


def test_streamed_parallel_tool_use(anthropic_client):
    content = '[[call get_weather {"city": "Paris"}]] [[call get_weather {"city": "Lima"}]]'
    with anthropic_client.messages.stream(model="claude-haiku-4-5", max_tokens=200, tools=TOOLS,
                                          messages=[{"role": "user", "content": content}]) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    assert [(b.name, b.input) for b in final.content] == [("get_weather", {"city": "Paris"}),
                                                          ("get_weather", {"city": "Lima"})]
    assert kinds[0] == "message_start" and "input_json" in kinds and kinds[-1] == "message_stop"
    # raw events carry input_json_delta pieces that join to the arguments
    raw = anthropic_client.messages.create(model="claude-haiku-4-5", max_tokens=200, tools=TOOLS, stream=True,
                                           messages=[{"role": "user", "content": content}])
    pieces = "".join(e.delta.partial_json for e in raw if e.type == "content_block_delta" and e.index == 0)
    assert json.loads(pieces) == {"city": "Paris"}
    # the tool result turn (every call answered, as the API requires) is answered with text
    reply = anthropic_client.messages.create(model="claude-haiku-4-5", max_tokens=200, tools=TOOLS, messages=[
        {"role": "user", "content": content},
        {"role": "assistant", "content": [b.model_dump() for b in final.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": final.content[0].id, "content": "warm"},
                                     {"type": "tool_result", "tool_use_id": final.content[1].id, "content": "cold"}]},
    ])
    assert reply.content[0].text == "emulated reply from claude-haiku-4-5 after tool get_weather: cold"


def test_text_stream(anthropic_client):
    with anthropic_client.messages.stream(model="claude-tiny-8k", max_tokens=100,
                                          messages=[{"role": "user", "content": "a b c d e f"}]) as stream:
        text = "".join(stream.text_stream)
    assert text == "emulated reply from claude-tiny-8k to: a b c d e f"


def test_overflow_prompt_too_long(anthropic_client):
    with pytest.raises(anthropic.BadRequestError) as info:
        anthropic_client.messages.create(model="claude-tiny-8k", max_tokens=100,
                                         messages=[{"role": "user", "content": "word " * 9000}])
    err = info.value
    assert err.status_code == 400 and err.type == "invalid_request_error"
    assert err.body["type"] == "error"  # the full envelope
    message = err.body["error"]["message"]
    assert message.startswith("prompt is too long: ") and message.endswith(" tokens > 8192 maximum")
    assert err.request_id and err.request_id == err.response.headers["request-id"]


def test_overflow_input_plus_max_tokens(anthropic_client):
    with pytest.raises(anthropic.BadRequestError) as info:
        anthropic_client.messages.create(model="claude-tiny-8k", max_tokens=2000,
                                         messages=[{"role": "user", "content": "word " * 7000}])
    message = info.value.body["error"]["message"]
    assert message.startswith("input length and `max_tokens` exceed context limit: ")
    assert "+ 2000 > 8192" in message


def test_output_cap_is_a_different_400(anthropic_client):
    with pytest.raises(anthropic.BadRequestError) as info:
        anthropic_client.messages.create(model="claude-tiny-8k", max_tokens=5000,
                                         messages=[{"role": "user", "content": "hi"}])
    assert info.value.body["error"]["message"] == (
        "max_tokens: 5000 > 2048, which is the maximum allowed number of output tokens for claude-tiny-8k")


def test_overflow_in_stream_is_status_200(anthropic_client):
    with pytest.raises(anthropic.APIStatusError) as info:
        for _ in anthropic_client.messages.create(model="claude-tiny-8k", max_tokens=100, stream=True,
                                                  messages=[{"role": "user", "content": "word " * 9000}]):
            pass
    assert info.value.status_code == 200
    assert info.value.body["error"]["message"].startswith("prompt is too long")


def test_error_classes(emu, anthropic_client):
    msg = [{"role": "user", "content": "hi"}]
    emu.inject(Fault("overloaded", provider="anthropic"))
    with pytest.raises(anthropic.OverloadedError) as info:
        anthropic_client.messages.create(model="claude-tiny-8k", max_tokens=10, messages=msg)
    assert info.value.status_code == 529 and info.value.type == "overloaded_error"
    assert isinstance(info.value, anthropic.InternalServerError)  # anthropic 2.x: a 5xx subclass
    emu.inject(Fault("payload_too_large", provider="anthropic"))
    with pytest.raises(anthropic.RequestTooLargeError) as too_large:
        anthropic_client.messages.create(model="claude-tiny-8k", max_tokens=10, messages=msg)
    assert too_large.value.type == "request_too_large" and too_large.value.status_code == 413
    assert anthropic.RequestTooLargeError is anthropic.ContentTooLargeError
    emu.inject(Fault("rate_limit", provider="anthropic", retry_after=3))
    with pytest.raises(anthropic.RateLimitError) as limited:
        anthropic_client.messages.create(model="claude-tiny-8k", max_tokens=10, messages=msg)
    assert limited.value.response.headers["retry-after"] == "3"
    assert "input tokens per minute" in limited.value.body["error"]["message"]
    emu.inject(Fault("stream_error", provider="anthropic"))
    seen = []
    with pytest.raises(anthropic.APIStatusError) as streamed:
        for event in anthropic_client.messages.create(model="claude-tiny-8k", max_tokens=10, messages=msg, stream=True):
            seen.append(event.type)
    assert not isinstance(streamed.value, anthropic.OverloadedError)
    assert streamed.value.status_code == 200 and streamed.value.type == "overloaded_error"
    assert seen == ["message_start", "content_block_start", "content_block_delta"]


def test_custom_window(emu, anthropic_client):
    emu.set_models("anthropic", [EmulatedModel("claude-small", 500, 100)])
    with pytest.raises(anthropic.BadRequestError, match="prompt is too long"):
        anthropic_client.messages.create(model="claude-small", max_tokens=50,
                                         messages=[{"role": "user", "content": "word " * 600}])
