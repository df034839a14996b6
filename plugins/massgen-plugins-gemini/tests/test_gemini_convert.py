"""The OpenAI-format → Gemini contents translation (pure functions, no network)."""

from __future__ import annotations

import base64

from massgen_plugins.types import Message, ToolCall
from massgen_plugins_gemini.convert import LEADING_USER_PLACEHOLDER, to_gemini, to_gemini_tools, to_tool_config


def test_system_roles_and_merging():
    system, contents = to_gemini([
        Message(role="system", content="Be brief."),
        Message(role="developer", content="Use metric units."),
        Message(role="user", content="a"),
        Message(role="user", content=[{"type": "text", "text": "b"}]),
        Message(role="assistant", content="c"),
    ])
    assert system == "Be brief.\n\nUse metric units."
    assert contents == [{"role": "user", "parts": [{"text": "a"}, {"text": "b"}]},
                        {"role": "model", "parts": [{"text": "c"}]}]


def test_function_calls_and_responses_use_the_call_name():
    sig = base64.b64encode(b"opaque-signature").decode()
    calls = [ToolCall(id="c1", function={"name": "get_weather", "arguments": '{"city": "Paris"}'},
                      thought_signature=sig),
             ToolCall(id="gemini-call-abc", function={"name": "get_time", "arguments": "{}"})]
    _, contents = to_gemini([
        Message(role="user", content="q"),
        Message(role="assistant", tool_calls=calls),
        Message(role="tool", tool_call_id="c1", content='{"temp": 21}'),
        Message(role="tool", tool_call_id="gemini-call-abc", content="12:00"),
    ])
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    first, second = contents[1]["parts"]
    assert first["function_call"] == {"name": "get_weather", "args": {"city": "Paris"}, "id": "c1"}
    assert first["thought_signature"] == b"opaque-signature"
    assert "id" not in second["function_call"]  # ids we made up are not sent back
    responses = [p["function_response"] for p in contents[2]["parts"]]
    assert responses[0] == {"name": "get_weather", "response": {"temp": 21}, "id": "c1"}
    assert responses[1] == {"name": "get_time", "response": {"output": "12:00"}}


def test_leading_model_turn_gets_a_user_turn():
    _, contents = to_gemini([Message(role="assistant", content="earlier"), Message(role="user", content="q")])
    assert contents[0] == {"role": "user", "parts": [{"text": LEADING_USER_PLACEHOLDER}]}


def test_tools_and_tool_config():
    tools = to_gemini_tools([{"type": "function", "function": {
        "name": "f", "description": "d", "parameters": {"type": "object", "additionalProperties": False}}}])
    assert tools == [{"function_declarations": [
        {"name": "f", "description": "d", "parameters_json_schema": {"type": "object", "additionalProperties": False}}]}]
    assert to_tool_config("required") == {"function_calling_config": {"mode": "ANY"}}
    assert to_tool_config({"type": "function", "function": {"name": "f"}}) == {
        "function_calling_config": {"mode": "ANY", "allowed_function_names": ["f"]}}


def test_responses_from_sdk_objects():
    from google.genai import types
    from massgen_plugins_gemini.convert import from_gemini

    reply = types.GenerateContentResponse.model_validate({
        "candidates": [{"finish_reason": "STOP", "content": {"role": "model", "parts": [
            {"text": "thinking...", "thought": True},
            {"text": "Checking."},
            {"function_call": {"name": "get_weather", "args": {"city": "Rome"}}, "thought_signature": b"sig"},
        ]}}],
        "usage_metadata": {"prompt_token_count": 12, "candidates_token_count": 4, "thoughts_token_count": 6},
    })
    response = from_gemini(reply, "gemini/gemini-2.5-flash")
    assert response.message.content == "Checking."  # thought parts are not answer text
    assert response.finish_reason == "tool_calls"
    call = response.message.tool_calls[0]
    assert call.id.startswith("gemini-call-") and call.function == {"name": "get_weather", "arguments": '{"city": "Rome"}'}
    assert base64.b64decode(call.model_extra["thought_signature"]) == b"sig"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (12, 10)

    blocked = types.GenerateContentResponse.model_validate({"prompt_feedback": {"block_reason": "SAFETY"}})
    assert from_gemini(blocked, "gemini/x").finish_reason == "content_filter"


def test_gemini_3_gets_a_stand_in_signature_for_foreign_calls():
    from massgen_plugins_gemini.convert import DUMMY_THOUGHT_SIGNATURE

    calls = [ToolCall(id="call_a", function={"name": "f", "arguments": "{}"}),
             ToolCall(id="call_b", function={"name": "g", "arguments": "{}"})]
    history = [Message(role="user", content="q"), Message(role="assistant", tool_calls=calls),
               Message(role="tool", tool_call_id="call_a", content="1"),
               Message(role="tool", tool_call_id="call_b", content="2")]
    _, contents = to_gemini(history, "gemini/gemini-3-pro-preview")
    first, second = contents[1]["parts"]
    assert first["thought_signature"] == DUMMY_THOUGHT_SIGNATURE  # only the first call of the turn
    assert "thought_signature" not in second
    _, older = to_gemini(history, "gemini/gemini-2.5-flash")
    assert all("thought_signature" not in p for p in older[1]["parts"])
