"""Sampling and output options reach the provider on the guarded path, translated between the
OpenAI and Anthropic shapes; the emulator's request log shows what the provider received."""

from __future__ import annotations

import anthropic
import openai
import pytest

WEATHER_OA = {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city.",
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
WEATHER_AN = {"name": "get_weather", "description": "Weather of a city.",
              "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}


def starts(gateway):
    return [e for e in gateway.events() if e["type"] == "call_start"]


@pytest.mark.parametrize("stream", [False, True])
def test_openai_client_to_an_anthropic_model(gateway, emu, stream):
    oa = openai.OpenAI(base_url=gateway.url + "/v1", api_key=gateway.master, max_retries=0)
    args = dict(model="anthropic/claude-haiku-4-5", max_tokens=100, temperature=0.3, top_p=0.9, stop=["END"],
                seed=7, tool_choice="required", tools=[WEATHER_OA], response_format={"type": "json_object"},
                messages=[{"role": "user", "content": "weather in Oslo?"}])
    if stream:
        list(oa.chat.completions.create(stream=True, **args))
    else:
        oa.chat.completions.create(**args)
    body = emu.requests_for("anthropic")[-1].body
    assert body["temperature"] == 0.3 and body["top_p"] == 0.9
    assert body["stop_sequences"] == ["END"]
    assert body["tool_choice"] == {"type": "any"}
    assert "seed" not in body and "response_format" not in body  # no Messages equivalent: not sent
    start = starts(gateway)[-1]
    assert start["options"] == sorted(["stop", "temperature", "tool_choice", "top_p"])
    assert "END" not in str(start)  # names only, never values
    assert any(e["type"] == "note" and "response_format" in e["message"] and "seed" in e["message"]
               for e in gateway.events())


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_client_to_an_openai_model(gateway, emu, stream):
    ac = anthropic.Anthropic(base_url=gateway.url, api_key=gateway.master, max_retries=0)
    # anthropic 2.x takes the sampling fields only through extra_body
    args = dict(model="openai/gpt-4o-mini", max_tokens=100, extra_body={"temperature": 0.2, "top_p": 0.5, "top_k": 20},
                stop_sequences=["STOP"], tools=[WEATHER_AN], metadata={"user_id": "u-42"},
                tool_choice={"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
                messages=[{"role": "user", "content": "weather in Oslo?"}])
    if stream:
        with ac.messages.stream(**args) as s:
            s.get_final_message()
    else:
        ac.messages.create(**args)
    body = emu.requests_for("openai")[-1].body
    assert body["temperature"] == 0.2 and body["top_p"] == 0.5 and body["stop"] == ["STOP"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body["parallel_tool_calls"] is False and body["user"] == "u-42"
    assert "top_k" not in body and "metadata" not in body


@pytest.mark.parametrize("stream", [False, True])
def test_native_options_survive_the_guarded_path(gateway, emu, stream):
    """X-Session-Id sends even a native request through the guard: its options still arrive."""
    oa = openai.OpenAI(base_url=gateway.url + "/v1", api_key=gateway.master, max_retries=0,
                       default_headers={"X-Session-Id": f"opts-{stream}"})
    schema = {"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": "object"}}}
    args = dict(model="openai/gpt-4o-mini", max_tokens=50, seed=11, frequency_penalty=0.5, presence_penalty=0.1,
                response_format=schema, messages=[{"role": "user", "content": "json please"}])
    if stream:
        list(oa.chat.completions.create(stream=True, **args))
    else:
        oa.chat.completions.create(**args)
    body = emu.requests_for("openai")[-1].body
    assert body["seed"] == 11 and body["response_format"] == schema
    assert body["frequency_penalty"] == 0.5 and body["presence_penalty"] == 0.1


def test_invalid_options_are_a_400_naming_the_field(gateway):
    oa = openai.OpenAI(base_url=gateway.url + "/v1", api_key=gateway.master, max_retries=0)
    with pytest.raises(openai.BadRequestError) as info:
        oa.chat.completions.create(model="anthropic/claude-haiku-4-5", temperature=7, max_tokens=10,
                                   messages=[{"role": "user", "content": "hi"}])
    assert "temperature" in str(info.value)
    ac = anthropic.Anthropic(base_url=gateway.url, api_key=gateway.master, max_retries=0)
    with pytest.raises(anthropic.BadRequestError) as info2:
        ac.messages.create(model="openai/gpt-4o-mini", max_tokens=10, tool_choice={"type": "tool"},
                           tools=[WEATHER_AN], messages=[{"role": "user", "content": "hi"}])
    assert "tool_choice" in str(info2.value)


def test_guarded_stream_reports_counted_input_tokens_in_message_start(gateway):
    ac = anthropic.Anthropic(base_url=gateway.url, api_key=gateway.master, max_retries=0)
    # openai model from the Messages API: the guarded path (the fast path relays the provider's own)
    with ac.messages.stream(model="openai/gpt-4o-mini", max_tokens=50,
                            messages=[{"role": "user", "content": "count my tokens " * 40}]) as s:
        start = next(e for e in s if e.type == "message_start")
        s.get_final_message()
    counted = starts(gateway)[-1]["input_tokens"]
    assert counted > 40 and start.message.usage.input_tokens == counted
