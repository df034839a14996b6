"""The official anthropic SDK against the gateway (which calls the emulator)."""

from __future__ import annotations

import anthropic
import pytest

WEATHER = {"name": "get_weather", "description": "Weather of a city.",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


def client(gateway, key=None):
    return anthropic.Anthropic(base_url=gateway.url, api_key=key or gateway.master, max_retries=0)


def test_message_with_system_and_usage(gateway):
    reply = client(gateway).messages.create(model="anthropic/claude-haiku-4-5", max_tokens=200,
                                            system="You are terse.",
                                            messages=[{"role": "user", "content": "hello from anthropic"}])
    assert reply.type == "message" and reply.stop_reason == "end_turn"
    assert reply.content[0].text.startswith("emulated reply from claude-haiku-4-5")
    assert reply.usage.input_tokens > 0 and reply.usage.output_tokens > 0


def test_bare_claude_names_route_to_the_anthropic_provider(gateway, emu):
    reply = client(gateway).messages.create(model="claude-haiku-4-5", max_tokens=100,
                                            messages=[{"role": "user", "content": "bare name"}])
    assert "bare name" in reply.content[0].text
    assert emu.requests_for("anthropic")


@pytest.mark.parametrize("path", ["fast", "guarded"])
def test_streaming_text(gateway, path):
    headers = {"X-Session-Id": "streaming-text"} if path == "guarded" else {}
    ac = anthropic.Anthropic(base_url=gateway.url, api_key=gateway.master, max_retries=0, default_headers=headers)
    with ac.messages.stream(model="anthropic/claude-haiku-4-5", max_tokens=200,
                                         messages=[{"role": "user", "content": "stream this please"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text.startswith("emulated reply from claude-haiku-4-5") and "stream this please" in text
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0


@pytest.mark.parametrize("path", ["fast", "guarded"])
@pytest.mark.parametrize("stream", [False, True])
def test_tool_use_round_trip(gateway, stream, path):
    """Both paths: relayed as is (fast), and translated through the guard's session (an
    X-Session-Id forces it), streamed and not."""
    headers = {"X-Session-Id": f"tools-{stream}"} if path == "guarded" else {}
    ac = anthropic.Anthropic(base_url=gateway.url, api_key=gateway.master, max_retries=0, default_headers=headers)
    messages = [{"role": "user", "content": 'weather? [[call get_weather {"city": "Oslo"}]]'}]
    if stream:
        with ac.messages.stream(model="anthropic/claude-haiku-4-5", max_tokens=200, tools=[WEATHER],
                                messages=messages) as s:
            reply = s.get_final_message()
    else:
        reply = ac.messages.create(model="anthropic/claude-haiku-4-5", max_tokens=200, tools=[WEATHER],
                                   messages=messages)
    assert reply.stop_reason == "tool_use"
    use = [b for b in reply.content if b.type == "tool_use"][0]
    assert use.name == "get_weather" and use.input == {"city": "Oslo"}
    messages += [{"role": "assistant", "content": [b.model_dump() for b in reply.content]},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "snow"}]}]
    final = ac.messages.create(model="anthropic/claude-haiku-4-5", max_tokens=200, tools=[WEATHER],
                               messages=messages)
    assert "after tool get_weather" in final.content[0].text


def test_errors_are_anthropic_typed_exceptions(gateway, new_key):
    with pytest.raises(anthropic.AuthenticationError) as bad:
        client(gateway, "nope").messages.create(model="anthropic/claude-haiku-4-5", max_tokens=10,
                                                messages=[{"role": "user", "content": "hi"}])
    assert bad.value.body["error"]["type"] == "authentication_error"
    with pytest.raises(anthropic.BadRequestError) as missing:
        client(gateway).messages.create(model="anthropic/claude-haiku-4-5", max_tokens=10, messages=[])
    assert "messages" in str(missing.value)
    limited = client(gateway, new_key(rpm=1))
    limited.messages.create(model="anthropic/claude-haiku-4-5", max_tokens=10,
                            messages=[{"role": "user", "content": "one"}])
    with pytest.raises(anthropic.RateLimitError) as over:
        limited.messages.create(model="anthropic/claude-haiku-4-5", max_tokens=10,
                                messages=[{"role": "user", "content": "two"}])
    assert over.value.response.headers["retry-after"]


def test_overloaded_upstream_surfaces_as_overloaded_after_retries(gateway, emu):
    from massgen_plugins.testing import Fault

    emu.inject(Fault("overloaded", provider="anthropic", times=None, retry_after=0.01))
    with pytest.raises(anthropic.APIStatusError) as failed:
        client(gateway).messages.create(model="anthropic/claude-haiku-4-5", max_tokens=10,
                                        messages=[{"role": "user", "content": "busy?"}])
    assert failed.value.status_code == 529
    assert len([e for e in gateway.events() if e["type"] == "retry"]) >= 1
