"""OpenAI model listing and token counting against the emulator through the openai SDK."""

from __future__ import annotations

import massgen_plugins_openai as plugin
from massgen_plugins.testing import EmulatedModel
from massgen_plugins.types import Message, TokenCountRequest


def test_list_models_every_model_with_kinds(emulator_env, openai_settings):
    models = {m.id: m for m in plugin.list_models("openai", openai_settings)}
    assert set(models) == {m.id for m in emulator_env.models("openai")}
    assert models["gpt-4o-mini"].kind == "chat" and models["gpt-4o-mini"].chat is True
    assert models["gpt-4o-mini"].created == 1721172741
    assert models["gpt-4o-mini"].tokenizer == "tiktoken:o200k_base"
    assert models["gpt-4"].tokenizer == "tiktoken:cl100k_base"
    expected = {"text-embedding-3-small": "embedding", "tts-1": "tts", "whisper-1": "transcription",
                "omni-moderation-latest": "moderation", "gpt-image-1": "image"}
    for model_id, kind in expected.items():
        assert models[model_id].kind == kind and models[model_id].chat is False, model_id
    # OpenAI's /models states no window: it stays unknown rather than guessed
    assert models["gpt-4o"].context_window is None and "context_window" not in models["gpt-4o"].provenance
    assert all(m.provider == "openai" for m in models.values())
    [sent] = emulator_env.requests_for("openai")
    assert sent.path.endswith("/models")


def test_window_fields_are_read_when_an_openai_compatible_endpoint_states_them(emulator_env, openai_settings):
    emulator_env.set_models("openai", [EmulatedModel("proxy-model", 32_000, 4_000,
                                                     extra={"context_window": 32_000, "max_output_tokens": 4_000})])
    [model] = plugin.list_models("openai", openai_settings)
    assert (model.context_window, model.max_output_tokens) == (32_000, 4_000)
    assert model.provenance["context_window"] == "api"


def _conversation() -> list[Message]:
    return [
        Message(role="system", content="You are a careful assistant."),
        Message(role="user", content="Count the tokens in this sentence, please. " * 20),
        Message(role="assistant", content="It has about two hundred tokens."),
        Message(role="user", content="Thanks!"),
    ]


def test_count_tokens_locally_with_tiktoken(emulator_env):
    result = plugin.count_tokens(TokenCountRequest(model="openai/gpt-4o", messages=_conversation()))
    import tiktoken

    enc = tiktoken.get_encoding("o200k_base")
    content = sum(len(enc.encode(m.content)) for m in _conversation())
    assert result.method == "tiktoken:o200k_base"
    assert result.tokens == content + 4 * 3 + 3  # cookbook framing: 3 per message + 3 priming
    assert result.exact is False and result.margin == 0.02
    assert emulator_env.requests == []  # no network without allow_network
    legacy = plugin.count_tokens(TokenCountRequest(model="openai/gpt-4", messages=_conversation()))
    assert legacy.method == "tiktoken:cl100k_base"


def test_count_tokens_via_responses_input_tokens_when_allowed(emulator_env):
    request = TokenCountRequest(model="openai/gpt-4o", messages=_conversation(), allow_network=True)
    result = plugin.count_tokens(request)
    assert result.method == "api:responses/input_tokens" and result.exact is True and result.margin == 0.0
    [sent] = emulator_env.requests_for("openai", "/responses/input_tokens")
    assert sent.body["instructions"] == "You are a careful assistant."
    assert [item["role"] for item in sent.body["input"]] == ["user", "assistant", "user"]
    local = plugin.count_tokens(TokenCountRequest(model="openai/gpt-4o", messages=_conversation()))
    assert abs(result.tokens - local.tokens) <= 0.1 * local.tokens


def test_count_tokens_falls_back_to_tiktoken_without_a_key(emulator_env, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    request = TokenCountRequest(model="openai/gpt-4o", messages=_conversation(), allow_network=True)
    assert plugin.count_tokens(request).method == "tiktoken:o200k_base"
    assert emulator_env.requests == []


def test_count_tokens_ignores_other_providers_and_unknown_models():
    assert plugin.count_tokens(TokenCountRequest(model="xai/grok-3", messages=_conversation())) is None
    assert plugin.count_tokens(TokenCountRequest(model="openai/some-future-model", messages=_conversation())) is None
