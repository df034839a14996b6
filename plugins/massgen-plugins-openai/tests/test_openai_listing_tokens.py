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


def _settings():
    from massgen_plugins.providers import resolve_settings

    return resolve_settings("openai", require_key=False)


def _host_count(request: TokenCountRequest):
    from massgen_plugins.manager import get_hooks

    return get_hooks().count_tokens(request).value


def test_without_network_the_builtin_tiktoken_counter_answers(emulator_env):
    request = TokenCountRequest(model="openai/gpt-4o", messages=_conversation())
    assert plugin.count_tokens(request, _settings()) is None
    result = _host_count(request)
    assert result.method == "tiktoken:o200k_base" and result.exact is True
    assert emulator_env.requests == []  # no network without allow_network


def test_count_tokens_via_responses_input_tokens_when_allowed(emulator_env):
    request = TokenCountRequest(model="openai/gpt-4o", messages=_conversation(), allow_network=True)
    result = plugin.count_tokens(request, _settings())
    assert result.method == "api:responses/input_tokens" and result.exact is True and result.margin == 0.0
    assert _host_count(request).method == "api:responses/input_tokens"
    [sent, _] = emulator_env.requests_for("openai", "/responses/input_tokens")
    assert sent.body["model"] == "gpt-4o" and sent.body["instructions"] == "You are a careful assistant."
    assert [item["role"] for item in sent.body["input"]] == ["user", "assistant", "user"]
    local = _host_count(TokenCountRequest(model="openai/gpt-4o", messages=_conversation()))
    assert abs(result.tokens - local.tokens) <= 0.1 * local.tokens


def test_count_tokens_via_api_includes_tools_and_compaction_items(emulator_env, weather_tool):
    messages = [*_conversation()[:1],
                Message(role="assistant", content=[{"type": "compaction", "id": "cmp_1", "encrypted_content": "x" * 40}]),
                *_conversation()[1:]]
    plain = plugin.count_tokens(TokenCountRequest(model="openai/gpt-4o", messages=_conversation(), allow_network=True),
                                _settings())
    with_tools = plugin.count_tokens(TokenCountRequest(model="openai/gpt-4o", messages=messages,
                                                       tools=[weather_tool], allow_network=True), _settings())
    assert with_tools.tokens > plain.tokens
    sent = emulator_env.requests_for("openai", "/responses/input_tokens")[-1].body
    assert sent["tools"][0]["name"] == "get_weather"
    assert {"type": "compaction", "id": "cmp_1", "encrypted_content": "x" * 40} in sent["input"]


def test_without_a_key_or_endpoint_the_local_count_answers(emulator_env, monkeypatch):
    request = TokenCountRequest(model="openai/gpt-4o", messages=_conversation(), allow_network=True)
    monkeypatch.delenv("OPENAI_API_KEY")
    assert plugin.count_tokens(request, _settings()) is None
    assert _host_count(request).method == "tiktoken:o200k_base"
    assert emulator_env.requests == []


def test_count_tokens_ignores_other_providers_and_non_responses_models(emulator_env):
    xai = _host_count(TokenCountRequest(model="xai/grok-3", messages=_conversation(), allow_network=True))
    assert xai.method != "api:responses/input_tokens"  # routed to xai's owner, never to this plugin
    assert plugin.count_tokens(TokenCountRequest(model="openai/gpt-4", messages=_conversation(),
                                                 allow_network=True), _settings()) is None
    assert emulator_env.requests == []


def test_kind_inference_on_real_model_ids():
    from massgen_plugins_openai.listing import kind_from_id, kind_from_modality, per_token_to_per_million

    table = {
        "gpt-5": "chat", "gpt-4.1-mini": "chat", "o4-mini": "chat", "chatgpt-4o-latest": "chat",
        "gpt-4o-search-preview": "chat", "text-embedding-3-large": "embedding", "tts-1-hd": "tts",
        "gpt-4o-mini-tts": "tts", "gpt-4o-transcribe": "transcription", "whisper-1": "transcription",
        "dall-e-3": "image", "gpt-image-1": "image", "omni-moderation-latest": "moderation",
        "gpt-4o-realtime-preview": "realtime", "gpt-audio": "audio", "sora-2": "video",
        "davinci-002": "completion", "gpt-3.5-turbo-instruct": "completion",
        "meta-llama/Llama-Guard-3-8B": "moderation", "BAAI/bge-en-icl": "embedding",
    }
    assert {model_id: kind_from_id(model_id) for model_id in table} == table
    assert kind_from_modality("text->text") == "chat"
    assert kind_from_modality("text+image->text") == "chat"
    assert kind_from_modality("text->embedding") == "embedding"
    assert kind_from_modality(None, ["image"]) == "image"
    assert kind_from_modality(None, None) is None
    assert per_token_to_per_million("0.00000015") == 0.15
    assert per_token_to_per_million("-1") is None and per_token_to_per_million(None) is None
