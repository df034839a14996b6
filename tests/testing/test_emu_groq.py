"""Groq through the real groq SDK."""

from __future__ import annotations

import json

import groq
import pytest
from massgen_plugins.testing import Fault

TOOLS = [{"type": "function", "function": {"name": "search", "parameters": {"type": "object", "properties": {}}}}]


def test_models_carry_context_window(groq_client):
    models = {m.id: m for m in groq_client.models.list().data}
    assert models["llama-3.3-70b-versatile"].context_window == 131_072
    assert models["whisper-large-v3"].context_window == 448
    assert models["llama-3.3-70b-versatile"].active is True


def test_overflow_code_lives_in_the_body(groq_client):
    with pytest.raises(groq.BadRequestError) as info:
        groq_client.chat.completions.create(model="llama-tiny-8k", messages=[{"role": "user", "content": "w " * 9000}])
    err = info.value
    assert getattr(err, "code", None) is None
    assert err.body["error"]["code"] == "context_length_exceeded"
    assert err.body["error"]["message"] == "Please reduce the length of the messages or completion."


def test_output_cap_and_tpm_413(emu, groq_client):
    with pytest.raises(groq.BadRequestError) as info:
        groq_client.chat.completions.create(model="llama-tiny-8k", max_completion_tokens=4000,
                                            messages=[{"role": "user", "content": "hi"}])
    assert info.value.body["error"]["param"] == "max_completion_tokens"
    assert "code" not in info.value.body["error"]
    emu.inject(Fault("payload_too_large", provider="groq"))
    with pytest.raises(groq.APIStatusError) as too_large:
        groq_client.chat.completions.create(model="llama-tiny-8k", messages=[{"role": "user", "content": "hi"}])
    assert too_large.value.status_code == 413
    assert type(too_large.value) is groq.APIStatusError  # groq has no dedicated 413 class
    assert "Request too large for model `llama-tiny-8k`" in too_large.value.body["error"]["message"]


def test_stream_tool_calls_and_x_groq_usage(groq_client):
    stream = groq_client.chat.completions.create(
        model="llama-3.3-70b-versatile", tools=TOOLS, stream=True,
        messages=[{"role": "user", "content": '[[call search {"q": "x"}]]'}])
    chunks = list(stream)
    args = "".join(c.function.arguments or "" for ch in chunks for c in (ch.choices[0].delta.tool_calls or []))
    assert json.loads(args) == {"q": "x"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert chunks[-1].x_groq.usage.prompt_tokens > 0


def test_rate_limit_headers(emu, groq_client):
    emu.inject(Fault("rate_limit", provider="groq", retry_after=1.5))
    with pytest.raises(groq.RateLimitError) as info:
        groq_client.chat.completions.create(model="llama-tiny-8k", messages=[{"role": "user", "content": "hi"}])
    headers = info.value.response.headers
    assert headers["retry-after"] == "1.5" and headers["retry-after-ms"] == "1500"
    assert headers["x-ratelimit-limit-tokens"] == "6000"
    assert "tokens per minute (TPM)" in info.value.body["error"]["message"]
