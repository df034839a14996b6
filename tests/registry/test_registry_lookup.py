"""get_model_info and the metadata merge: provenance, bundled and third-party sources, filtering."""

from __future__ import annotations

import massgen_plugins
import pytest
from massgen_plugins.errors import ModelStringError, UnknownModelError, UnknownProviderError
from massgen_plugins.registry import get_model_info, list_models, load_catalog
from massgen_plugins.testing import EmulatedModel

from .conftest import list_requests

pytestmark = pytest.mark.plugins("openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter")  # drives provider plugins end to end


def test_get_model_info_happy_path_from_the_api(registry_env):
    info = massgen_plugins.get_model_info("anthropic/claude-haiku-4-5-20251001")
    assert info.ref == "anthropic/claude-haiku-4-5-20251001"
    assert (info.context_window, info.max_output_tokens) == (200_000, 64_000)
    assert info.provenance["context_window"] == "api" and info.provenance["max_output_tokens"] == "api"
    # pricing is not in Anthropic's list: it comes from the bundled snapshot
    assert (info.input_price_per_mtok, info.output_price_per_mtok) == (1.0, 5.0)
    assert info.provenance["input_price_per_mtok"] == "bundled"
    assert info.tokenizer and info.source == "api" and not info.unknown_window


def test_an_alias_finds_the_dated_release(registry_env):
    info = get_model_info("anthropic/claude-sonnet-4-5")
    assert info.id == "claude-sonnet-4-5-20250929"
    assert info.context_window == 200_000


def test_openai_windows_come_from_the_bundled_snapshot(registry_env):
    info = get_model_info("openai/gpt-4o-mini")
    assert info.source == "api"  # the model is listed by the API ...
    assert info.context_window == 128_000  # ... which has no window field
    assert info.provenance["context_window"] == "bundled"
    assert info.tokenizer == "tiktoken:o200k_base"


def test_third_party_metadata_fills_what_nothing_else_knows(registry_env):
    emu = registry_env
    emu.set_models("openrouter", [
        EmulatedModel(id="openai/gpt-4o-mini-8k", context_window=8_192, max_output=2_048),
        EmulatedModel(id="openai/gpt-4o-mini", context_window=999_999, max_output=1),  # bundled wins
    ])
    info = get_model_info("openai/gpt-4o-mini-8k")
    assert (info.context_window, info.max_output_tokens) == (8_192, 2_048)
    assert info.provenance["context_window"] == "third-party"
    assert info.input_price_per_mtok == pytest.approx(2.5)  # OpenRouter's per-token price, per million
    assert get_model_info("openai/gpt-4o-mini").context_window == 128_000
    assert list_requests(emu, "openrouter")  # the public list was read from OPENROUTER_BASE_URL


def test_a_listed_model_nobody_describes_is_flagged(registry_env):
    emu = registry_env
    emu.set_models("openrouter", [EmulatedModel(id="openai/gpt-4o", context_window=128_000)])
    info = get_model_info("openai/gpt-test-2k")
    assert info.context_window is None and info.unknown_window
    assert "context_window" not in info.provenance
    listed = {m.id: m for m in list_models(["openai"])}
    assert listed["gpt-test-2k"].unknown_window


def test_unknown_model_suggests_close_matches(registry_env):
    with pytest.raises(UnknownModelError) as caught:
        get_model_info("openai/gpt-4o-mni")
    message = str(caught.value)
    assert "openai/gpt-4o-mini" in message and "did you mean" in message
    assert caught.value.exit_code == 2


def test_bad_model_strings_and_providers(registry_env):
    with pytest.raises(ModelStringError):
        get_model_info("gpt-4o")
    with pytest.raises(UnknownProviderError, match="installed providers"):
        get_model_info("nosuch/model")


def test_offline_lookup_uses_bundled_data_without_requests(registry_env):
    emu = registry_env
    info = get_model_info("xai/grok-4-0709", offline=True)
    assert info.context_window == 256_000 and info.provenance["context_window"] == "bundled"
    assert info.source == "bundled"
    assert emu.requests == []


def test_provenance_is_recorded_for_every_set_field(registry_env):
    for model in list_models(include_all=True):
        for field in ("context_window", "max_output_tokens", "input_price_per_mtok", "tokenizer", "kind"):
            if getattr(model, field) is not None:
                assert model.provenance.get(field) in {"api", "bundled", "third-party", "plugin", "derived"} \
                    or model.provenance.get(field, "").startswith("inferred"), (model.ref, field, model.provenance)


def test_chat_filter_hides_non_chat_models(registry_env):
    everything = {m.ref: m for m in list_models(include_all=True)}
    chat = {m.ref for m in list_models()}
    for ref in ("openai/text-embedding-3-small", "openai/tts-1", "openai/whisper-1",
                "openai/omni-moderation-latest", "openai/gpt-image-1", "groq/whisper-large-v3",
                "groq/playai-tts", "groq/meta-llama/llama-guard-4-12b", "gemini/imagen-4.0-generate-001",
                "gemini/gemini-embedding-001", "nebius/BAAI/bge-en-icl", "xai/grok-2-image-1212"):
        assert ref in everything, ref
        assert ref not in chat, ref
    for ref in ("openai/gpt-4o", "anthropic/claude-opus-4-5-20251101", "gemini/gemini-2.5-flash",
                "groq/llama-3.3-70b-versatile", "xai/grok-4-0709", "nebius/meta-llama/Llama-3.3-70B-Instruct",
                "openrouter/openai/gpt-4o-mini"):
        assert ref in chat, ref


def test_merge_precedence_api_then_bundled_then_third_party(registry_env):
    emu = registry_env
    # Groq's API states a window; the bundled snapshot and OpenRouter disagree: the API wins
    emu.set_models("groq", [EmulatedModel(id="llama-3.3-70b-versatile", context_window=77_777, max_output=1234)])
    emu.set_models("openrouter", [EmulatedModel(id="llama-3.3-70b-versatile", context_window=5)])
    catalog = load_catalog(["groq"], refresh=True)
    model = next(m for m in catalog.models if m.id == "llama-3.3-70b-versatile")
    assert model.context_window == 77_777 and model.provenance["context_window"] == "api"
    assert model.input_price_per_mtok == 0.59 and model.provenance["input_price_per_mtok"] == "bundled"


def test_third_party_catalogue_follows_links_next(registry_env):
    """OpenRouter's paginated form: page one names the next page; both pages are read."""
    from massgen_plugins.testing import Fault

    emu = registry_env
    emu.set_models("openrouter", [EmulatedModel(id="openai/gpt-test-2k", context_window=2_048, max_output=512)])
    first_page = {"data": [{"id": "openai/gpt-4o-mini-8k", "name": "OpenAI: GPT-4o-mini 8k", "context_length": 8_192,
                            "top_provider": {"context_length": 8_192, "max_completion_tokens": 2_048},
                            "pricing": {"prompt": "0.00000015", "completion": "0.0000006"}}],
                  "links": {"next": "/api/v1/models?offset=1&limit=1"}, "totalCount": 2}
    emu.inject(Fault(kind="custom", provider="openrouter", path="/models", times=1, status=200, body=first_page))
    from massgen_plugins.registry.openrouter_source import metadata_for

    described = {m.id: m for m in metadata_for("openai", offline=False)}
    assert described["gpt-4o-mini-8k"].context_window == 8_192
    assert described["gpt-4o-mini-8k"].input_price_per_mtok == pytest.approx(0.15)
    assert described["gpt-test-2k"].context_window == 2_048  # from the second page
    pages = list_requests(emu, "openrouter")
    assert len(pages) == 2 and pages[1].query.get("offset") == "1"
    # offline, the cached copy answers and no request is made
    emu.clear()
    from massgen_plugins.registry import openrouter_source

    openrouter_source.clear_memo()
    assert {m.id for m in metadata_for("openai", offline=True)} == {"gpt-4o-mini-8k", "gpt-test-2k"}
    assert emu.requests == []
