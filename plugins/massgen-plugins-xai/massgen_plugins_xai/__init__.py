"""massgen-plugins-xai: the xAI (Grok) provider (entry point ``xai``), through the ``openai`` SDK.

Built on the OpenAI-compatible machinery of ``massgen-plugins-openai`` (:mod:`massgen_plugins_openai.kit`).
What is xAI-specific:

* listing merges ``GET /models`` with ``GET /language-models`` (``{"models": [...]}``: modalities,
  aliases and integer prices in USD cents per 100 million tokens, converted to USD per million);
  xAI's REST API states no context window, so ``context_window`` stays ``None`` unless the
  endpoint adds a window field;
* overflow errors arrive as ``{"code": "<grpc text>", "error": "<string>"}``: the openai SDK
  raises ``BadRequestError`` with ``body`` = the string, ``code``/``type`` ``None`` and
  ``str(e) == "Error code: 400"``; the detector reads the body ("maximum prompt length is N but
  the request contains M tokens", or the gRPC-era "[input_too_large] ... (M tokens) exceeds
  budget (N tokens)");
* token counts: xAI has no REST count endpoint and its tokenizer is not public, so the plugin
  has no ``count_tokens``: the built-in counter answers with an ``o200k_base`` proxy count and a
  10 % margin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

__all__ = ["XAI", "__version__"]

XAI = CompatProvider(
    name="xai",
    display_name="xAI",
    api_key_env=("XAI_API_KEY",),
    base_url_env="XAI_BASE_URL",
    default_base_url="https://api.x.ai/v1",
    tokenizer="estimate",
    token_margin=0.10,
    max_tokens_field="max_tokens",
)

#: ``/language-models`` prices are USD cents per 100 million tokens
_CENTS_PER_100M_TO_USD_PER_M = 1 / 10_000


@hookimpl
def register_providers() -> ProviderInfo:
    return XAI.info()


def _price(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return round(value * _CENTS_PER_100M_TO_USD_PER_M, 6)


@hookimpl
def list_models(provider: str, settings: ProviderSettings) -> list[ModelInfo] | None:
    """``/models`` + ``/language-models`` (modalities, aliases, prices)."""
    import openai
    from massgen_plugins.types import ModelInfo
    from massgen_plugins_openai.compat import sync_client
    from massgen_plugins_openai.listing import as_int, extras, get_json, kind_from_id, kind_from_modality

    with sync_client(XAI, settings) as client:
        listed = [extras(m) for m in client.models.list()]
        try:
            language = get_json(client, "/language-models")
        except openai.NotFoundError:  # an OpenAI-compatible proxy without the xAI extension
            language = {}
    if not isinstance(language, dict):
        language = {}
    details = {m["id"]: m for m in (language.get("models") or []) if isinstance(m, dict) and m.get("id")}
    order = [m["id"] for m in listed if m.get("id")] + [i for i in details if i not in {m.get("id") for m in listed}]
    by_id = {m["id"]: m for m in listed if m.get("id")}
    out: list[ModelInfo] = []
    for model_id in order:
        data = {**by_id.get(model_id, {}), **details.get(model_id, {})}
        provenance = {"id": "api"}
        kind = kind_from_modality(None, data.get("output_modalities")) if model_id in details else None
        if kind is None:
            kind = kind_from_id(model_id)
            provenance["kind"] = "inferred:id"
        else:
            provenance["kind"] = "api"
        window = as_int(data.get("max_prompt_length") or data.get("context_window") or data.get("context_length"))
        input_price = _price(data.get("prompt_text_token_price"))
        output_price = _price(data.get("completion_text_token_price"))
        for field, value in (("context_window", window), ("input_price_per_mtok", input_price),
                             ("output_price_per_mtok", output_price)):
            if value is not None:
                provenance[field] = "api"
        out.append(ModelInfo(
            provider=XAI.name, id=model_id, created=as_int(data.get("created")), kind=kind, chat=kind == "chat",
            context_window=window, input_price_per_mtok=input_price, output_price_per_mtok=output_price,
            provenance=provenance, aliases=list(data.get("aliases") or []), owned_by=data.get("owned_by"),
        ))
    return out


@hookimpl
def detect_overflow(error: BaseException, provider: str | None, model: str | None) -> Overflow | None:
    return kit.detect_overflow(XAI, error, provider, model)


@hookimpl
def classify_error(error: BaseException, provider: str | None) -> ErrorInfo | None:
    return kit.classify_error(XAI, error, provider)


@hookimpl
async def complete(request: CompletionRequest, settings: ProviderSettings) -> CompletionResponse:
    return await kit.complete(XAI, request, settings)


@hookimpl
def stream(request: CompletionRequest, settings: ProviderSettings) -> AsyncIterator[StreamEvent]:
    return kit.stream(XAI, request, settings)
