"""Bad input to Session and send(): an InputError naming the field, never a pydantic
ValidationError, and nothing sent; tool calls and results are paired locally before a call."""

from __future__ import annotations

import pytest
from massgen_plugins.errors import InputError
from massgen_plugins.guard import Session
from pydantic import ValidationError

pytestmark = pytest.mark.plugins("openai", "anthropic", "gemini")  # drives provider plugins end to end

CALL = {"id": "call_1", "type": "function", "function": {"name": "read", "arguments": "{}"}}


@pytest.fixture
def session(emulator_env):
    return Session("openai/gpt-4o-mini", memory=False, run_log=False)


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"model": "gpt-4o-mini"}, "model"),
    ({"model": "openai/gpt-4o-mini", "fallback": ["openai/gpt-4o"]}, "did you mean 'fallbacks'"),
    ({"model": "openai/gpt-4o-mini", "fallbacks": ["not a model"]}, "fallbacks"),
    ({"model": "openai/gpt-4o-mini", "retry": {"max_attempts": 0}}, "retry.max_attempts"),
    ({"model": "openai/gpt-4o-mini", "api_keys": {"opnai": "k" * 20}}, "did you mean 'openai'"),
    ({"model": "openai/gpt-4o-mini", "api_keys": {"openai": b"k" * 20}}, "api_keys['openai'] must be"),
])
def test_bad_session_arguments_are_input_errors_naming_the_argument(emulator_env, kwargs, needle):
    with pytest.raises(InputError) as caught:
        Session(memory=False, run_log=False, **kwargs)
    assert not isinstance(caught.value, ValidationError)
    assert needle in str(caught.value)


@pytest.mark.parametrize(("content", "needle"), [
    (b"hello", "bytes"),
    ([{"role": "user", "content": b"hello"}], "messages[0].content: bytes"),
    ([{"role": "human", "content": "hi"}], "messages[0].role: unknown role 'human'"),
    ([{"role": "user", "content": "hi"}, 42], "messages[1]"),
])
async def test_bad_messages_name_the_field_and_send_nothing(emulator_env, session, content, needle):
    with pytest.raises(InputError) as caught:
        await session.send(content)
    assert needle in str(caught.value)
    assert emulator_env.requests == [] and session.messages == []


async def test_a_tool_result_without_its_call_is_caught_before_sending(emulator_env, session):
    with pytest.raises(InputError, match=r"messages\[1\].tool_call_id: 'call_9' answers no tool call"):
        await session.send([{"role": "user", "content": "hi"}, {"role": "tool", "tool_call_id": "call_9", "content": "x"}])
    assert emulator_env.requests == []


async def test_a_tool_call_without_its_result_is_caught_before_sending(emulator_env, session):
    from massgen_plugins.types import Message

    session.messages = [Message(role="user", content="read it"), Message(role="assistant", tool_calls=[CALL])]
    with pytest.raises(InputError, match="call_1.*have no result"):
        await session.send("never mind")
    assert emulator_env.requests == []
    reply = await session.send([{"role": "tool", "tool_call_id": "call_1", "content": "file text"}])
    assert reply.message.content


async def test_the_emulator_rejects_broken_pairs_like_the_real_apis(emulator_env):
    from massgen_plugins.manager import get_hooks
    from massgen_plugins.providers import resolve_settings
    from massgen_plugins.types import CompletionRequest, Message

    broken = [Message(role="user", content="read it"), Message(role="assistant", tool_calls=[CALL]),
              Message(role="user", content="and?")]
    expected = {
        "openai/gpt-4o-mini": "An assistant message with 'tool_calls' must be followed by tool messages",
        "anthropic/claude-haiku-4-5-20251001": "`tool_use` ids were found without `tool_result` blocks immediately after",
        "gemini/gemini-2.5-flash": "Please ensure that the number of function response parts is equal",
    }
    for model, wording in expected.items():
        settings = resolve_settings(model.split("/")[0])
        with pytest.raises(Exception) as caught:
            await get_hooks().complete(CompletionRequest(model=model, messages=broken, tools=[{
                "type": "function", "function": {"name": "read", "parameters": {"type": "object"}}}]), settings)
        assert getattr(caught.value, "status_code", getattr(caught.value, "code", None)) == 400, model
        assert wording in str(caught.value), (model, str(caught.value))
    with pytest.raises(Exception, match="No tool output found for function call call_1") as caught:
        await get_hooks().complete(CompletionRequest(model="openai/gpt-4o-mini", messages=broken,
                                                     options={"api": "responses"}), resolve_settings("openai"))
    assert caught.value.status_code == 400


async def test_after_a_reply_with_tool_calls_only_their_results_may_follow(emulator_env):
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    session = Session("openai/gpt-4o-mini", memory=False, run_log=False, tools=tools)
    reply = await session.send('[[call get_weather {"city": "Paris"}]]')
    calls = reply.message.tool_calls
    assert calls, "the emulator answers [[call ...]] with a tool call"
    with pytest.raises(InputError, match="have no result"):
        await session.send("what now?")
    answered = await session.send([{"role": "tool", "tool_call_id": c.id, "content": "sunny"} for c in calls])
    assert answered.message.content and session.turn == 2
