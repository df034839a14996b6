"""The OpenAI-compatible kit serves a provider it was not written for: an "acme" provider
pointed at the emulator's Groq endpoint (OpenAI-compatible under /openai/v1)."""

from __future__ import annotations

import json

import openai
import pytest
from massgen_plugins.errors import MissingCredentialsError
from massgen_plugins.types import CompletionRequest, ErrorKind, Message, ProviderSettings
from massgen_plugins_openai import kit
from massgen_plugins_openai.compat import CompatProvider

ACME = CompatProvider(name="acme", display_name="Acme", api_key_env=("ACME_API_KEY",),
                      base_url_env="ACME_BASE_URL", default_base_url="https://api.acme.invalid/v1")


def _settings(emu) -> ProviderSettings:
    return ProviderSettings(provider="acme", api_key="acme-key", base_url=emu.base_url("groq") + "/openai/v1")


async def test_a_third_party_compatible_provider_calls_and_streams(emu, weather_tool):
    request = CompletionRequest(model="acme/llama-3.3-70b-versatile", tools=[weather_tool], messages=[
        Message(role="user", content='[[call get_weather {"city": "Accra"}]]')])
    response = await kit.complete(ACME, request, _settings(emu))
    assert json.loads(response.message.tool_calls[0].function["arguments"]) == {"city": "Accra"}
    events = [e async for e in kit.stream(ACME, request, _settings(emu))]
    assert [e.type for e in events][-2:] == ["tool_call", "done"]
    sent = emu.requests_for("groq", "/chat/completions")
    assert len(sent) == 2 and sent[0].body["model"] == "llama-3.3-70b-versatile"
    assert ACME.info().sdk == "openai" and ACME.info().api_key_env == ["ACME_API_KEY"]


async def test_kit_answers_only_for_its_provider_and_classifies_its_errors(emu):
    other = CompletionRequest(model="openai/gpt-4o", messages=[Message(role="user", content="hi")])
    assert kit.complete(ACME, other, _settings(emu)) is None
    assert kit.stream(ACME, other, _settings(emu)) is None
    request = CompletionRequest(model="acme/llama-tiny-8k", messages=[
        Message(role="user", content="alpha beta gamma delta " * 2_400)])
    with pytest.raises(openai.BadRequestError) as info:
        await kit.complete(ACME, request, _settings(emu))
    overflow = kit.detect_overflow(ACME, info.value, "acme", "acme/llama-tiny-8k")
    assert overflow is not None and overflow.provider == "acme"
    assert kit.detect_overflow(ACME, info.value, "groq", None) is None
    assert kit.classify_error(ACME, info.value, "acme").kind == ErrorKind.OVERFLOW
    with pytest.raises(MissingCredentialsError, match="ACME_API_KEY"):
        await kit.complete(ACME, request, ProviderSettings(provider="acme"))
