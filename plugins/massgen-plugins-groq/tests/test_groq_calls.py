"""Calls, streaming, tool calls, listing and settings, through the real groq SDK against the
emulator over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from massgen_plugins.errors import MissingCredentialsError
from massgen_plugins.providers import resolve_settings
from massgen_plugins.types import CompletionRequest, Message, ProviderSettings, TokenCountRequest, ToolCall
from massgen_plugins_groq.calls import kind_of
from massgen_plugins_groq.convert import to_groq

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
MODEL = "groq/llama-3.3-70b-versatile"


def _chats(emu):
    return [r for r in emu.requests if r.provider == "groq" and r.path == "/openai/v1/chat/completions"]


def test_listing_has_windows_and_excludes_non_chat_models(emulator_env, settings, hooks):
    result = hooks.list_models("groq", settings)
    models = {m.id: m for m in result.value}
    assert result.plugin == "groq"
    assert set(models) == {m.id for m in emulator_env.models("groq")}
    llama = models["llama-3.3-70b-versatile"]
    assert llama.context_window == 131_072 and llama.chat is True and llama.provenance["context_window"] == "api"
    assert models["moonshotai/kimi-k2-instruct-0905"].context_window == 262_144
    assert (models["whisper-large-v3"].kind, models["whisper-large-v3"].chat) == ("transcription", False)
    assert (models["playai-tts"].kind, models["playai-tts"].chat) == ("tts", False)
    assert (models["meta-llama/llama-guard-4-12b"].kind, models["meta-llama/llama-guard-4-12b"].chat) == (
        "moderation", False)
    assert [r.path for r in emulator_env.requests] == ["/openai/v1/models"]


def test_model_kinds_by_id():
    assert kind_of("distil-whisper-large-v3-en") == "transcription"
    assert kind_of("canopylabs/orpheus-v1-english") == "tts"
    assert kind_of("openai/gpt-oss-safeguard-20b") == "moderation"
    assert kind_of("meta-llama/llama-prompt-guard-2-86m") == "moderation"
    assert kind_of("openai/gpt-oss-120b") == "chat"


def test_message_translation():
    out = to_groq([
        Message(role="developer", content="Be brief."),
        Message(role="user", content=[{"type": "text", "text": "a"}, {"type": "compaction", "encrypted_content": "x"}]),
        Message(role="assistant", tool_calls=[ToolCall(id="c1", function={"name": "f", "arguments": "{}"})]),
        Message(role="tool", tool_call_id="c1", content="42"),
    ])
    assert out == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "a"},
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                              "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "content": "42", "tool_call_id": "c1"},
    ]


async def test_complete_text(emulator_env, settings, hooks):
    request = CompletionRequest(model=MODEL, max_tokens=200, messages=[
        Message(role="system", content="Be brief."), Message(role="user", content="Say hello")])
    response = await hooks.complete(request, settings)
    assert response.message.content and response.finish_reason == "stop"
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    body = _chats(emulator_env)[-1].body
    assert body["max_completion_tokens"] == 200 and body["model"] == "llama-3.3-70b-versatile"


async def test_non_streaming_tool_calls_and_round_trip(emulator_env, settings, hooks):
    ask = Message(role="user", content='Weather? [[call get_weather {"city": "Paris"}]] [[call get_weather {"city": "Oslo"}]]')
    response = await hooks.complete(CompletionRequest(model=MODEL, messages=[ask], tools=[WEATHER]), settings)
    calls = response.message.tool_calls
    assert response.finish_reason == "tool_calls"
    assert [json.loads(c.function["arguments"]) for c in calls] == [{"city": "Paris"}, {"city": "Oslo"}]
    follow = [ask, response.message, *[Message(role="tool", tool_call_id=c.id, content="sunny") for c in calls]]
    final = await hooks.complete(CompletionRequest(model=MODEL, messages=follow, tools=[WEATHER]), settings)
    assert final.message.content and not final.message.tool_calls
    sent = _chats(emulator_env)[-1].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "tool"]
    assert [m["tool_call_id"] for m in sent[2:]] == [c.id for c in calls]


async def test_streaming_text_and_tool_calls(emulator_env, settings, hooks):
    ask = Message(role="user", content='Look [[call get_weather {"city": "Lima"}]] [[call get_weather {"city": "Quito"}]]')
    events = [e async for e in hooks.stream(CompletionRequest(model=MODEL, messages=[ask], tools=[WEATHER]), settings)]
    assert events[-1].type == "done"
    calls = [e.tool_call for e in events if e.type == "tool_call"]
    assert [json.loads(c.function["arguments"]) for c in calls] == [{"city": "Lima"}, {"city": "Quito"}]
    assert all(c.id and c.function["name"] == "get_weather" for c in calls)
    assert events[-1].response.finish_reason == "tool_calls"
    assert _chats(emulator_env)[-1].body["stream"] is True

    text_events = [e async for e in hooks.stream(
        CompletionRequest(model=MODEL, messages=[Message(role="user", content="tell me a story")]), settings)]
    deltas = "".join(e.delta for e in text_events if e.type == "text")
    assert deltas and deltas == text_events[-1].response.message.content
    usage = text_events[-1].response.usage  # from x_groq.usage on the last chunk
    assert usage.input_tokens > 0 and usage.output_tokens > 0


async def test_sdk_retries_are_off(emulator_env, settings, hooks):
    from massgen_plugins.testing import Fault

    emulator_env.inject(Fault(kind="rate_limit", provider="groq", times=1))
    with pytest.raises(Exception) as caught:
        await hooks.complete(CompletionRequest(model=MODEL, messages=[Message(role="user", content="hi")]), settings)
    assert type(caught.value).__name__ == "RateLimitError"
    assert len(_chats(emulator_env)) == 1


def test_no_count_endpoint_so_the_builtin_estimator_answers(emulator_env, hooks):
    request = TokenCountRequest(model=MODEL, allow_network=True, messages=[Message(role="user", content="hello " * 50)])
    result = hooks.count_tokens(request)
    assert result.plugin != "groq"
    assert result.value is None or result.value.tokens > 0
    assert not [r for r in emulator_env.requests if r.provider == "groq"]


def test_missing_key_names_the_variable(emulator_env, monkeypatch):
    monkeypatch.delenv("GROQ_API_KEY")
    with pytest.raises(MissingCredentialsError, match="GROQ_API_KEY"):
        resolve_settings("groq")
    from massgen_plugins_groq.calls import list_models

    with pytest.raises(MissingCredentialsError, match="GROQ_API_KEY"):
        list_models(ProviderSettings(provider="groq", base_url=emulator_env.base_url("groq")))


def test_base_url_override_from_environment(emulator_env, monkeypatch, hooks):
    from massgen_plugins.testing import Emulator

    with Emulator() as other:  # a second server: only the variable can send the SDK there
        monkeypatch.setenv("GROQ_BASE_URL", other.base_url("groq"))
        settings = resolve_settings("groq")
        assert settings.base_url == other.base_url("groq")
        assert hooks.list_models("groq", settings).value
        assert [r.path for r in other.requests][:1] == ["/openai/v1/models"]
        assert not emulator_env.requests

    monkeypatch.delenv("GROQ_BASE_URL")
    assert resolve_settings("groq").base_url == "https://api.groq.com"


def test_importing_the_plugin_does_not_import_the_sdk():
    code = "import sys, massgen_plugins_groq; assert 'groq' not in sys.modules, 'SDK imported'; print('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
