"""The Nebius plugin through the real openai SDK against the emulator: verbose listing
(context_length, per-token price strings), vLLM-style overflow (JSON and in-stream),
near-misses, calls with tool calls, credentials and base-URL resolution."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import massgen_plugins
import massgen_plugins_nebius as plugin
import openai
import pytest
from massgen_plugins.errors import MissingCredentialsError
from massgen_plugins.testing import Fault
from massgen_plugins.types import CompletionRequest, ErrorKind, Message, ProviderSettings, TokenCountRequest

TINY = "emulator/tiny-8k"
CHAT = "meta-llama/Llama-3.3-70B-Instruct"
LONG = "alpha beta gamma delta " * 2_400  # ~9.6k tokens: over an 8k window
TOOL = {"type": "function", "function": {"name": "search", "description": "Search the docs.",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}


@pytest.fixture
def settings(emulator_env):
    from massgen_plugins.providers import resolve_settings

    return resolve_settings("nebius")


def _request(model: str, text: str, **kwargs) -> CompletionRequest:
    return CompletionRequest(model=f"nebius/{model}", messages=[Message(role="user", content=text)], **kwargs)


async def _raised(call) -> BaseException:
    with pytest.raises(openai.OpenAIError) as info:
        if hasattr(call, "__aiter__"):
            async for _ in call:
                pass
        else:
            await call
    return info.value


async def _events(iterator):
    return [e async for e in iterator]


def test_list_models_verbose_windows_and_prices(emulator_env, settings):
    models = {m.id: m for m in plugin.list_models("nebius", settings)}
    assert set(models) == {m.id for m in emulator_env.models("nebius")}
    [sent] = emulator_env.requests_for("nebius")
    assert sent.path == "/v1/models" and sent.query.get("verbose") == "true"
    for em in emulator_env.models("nebius"):
        assert models[em.id].context_window == em.context_window, em.id
        assert models[em.id].provenance["context_window"] == "api"
    raw = httpx.get(settings.base_url + "/models", params={"verbose": "true"},
                    headers={"Authorization": f"Bearer {settings.key()}"}).json()["data"]
    priced = [item for item in raw if isinstance(item.get("pricing"), dict) and item["pricing"].get("prompt")]
    assert priced, "the verbose list carries prices"
    for item in priced:
        assert models[item["id"]].input_price_per_mtok == pytest.approx(float(item["pricing"]["prompt"]) * 1e6)
        assert models[item["id"]].output_price_per_mtok == pytest.approx(float(item["pricing"]["completion"]) * 1e6)
    assert models[CHAT].kind == "chat" and models[CHAT].chat is True
    assert models["BAAI/bge-en-icl"].kind == "embedding" and models["BAAI/bge-en-icl"].chat is False


async def test_overflow_vllm_wording(emulator_env, settings):
    error = await _raised(plugin.complete(_request(TINY, LONG), settings))
    assert isinstance(error, openai.BadRequestError)
    overflow = plugin.detect_overflow(error, "nebius", f"nebius/{TINY}")
    assert overflow is not None and overflow.provider == "nebius"
    assert overflow.limit == 8192 and overflow.requested > 8192
    assert f"{overflow.requested} tokens" in overflow.message
    public = massgen_plugins.detect_overflow(error, model=f"nebius/{TINY}")
    assert (public.limit, public.requested, public.provider) == (8192, overflow.requested, "nebius")
    assert plugin.classify_error(error, "nebius").kind == ErrorKind.OVERFLOW


async def test_overflow_in_stream(emulator_env, settings):
    emulator_env.inject(Fault(kind="stream_error", provider="nebius", error_type="overflow"))
    error = await _raised(plugin.stream(_request(TINY, "hello"), settings))
    overflow = plugin.detect_overflow(error, "nebius", f"nebius/{TINY}")
    assert overflow is not None and overflow.in_stream is True and overflow.limit == 8192


@pytest.mark.parametrize(("kind", "expected"), [
    ("rate_limit", ErrorKind.RATE_LIMIT), ("payload_too_large", ErrorKind.PAYLOAD_TOO_LARGE),
    ("server_error", ErrorKind.SERVER), ("unavailable", ErrorKind.OVERLOADED),  # "The model is overloaded"
    ("quota", ErrorKind.QUOTA),
])
async def test_near_misses_are_not_overflow(emulator_env, settings, kind, expected):
    emulator_env.inject(Fault(kind=kind, provider="nebius"))
    error = await _raised(plugin.complete(_request(CHAT, "hi"), settings))
    assert plugin.detect_overflow(error, "nebius", f"nebius/{CHAT}") is None
    assert massgen_plugins.detect_overflow(error, model=f"nebius/{CHAT}") is None
    info = plugin.classify_error(error, "nebius")
    assert info.kind == expected and info.retryable is (kind not in ("payload_too_large", "quota"))


async def test_output_cap_is_not_overflow(emulator_env, settings):
    error = await _raised(plugin.complete(_request(TINY, "hi", max_tokens=4_000), settings))
    assert plugin.detect_overflow(error, "nebius", f"nebius/{TINY}") is None
    assert plugin.classify_error(error, "nebius").kind == ErrorKind.OUTPUT_CAP


async def test_complete_and_stream_with_tool_calls(emulator_env, settings):
    text = '[[call search {"q": "tokens"}]] [[call search {"q": "windows"}]]'
    response = await plugin.complete(_request(CHAT, text, tools=[TOOL]), settings)
    assert [json.loads(c.function["arguments"]) for c in response.message.tool_calls] == [
        {"q": "tokens"}, {"q": "windows"}]
    events = await _events(plugin.stream(_request(CHAT, text, tools=[TOOL]), settings))
    calls = [e.tool_call for e in events if e.type == "tool_call"]
    assert [json.loads(c.function["arguments"])["q"] for c in calls] == ["tokens", "windows"]
    assert events[-1].type == "done" and len(events[-1].response.message.tool_calls) == 2


async def test_missing_key_and_base_url(emulator_env, settings, monkeypatch):
    assert settings.base_url == emulator_env.base_url("nebius")
    with pytest.raises(MissingCredentialsError, match="NEBIUS_API_KEY"):
        await plugin.complete(_request(CHAT, "hi"), ProviderSettings(provider="nebius", base_url=settings.base_url))
    with pytest.raises(MissingCredentialsError, match="NEBIUS_API_KEY"):
        plugin.list_models("nebius", ProviderSettings(provider="nebius", base_url=settings.base_url))
    assert emulator_env.requests == []
    from massgen_plugins.providers import resolve_settings

    monkeypatch.delenv("NEBIUS_BASE_URL")
    assert resolve_settings("nebius").base_url == "https://api.tokenfactory.nebius.com/v1"


def test_declaration_and_token_counts():
    info = plugin.register_providers()
    assert (info.name, info.api_key_env, info.base_url_env) == ("nebius", ["NEBIUS_API_KEY"], "NEBIUS_BASE_URL")
    assert info.tokenizer == "estimate" and info.token_margin == 0.10
    assert not hasattr(plugin, "count_tokens")  # no count endpoint: the built-in counter answers
    from massgen_plugins.manager import get_hooks

    counted = get_hooks().count_tokens(TokenCountRequest(model=f"nebius/{CHAT}", messages=[
        Message(role="user", content="hello world")])).value
    assert counted.tokens > 0 and counted.exact is False and counted.margin >= 0.05


def test_importing_the_plugin_does_not_import_the_sdk():
    code = ("import sys, massgen_plugins_nebius; bad = [m for m in ('openai', 'pydantic') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_verbatim_vllm_body(emulator_env, settings):
    body = {"object": "error", "message": "This model's maximum context length is 131072 tokens. However, you "
            "requested 140000 tokens (139000 in the messages, 1000 in the completion). Please reduce the length "
            "of the messages or completion.", "type": "BadRequestError", "param": None, "code": 400}
    emulator_env.inject(Fault(kind="custom", provider="nebius", status=400, body=body))
    error = await _raised(plugin.complete(_request(CHAT, "hi"), settings))
    overflow = plugin.detect_overflow(error, "nebius", f"nebius/{CHAT}")
    assert (overflow.limit, overflow.requested) == (131072, 140000)
