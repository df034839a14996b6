"""The OpenAI-format → Anthropic Messages translation (pure functions, no network)."""

from __future__ import annotations

import json

from massgen_plugins.types import Message, ToolCall
from massgen_plugins_anthropic.convert import LEADING_USER_PLACEHOLDER, to_anthropic, to_anthropic_tools, to_tool_choice


def test_system_and_developer_go_to_system_and_roles_alternate():
    system, turns = to_anthropic([
        Message(role="system", content="You are terse."),
        Message(role="developer", content="Answer in French."),
        Message(role="user", content="one"),
        Message(role="user", content=[{"type": "text", "text": "two"}]),
        Message(role="assistant", content="ok"),
    ])
    assert system == "You are terse.\n\nAnswer in French."
    assert [t["role"] for t in turns] == ["user", "assistant"]
    assert [b["text"] for b in turns[0]["content"]] == ["one", "two"]


def test_leading_assistant_gets_a_user_turn_first():
    _, turns = to_anthropic([Message(role="assistant", content="earlier answer"), Message(role="user", content="q")])
    assert turns[0] == {"role": "user", "content": [{"type": "text", "text": LEADING_USER_PLACEHOLDER}]}
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]


def test_tool_calls_and_parallel_results_become_blocks_in_one_user_turn():
    calls = [ToolCall(id="toolu_1", function={"name": "get_weather", "arguments": '{"city": "Paris"}'}),
             ToolCall(id="toolu_2", function={"name": "get_time", "arguments": "{}"})]
    _, turns = to_anthropic([
        Message(role="user", content="weather and time?"),
        Message(role="assistant", content=None, tool_calls=calls),
        Message(role="tool", tool_call_id="toolu_1", content='{"temp": 21}'),
        Message(role="tool", tool_call_id="toolu_2", content="12:00"),
        Message(role="user", content="thanks"),
    ])
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]
    assert turns[1]["content"] == [
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {}},
    ]
    kinds = [b["type"] for b in turns[2]["content"]]
    assert kinds == ["tool_result", "tool_result", "text"]
    assert turns[2]["content"][0]["tool_use_id"] == "toolu_1"


def test_final_assistant_prefill_loses_trailing_whitespace_and_empty_text_is_dropped():
    _, turns = to_anthropic([
        Message(role="user", content="  "),
        Message(role="user", content="hi"),
        Message(role="assistant", content=[{"type": "text", "text": "Sure, "}, {"type": "text", "text": "  \n"}]),
    ])
    assert turns[0]["content"] == [{"type": "text", "text": "hi"}]
    assert turns[-1]["content"] == [{"type": "text", "text": "Sure,"}]


def test_foreign_parts_are_dropped_and_images_converted():
    _, turns = to_anthropic([Message(role="user", content=[
        {"type": "compaction", "encrypted_content": "gAAA"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}},
        {"type": "text", "text": "describe"},
    ])])
    assert turns[0]["content"] == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}},
        {"type": "text", "text": "describe"},
    ]


def test_tools_and_tool_choice():
    tools = to_anthropic_tools([{"type": "function", "function": {
        "name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {
            "city": {"type": "string"}}}}}])
    assert tools == [{"name": "get_weather", "description": "Weather",
                      "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    assert to_tool_choice("required") == {"type": "any"}
    assert to_tool_choice({"type": "function", "function": {"name": "x"}}) == {"type": "tool", "name": "x"}
    assert json.dumps(to_tool_choice("auto")) == '{"type": "auto"}'


def test_thinking_blocks_survive_the_round_trip():
    from anthropic.types import Message as SDKMessage
    from massgen_plugins_anthropic.convert import from_anthropic

    reply = SDKMessage.model_validate({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
        "stop_reason": "tool_use", "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5},
        "content": [
            {"type": "thinking", "thinking": "Need the weather.", "signature": "sig=="},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": {"city": "Rome"}},
        ],
    })
    response = from_anthropic(reply, "anthropic/claude-x")
    assert response.message.text() == "Checking."
    assert response.finish_reason == "tool_calls"
    _, turns = to_anthropic([Message(role="user", content="weather?"), response.message,
                             Message(role="tool", tool_call_id="toolu_9", content="sunny")])
    assert turns[1]["content"] == [
        {"type": "thinking", "thinking": "Need the weather.", "signature": "sig=="},
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": {"city": "Rome"}},
    ]
