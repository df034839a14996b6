"""Gemini through the real google-genai SDK, under both /v1 and /v1beta."""

from __future__ import annotations

import pytest
from google.genai import errors, types
from massgen_plugins.testing import Fault


def get_weather(city: str) -> str:
    """Weather for a city."""
    return "sunny"


NO_AFC = types.AutomaticFunctionCallingConfig(disable=True)


@pytest.mark.parametrize("version", ["v1", "v1beta"])
def test_models_paginate_with_page_token(emu, gemini_client, version):
    client = gemini_client(version)  # keep a reference: the pager needs the open client
    models = list(client.models.list(config={"page_size": 4}))
    assert len(models) == len(emu.models("gemini")) > 8
    calls = emu.requests_for("gemini", f"/{version}/models")
    assert len(calls) == -(-len(models) // 4)
    assert calls[0].query == {"pageSize": "4"} and calls[1].query["pageToken"]
    flash = next(m for m in models if m.name == "models/gemini-2.5-flash")
    assert (flash.input_token_limit, flash.output_token_limit) == (1_048_576, 65_536)
    assert "generateContent" in flash.supported_actions
    embed = next(m for m in models if m.name == "models/gemini-embedding-001")
    assert "generateContent" not in embed.supported_actions


def test_default_api_version_is_served(emu):
    from google import genai

    client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=emu.base_url("gemini")))
    assert client.models.generate_content(model="gemini-2.5-flash", contents="hi").text
    assert emu.requests[-1].path.startswith(("/v1/", "/v1beta/"))


@pytest.mark.parametrize("version", ["v1", "v1beta"])
def test_generate_and_count_agree(gemini_client, version):
    client = gemini_client(version)
    response = client.models.generate_content(model="gemini-2.5-flash", contents="hello there gemini")
    assert response.text == "emulated reply from gemini-2.5-flash to: hello there gemini"
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    counted = client.models.count_tokens(model="gemini-2.5-flash", contents="hello there gemini")
    assert counted.total_tokens == response.usage_metadata.prompt_token_count > 0


def test_stream_text_and_function_calls(gemini_client):
    client = gemini_client()
    text = "".join(c.text or "" for c in client.models.generate_content_stream(
        model="gemini-2.5-flash", contents="one two three four five"))
    assert text == "emulated reply from gemini-2.5-flash to: one two three four five"
    config = types.GenerateContentConfig(tools=[get_weather], automatic_function_calling=NO_AFC,
                                         system_instruction="use tools")
    calls = []
    for chunk in client.models.generate_content_stream(
            model="gemini-2.5-flash", config=config,
            contents='[[call get_weather {"city": "Oslo"}]] [[call get_weather {"city": "Kyiv"}]]'):
        calls.extend(chunk.function_calls or [])
    assert [(c.name, c.args) for c in calls] == [("get_weather", {"city": "Oslo"}), ("get_weather", {"city": "Kyiv"})]


def test_function_response_turn_gets_text(gemini_client):
    client = gemini_client()
    config = types.GenerateContentConfig(tools=[get_weather], automatic_function_calling=NO_AFC)
    contents = [
        types.Content(role="user", parts=[types.Part(text='[[call get_weather {"city": "Oslo"}]]')]),
        types.Content(role="model", parts=[types.Part.from_function_call(name="get_weather", args={"city": "Oslo"})]),
        types.Content(role="user", parts=[types.Part.from_function_response(name="get_weather",
                                                                            response={"result": "snow"})]),
    ]
    reply = client.models.generate_content(model="gemini-2.5-flash", contents=contents, config=config)
    assert reply.function_calls is None and "after tool get_weather" in reply.text


def test_overflow_is_client_error_with_counts(gemini_client):
    client = gemini_client()
    with pytest.raises(errors.ClientError) as info:
        client.models.generate_content(model="gemini-tiny-2k", contents="word " * 3000)
    err = info.value
    assert (err.code, err.status) == (400, "INVALID_ARGUMENT")
    assert err.message.startswith("The input token count (") and err.message.endswith(
        "exceeds the maximum number of tokens allowed (2048).")
    assert err.details["error"]["message"] == err.message
    assert str(err).startswith("400 INVALID_ARGUMENT. {")


def test_output_cap_wording(gemini_client):
    config = types.GenerateContentConfig(max_output_tokens=9000)
    client = gemini_client()
    with pytest.raises(errors.ClientError) as info:
        client.models.generate_content(model="gemini-tiny-8k", contents="hi", config=config)
    assert "maxOutputTokens value of 9000" in info.value.message and "exceeds" not in info.value.message


def test_rate_limit_quota_and_server_errors(emu, gemini_client):
    client = gemini_client()
    emu.inject(Fault("rate_limit", provider="gemini", retry_after=2))
    with pytest.raises(errors.ClientError) as limited:
        client.models.generate_content(model="gemini-2.5-flash", contents="x")
    assert (limited.value.code, limited.value.status) == (429, "RESOURCE_EXHAUSTED")
    delays = [d.get("retryDelay") for d in limited.value.details["error"]["details"]]
    assert "2s" in delays
    emu.inject(Fault("quota", provider="gemini"))
    with pytest.raises(errors.ClientError) as quota:
        client.models.generate_content(model="gemini-2.5-flash", contents="x")
    assert all("retryDelay" not in d for d in quota.value.details["error"]["details"])
    emu.inject(Fault("overloaded", provider="gemini"))
    with pytest.raises(errors.ServerError) as overloaded:
        client.models.generate_content(model="gemini-2.5-flash", contents="x")
    assert (overloaded.value.code, overloaded.value.status) == (503, "UNAVAILABLE")


def test_in_stream_error_after_partial_output(emu, gemini_client):
    emu.inject(Fault("stream_error", provider="gemini", error_type="overflow"))
    got = []
    client = gemini_client()
    with pytest.raises(errors.ClientError) as info:
        for chunk in client.models.generate_content_stream(model="gemini-2.5-flash",
                                                                    contents="one two three four five"):
            got.append(chunk.text)
    assert got == ["emulated reply from "]
    assert info.value.code == 400 and "exceeds the maximum number of tokens allowed" in info.value.message


def test_unknown_model_404(gemini_client):
    client = gemini_client()
    with pytest.raises(errors.ClientError) as info:
        client.models.generate_content(model="gemini-nope", contents="x")
    assert info.value.code == 404 and info.value.status == "NOT_FOUND"
