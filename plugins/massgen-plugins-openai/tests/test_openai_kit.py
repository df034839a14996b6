"""The OpenAI-compatible kit serves a provider it was not written for: an "acme" provider
pointed at the emulator's Groq endpoint (OpenAI-compatible under /openai/v1)."""

from __future__ import annotations

import json

import openai
import pytest
from massgen_plugins import hookimpl
from massgen_plugins.errors import MissingCredentialsError, NoImplementationError
from massgen_plugins.manager import Hooks, create_manager
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


def _acme_hooks() -> Hooks:
    """A host with an ``acme`` plugin written with the kit beside a ``zed`` provider plugin."""
    hooks = Hooks(create_manager())

    class Acme:
        @hookimpl
        def register_providers(self):
            return ACME.info()

        @hookimpl
        def complete(self, request, settings):
            return kit.complete(ACME, request, settings)

        @hookimpl
        def detect_overflow(self, error, provider, model):
            return kit.detect_overflow(ACME, error, provider, model)

    class Zed:
        @hookimpl
        def register_providers(self):
            return {"name": "zed"}

    hooks.pm.register(Acme(), name="acme")
    hooks.pm.register(Zed(), name="zed")
    return hooks


async def test_kit_is_only_called_for_its_provider_and_classifies_its_errors(emu):
    hooks = _acme_hooks()
    other = CompletionRequest(model="zed/m", messages=[Message(role="user", content="hi")])
    with pytest.raises(NoImplementationError, match="'complete' for provider 'zed'"):
        await hooks.complete(other, _settings(emu))
    assert emu.requests_for("groq", "/chat/completions") == []
    request = CompletionRequest(model="acme/llama-tiny-8k", messages=[
        Message(role="user", content="alpha beta gamma delta " * 2_400)])
    with pytest.raises(openai.BadRequestError) as info:
        await kit.complete(ACME, request, _settings(emu))
    overflow = kit.detect_overflow(ACME, info.value, "acme", "acme/llama-tiny-8k")
    assert overflow is not None and overflow.provider == "acme"
    assert hooks.detect_overflow(info.value, "zed", None).value is None  # routed away from acme
    assert hooks.detect_overflow(info.value, "acme", "acme/llama-tiny-8k").plugin == "acme"
    assert kit.classify_error(ACME, info.value, "acme").kind == ErrorKind.OVERFLOW
    with pytest.raises(MissingCredentialsError, match="ACME_API_KEY"):
        await kit.complete(ACME, request, ProviderSettings(provider="acme"))
