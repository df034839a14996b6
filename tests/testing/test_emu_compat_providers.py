"""xAI, Nebius and OpenRouter through the openai SDK (the SDK their plugins use)."""

from __future__ import annotations

import openai
import pytest
from massgen_plugins.testing import Fault


def test_xai_models_and_language_models(compat_client):
    client = compat_client("xai")
    assert "grok-4-0709" in [m.id for m in client.models.list()]
    listing = client.get("/language-models", cast_to=object)
    ids = [m["id"] for m in listing["models"]]
    assert "grok-3" in ids and "grok-2-image-1212" not in ids  # chat models only
    assert listing["models"][0]["prompt_text_token_price"] > 0
    assert client.get("/language-models/grok-3", cast_to=object)["id"] == "grok-3"


def test_xai_overflow_has_a_string_error(compat_client):
    with pytest.raises(openai.BadRequestError) as info:
        compat_client("xai").chat.completions.create(model="grok-tiny-8k",
                                                     messages=[{"role": "user", "content": "w " * 9000}])
    err = info.value
    assert (err.code, err.type, err.param) == (None, None, None)
    assert str(err) == "Error code: 400"  # openai 3.52 renders only a dict error's message
    assert isinstance(err.body, str) and err.body.startswith("This model's maximum prompt length is 8192 but the "
                                                             "request contains ")
    assert err.response.json()["code"] == "Client specified an invalid argument"


def test_nebius_verbose_models(compat_client):
    client = compat_client("nebius")
    plain = client.models.list().data[0]
    assert getattr(plain, "context_length", None) is None
    verbose = {m.id: m for m in client.models.list(extra_query={"verbose": "true"}).data}
    m = verbose["meta-llama/Llama-3.3-70B-Instruct"]
    assert m.context_length == 131_072 and "tools" in m.supported_features
    assert verbose["BAAI/bge-en-icl"].architecture["modality"] == "text->embedding"


def test_nebius_overflow_vllm_wording(compat_client):
    with pytest.raises(openai.BadRequestError) as info:
        compat_client("nebius").chat.completions.create(model="emulator/tiny-8k", max_tokens=100,
                                                        messages=[{"role": "user", "content": "w " * 8200}])
    assert "maximum context length is 8192 tokens" in info.value.body["message"]
    assert "100 in the completion" in info.value.body["message"]


def test_openrouter_models_and_overflow(compat_client):
    client = compat_client("openrouter")
    models = {m.id: m for m in client.models.list()}
    assert models["openai/gpt-4o"].context_length == 128_000
    assert models["openai/gpt-4o"].top_provider["max_completion_tokens"] == 16_384
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="emulator/tiny-8k", messages=[{"role": "user", "content": "w " * 9000}])
    err = info.value
    assert err.code == "400" and err.type is None and err.body["metadata"] == {"provider_name": None}
    assert err.body["message"].startswith("This endpoint's maximum context length is 8192 tokens.")


def test_openrouter_stream_overflow_is_http_200(emu, compat_client):
    with pytest.raises(openai.APIError) as info:
        for _ in compat_client("openrouter").chat.completions.create(
                model="emulator/tiny-8k", stream=True, messages=[{"role": "user", "content": "w " * 9000}]):
            pass
    assert not isinstance(info.value, openai.APIStatusError)
    assert info.value.code == "400" and "maximum context length" in info.value.message
    assert emu.requests[-1].status == 200


def test_openrouter_quota_402_and_http200_error(emu, compat_client):
    client = compat_client("openrouter")
    emu.inject(Fault("quota", provider="openrouter"))
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 402 and "more credits" in info.value.message
    emu.inject(Fault("http200_error", provider="openrouter"))
    raw = client.chat.completions.with_raw_response.create(model="openai/gpt-4o",
                                                            messages=[{"role": "user", "content": "hi"}])
    assert raw.http_response.status_code == 200 and raw.http_response.json()["error"]["code"] == 502
