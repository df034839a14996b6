"""massgen-plugins-openrouter: the OpenRouter provider (entry point ``openrouter``), through the
``openai`` SDK. Model strings are ``openrouter/<vendor>/<model>`` (``openrouter/openai/gpt-4o-mini``).

Built on ``massgen-plugins-openai``'s OpenAI-compatible machinery. What is OpenRouter-specific:

* listing: ``GET /models`` gives ``context_length``, ``top_provider.max_completion_tokens``,
  ``architecture`` (output modalities → kind) and ``pricing`` in USD per token as strings
  (converted to USD per million; ``"-1"`` for variable-price routers becomes ``None``); a
  ``links.next`` page link is followed when present;
* errors: ``error.code`` is numeric in the body and reaches the openai SDK as the *string*
  ``'400'`` with ``type`` ``None`` and ``body['metadata']``; 402 means out of credits (quota,
  not retryable); errors after generation started arrive with **HTTP 200** -- in the body of a
  non-streaming reply (raised here as :class:`openai.APIError`) or as an SSE ``data: {"error": ...}``
  (raised by the SDK); their ``code`` tells what happened (429 rate limit, 5xx server);
* token counts: OpenRouter has no count endpoint, so the plugin has no ``count_tokens``; the
  built-in counter answers (tiktoken, exact, for ``openrouter/openai/*``; a proxy count with a
  margin for other vendors).
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

__all__ = ["OPENROUTER", "__version__"]

OPENROUTER = CompatProvider(
    name="openrouter",
    display_name="OpenRouter",
    api_key_env=("OPENROUTER_API_KEY",),
    base_url_env="OPENROUTER_BASE_URL",
    default_base_url="https://openrouter.ai/api/v1",
    tokenizer="estimate",
    token_margin=0.10,
    max_tokens_field="max_tokens",
    default_headers={"X-Title": "massgen-plugins"},
)


@hookimpl
def register_providers() -> ProviderInfo:
    return OPENROUTER.info()


@hookimpl
def list_models(provider: str, settings: ProviderSettings) -> list[ModelInfo] | None:
    """``GET /models`` with windows, output caps, prices and modalities."""
    from massgen_plugins.types import ModelInfo
    from massgen_plugins_openai.compat import sync_client
    from massgen_plugins_openai.listing import (
        as_int,
        kind_from_id,
        kind_from_modality,
        paged,
        per_token_to_per_million,
    )

    with sync_client(OPENROUTER, settings) as client:
        items = paged(client, "/models")
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
        top = _v if isinstance(_v := data.get("top_provider"), dict) else {}
        pricing = _v if isinstance(_v := data.get("pricing"), dict) else {}
        window = as_int(data.get("context_length")) or as_int(top.get("context_length"))
        output = as_int(top.get("max_completion_tokens"))
        input_price = per_token_to_per_million(pricing.get("prompt"))
        output_price = per_token_to_per_million(pricing.get("completion"))
        for field, value in (("context_window", window), ("max_output_tokens", output),
                             ("input_price_per_mtok", input_price), ("output_price_per_mtok", output_price)):
            if value is not None:
                provenance[field] = "api"
        out.append(ModelInfo(
            provider=OPENROUTER.name, id=model_id, display_name=data.get("name"),
            created=as_int(data.get("created")), kind=kind, chat=kind == "chat", context_window=window,
            max_output_tokens=output, input_price_per_mtok=input_price, output_price_per_mtok=output_price,
            tokenizer_family=architecture.get("tokenizer"), provenance=provenance,
            supported_parameters=list(data.get("supported_parameters") or []),
        ))
    return out


@hookimpl
def detect_overflow(error: BaseException, provider: str | None, model: str | None) -> Overflow | None:
    return kit.detect_overflow(OPENROUTER, error, provider, model)


@hookimpl
def classify_error(error: BaseException, provider: str | None) -> ErrorInfo | None:
    return kit.classify_error(OPENROUTER, error, provider)


@hookimpl
async def complete(request: CompletionRequest, settings: ProviderSettings) -> CompletionResponse:
    return await kit.complete(OPENROUTER, request, settings)


@hookimpl
def stream(request: CompletionRequest, settings: ProviderSettings) -> AsyncIterator[StreamEvent]:
    return kit.stream(OPENROUTER, request, settings)
