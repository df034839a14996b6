"""Every emulated provider refuses a request without a key the way the real API does (status and
envelope), through the official SDKs and over raw HTTP; a key of any value is accepted."""

from __future__ import annotations

import anthropic
import groq
import httpx
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors

HI = [{"role": "user", "content": "hi"}]
OPENAI_NO_KEY = "You didn't provide an API key."


def post(emu, provider: str, path: str, body: dict, headers: dict | None = None, params: dict | None = None):
    return httpx.post(emu.base_url(provider) + path, json=body, headers=headers or {}, params=params or {},
                      timeout=10)


@pytest.mark.parametrize(("provider", "path", "status", "check"), [
    ("openai", "/chat/completions", 401, lambda b: b["error"]["message"].startswith(OPENAI_NO_KEY)
     and b["error"]["type"] == "invalid_request_error"),
    ("groq", "/openai/v1/chat/completions", 401, lambda b: b["error"] == {
        "message": "Invalid API Key", "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}),
    ("xai", "/chat/completions", 400, lambda b: b["code"] == "Client specified an invalid argument"
     and b["error"].startswith("Incorrect API key provided")),
    ("nebius", "/chat/completions", 401, lambda b: b["error"]["code"] == 401),
    ("openrouter", "/chat/completions", 401, lambda b: b == {"error": {"message": "No auth credentials found",
                                                                       "code": 401}}),
    ("anthropic", "/v1/messages", 401, lambda b: b["type"] == "error" and b["error"] == {
        "type": "authentication_error", "message": "x-api-key header is required"}),
    ("gemini", "/v1beta/models/gemini-2.5-flash:generateContent", 403,
     lambda b: b["error"]["status"] == "PERMISSION_DENIED" and "unregistered callers" in b["error"]["message"]),
])
def test_no_key_is_refused_with_the_real_envelope(emu, provider, path, status, check):
    body = {"model": "gpt-4o-mini", "messages": HI, "max_tokens": 5} if provider != "gemini" else {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}):
        reply = post(emu, provider, path, body, headers)
        assert reply.status_code == status, (headers, reply.text)
        assert check(reply.json()), reply.text
    assert emu.requests[-1].status == status


def test_any_key_in_the_providers_own_header_is_accepted(emu):
    assert post(emu, "openai", "/chat/completions", {"model": "gpt-4o-mini", "messages": HI},
                {"Authorization": "Bearer anything"}).status_code == 200
    assert post(emu, "anthropic", "/v1/messages", {"model": "claude-haiku-4-5", "max_tokens": 5, "messages": HI},
                {"x-api-key": "anything"}).status_code == 200
    gemini_body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    path = "/v1beta/models/gemini-2.5-flash:generateContent"
    assert post(emu, "gemini", path, gemini_body, {"x-goog-api-key": "anything"}).status_code == 200
    assert post(emu, "gemini", path, gemini_body, params={"key": "anything"}).status_code == 200
    # a Bearer token is not how Gemini's API key travels
    assert post(emu, "gemini", path, gemini_body, {"Authorization": "Bearer anything"}).status_code == 403


def test_openrouter_model_list_is_public_like_the_real_one(emu):
    assert httpx.get(emu.base_url("openrouter") + "/models", timeout=10).status_code == 200


def test_the_key_check_comes_before_faults_and_the_key_is_never_recorded(emu):
    from massgen_plugins.testing import Fault

    emu.inject(Fault("rate_limit", provider="openai", times=1))
    assert post(emu, "openai", "/chat/completions", {"model": "gpt-4o-mini", "messages": HI}).status_code == 401
    reply = post(emu, "openai", "/chat/completions", {"model": "gpt-4o-mini", "messages": HI},
                 {"Authorization": "Bearer sk-secret-value-123456"})
    assert reply.status_code == 429  # the fault was still waiting for an authenticated request
    assert "sk-secret-value-123456" not in repr(emu.requests)


def test_sdks_raise_their_authentication_errors(emu):
    no_bearer = {"Authorization": "Basic eDp5"}  # the SDKs refuse an empty key before sending
    with pytest.raises(openai.AuthenticationError) as info:
        openai.OpenAI(base_url=emu.base_url("openai"), api_key="k", max_retries=0,
                      default_headers=no_bearer).chat.completions.create(model="gpt-4o-mini", messages=HI)
    assert OPENAI_NO_KEY in str(info.value)
    with pytest.raises(groq.AuthenticationError):
        groq.Groq(base_url=emu.base_url("groq"), api_key="k", max_retries=0,
                  default_headers=no_bearer).chat.completions.create(model="llama-3.1-8b-instant", messages=HI)
    client = anthropic.Anthropic(base_url=emu.base_url("anthropic"), api_key="k", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as info2:
        client.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=HI,
                               extra_headers={"x-api-key": anthropic.Omit(), "authorization": anthropic.Omit()})
    assert "x-api-key header is required" in str(info2.value)
    gem = genai.Client(api_key="k", http_options={"base_url": emu.base_url("gemini"), "headers": {"x-goog-api-key": ""}})
    with pytest.raises(genai_errors.ClientError) as caught:
        gem.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert caught.value.code == 403
