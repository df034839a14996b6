"""massgen-plugins-nebius: the Nebius Token Factory provider (entry point ``nebius``), through
the ``openai`` SDK.

Built on ``massgen-plugins-openai``'s OpenAI-compatible machinery. What is Nebius-specific:

* listing calls ``GET /models?verbose=true``, which adds ``context_length``, ``pricing``
  (USD per token as decimal strings, converted to USD per million), ``supported_features`` and
  ``architecture.modality`` (``"text->text"`` → chat, ``"text->embedding"`` → embedding);
* Nebius serves models with vLLM, whose overflow wording is OpenAI's ("This model's maximum
  context length is N tokens. However, you requested M tokens (...)"), detected with the
  shared OpenAI-compatible detector;
* token counts: Nebius has no count endpoint and the open-weight models' tokenizers are not
  bundled, so the plugin has no ``count_tokens``: the built-in counter answers with a scaled
  ``o200k_base`` proxy count and a 10 % margin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from massgen_plugins import hookimpl
from massgen_plugins_openai import kit
from massgen_plugins_openai.compat import CompatProvider

from ._version import __version__

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from massgen_plugins.types import (
        CompletionRequest,
        CompletionResponse,
        ErrorInfo,
        ModelInfo,
        Overflow,
        ProviderInfo,
        ProviderSettings,
        StreamEvent,
    )

__all__ = ["NEBIUS", "__version__"]

NEBIUS = CompatProvider(
    name="nebius",
    display_name="Nebius Token Factory",
    api_key_env=("NEBIUS_API_KEY",),
    base_url_env="NEBIUS_BASE_URL",
    default_base_url="https://api.tokenfactory.nebius.com/v1",
    tokenizer="estimate",
    token_margin=0.10,
    max_tokens_field="max_tokens",
)


@hookimpl
def register_providers() -> ProviderInfo:
    return NEBIUS.info()


@hookimpl
def list_models(provider: str, settings: ProviderSettings) -> list[ModelInfo] | None:
    """``GET /models?verbose=true``: window, prices, features, modality."""
    from massgen_plugins.types import ModelInfo
    from massgen_plugins_openai.compat import sync_client
    from massgen_plugins_openai.listing import (
        as_int,
        kind_from_id,
        kind_from_modality,
        paged,
        per_token_to_per_million,
    )

    with sync_client(NEBIUS, settings) as client:
        items = paged(client, "/models", {"verbose": "true"})
    out: list[ModelInfo] = []
    for data in items:
        model_id = str(data.get("id", ""))
        if not model_id:
            continue
        provenance = {"id": "api"}
        architecture = _v if isinstance(_v := data.get("architecture"), dict) else {}
        kind = kind_from_modality(architecture.get("modality"), architecture.get("output_modalities"))
        provenance["kind"] = "api" if kind else "inferred:id"
        kind = kind or kind_from_id(model_id)
        pricing = _v if isinstance(_v := data.get("pricing"), dict) else {}
        window = as_int(data.get("context_length") or data.get("context_window"))
        output = as_int(data.get("max_output_tokens") or data.get("max_completion_tokens"))
        input_price = per_token_to_per_million(pricing.get("prompt"))
        output_price = per_token_to_per_million(pricing.get("completion"))
        for field, value in (("context_window", window), ("max_output_tokens", output),
                             ("input_price_per_mtok", input_price), ("output_price_per_mtok", output_price)):
            if value is not None:
                provenance[field] = "api"
        out.append(ModelInfo(
            provider=NEBIUS.name, id=model_id, display_name=data.get("name"), created=as_int(data.get("created")),
            kind=kind, chat=kind == "chat", context_window=window, max_output_tokens=output,
            input_price_per_mtok=input_price, output_price_per_mtok=output_price, provenance=provenance,
            supported_features=list(data.get("supported_features") or []), owned_by=data.get("owned_by"),
        ))
    return out


@hookimpl
def detect_overflow(error: BaseException, provider: str | None, model: str | None) -> Overflow | None:
    return kit.detect_overflow(NEBIUS, error, provider, model)


@hookimpl
def classify_error(error: BaseException, provider: str | None) -> ErrorInfo | None:
    return kit.classify_error(NEBIUS, error, provider)


@hookimpl
async def complete(request: CompletionRequest, settings: ProviderSettings) -> CompletionResponse:
    return await kit.complete(NEBIUS, request, settings)


@hookimpl
def stream(request: CompletionRequest, settings: ProviderSettings) -> AsyncIterator[StreamEvent]:
    return kit.stream(NEBIUS, request, settings)
