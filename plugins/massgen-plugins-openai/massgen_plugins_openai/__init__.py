"""massgen-plugins-openai: the OpenAI provider (entry point ``openai``).

Hooks: ``register_providers``, ``list_models`` (``GET /models``), ``count_tokens``
(``/responses/input_tokens`` when the network is allowed; otherwise the built-in tiktoken
counter answers),
``detect_overflow`` / ``classify_error`` (:mod:`.errors`), ``complete`` / ``stream`` (Chat
Completions; the Responses API for conversations carrying a compaction item), and ``compress``
as the ``native`` stage (:mod:`.compaction`, ``/responses/compact``).

It also declares and serves every OpenAI-compatible endpoint of ``config.toml``
(``[providers.NAME] kind = "openai-compatible"``, :mod:`.configured`): chat, streaming, model
listing with the windows the server reports, and error classification.

The package also holds the OpenAI-compatible machinery the xAI, Nebius and OpenRouter plugins
reuse: :mod:`.compat`, :mod:`.chat`, :mod:`.responses`, :mod:`.errors`, :mod:`.listing`,
:mod:`.tokens`. Importing it never imports the ``openai`` SDK (nor pydantic); the SDK is
imported inside the functions that call it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from massgen_plugins import hookimpl
from massgen_plugins.stages import compression_stage

from ._version import __version__
from .compat import CompatProvider, model_id

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable

    from massgen_plugins.types import (
        CompletionRequest,
        CompletionResponse,
        CompressionRequest,
        CompressionResult,
        ErrorInfo,
        ModelInfo,
        Overflow,
        ProviderInfo,
        ProviderSettings,
        StreamEvent,
        TokenCount,
        TokenCountRequest,
    )

__all__ = ["OPENAI", "__version__"]

OPENAI = CompatProvider(
    name="openai",
    display_name="OpenAI",
    api_key_env=("OPENAI_API_KEY",),
    base_url_env="OPENAI_BASE_URL",
    default_base_url="https://api.openai.com/v1",
    tokenizer="tiktoken:o200k_base",
    token_margin=0.02,
    capabilities=("stream", "tools", "responses", "compact", "count_tokens_api"),
    max_tokens_field="max_completion_tokens",
)


@hookimpl
def register_providers() -> list[ProviderInfo]:
    """OpenAI, and the OpenAI-compatible endpoints declared in config.toml (none while the file
    is invalid: the error is raised, naming the file and field, when one is used)."""
    from .configured import declared

    return [OPENAI.info(), *(provider.info() for provider in declared())]


def _served(name: str | None) -> CompatProvider:
    """The provider a routed call is for: a configured endpoint, else OpenAI itself."""
    if name is None or name == OPENAI.name:
        return OPENAI
    from .configured import compat_for

    return compat_for(name) or OPENAI


@hookimpl
def list_models(provider: str, settings: ProviderSettings) -> list[ModelInfo] | None:
    """``GET /models``: ids, creation time, owner. OpenAI states no window or output cap here
    (``None``, left to the registry's other sources) unless an OpenAI-compatible endpoint adds
    ``context_window``/``max_output_tokens`` fields; the kind is inferred from the id. Configured
    endpoints: :func:`.configured.list_models` (vLLM's ``max_model_len``, Ollama's ``/api/show`` ...)."""
    served = _served(provider)
    if served is not OPENAI:
        from .configured import list_models as list_configured

        return list_configured(served, settings)
    from massgen_plugins.types import ModelInfo

    from .compat import sync_client
    from .listing import as_int, extras, kind_from_id
    from .tokens import encoding_name

    with sync_client(OPENAI, settings) as client:
        page = client.models.list()
        models = list(page)
    out: list[ModelInfo] = []
    for model in models:
        data = extras(model)
        kind = kind_from_id(model.id)
        window = as_int(data.get("context_window") or data.get("context_length"))
        output = as_int(data.get("max_output_tokens") or data.get("max_completion_tokens"))
        provenance = {"id": "api", "created": "api", "kind": "inferred:id"}
        if window is not None:
            provenance["context_window"] = "api"
        if output is not None:
            provenance["max_output_tokens"] = "api"
        encoding = encoding_name(model.id)
        out.append(ModelInfo(
            provider=OPENAI.name, id=model.id, created=as_int(data.get("created")), kind=kind,
            chat=kind == "chat", context_window=window, max_output_tokens=output,
            tokenizer=f"tiktoken:{encoding}" if encoding else None,
            deprecated=True if data.get("shutdown_date") else None, provenance=provenance,
            owned_by=data.get("owned_by"),
        ))
    return out


@hookimpl
def count_tokens(request: TokenCountRequest, settings: ProviderSettings) -> TokenCount | None:
    """Exact, via ``/responses/input_tokens``, when ``allow_network`` and the model speaks the
    Responses API. Otherwise (or if the endpoint fails, or no key is set) ``None``: the built-in
    local counter answers with tiktoken, exact for OpenAI models."""
    mid = model_id(request.model)
    if _served(request.model.split("/", 1)[0]) is not OPENAI:
        return None  # a configured endpoint: the built-in counter estimates
    if not request.allow_network or settings.api_key is None:
        return None
    from .tokens import api_count, responses_capable

    if not responses_capable(mid):
        return None
    from .compat import sync_client

    try:
        with sync_client(OPENAI, settings) as client:
            return api_count(client, mid, request.messages, request.tools)
    except Exception:
        return None


@hookimpl
def detect_overflow(error: BaseException, provider: str | None, model: str | None) -> Overflow | None:
    from .errors import detect

    return detect(error, _served(provider).name, model)


@hookimpl
def classify_error(error: BaseException, provider: str | None) -> ErrorInfo | None:
    from .errors import classify

    return classify(error, _served(provider).name)


def _use_responses(request: CompletionRequest) -> bool:
    from .responses import has_compaction

    return request.options.get("api") == "responses" or has_compaction(request.messages)


@hookimpl
async def complete(request: CompletionRequest, settings: ProviderSettings) -> CompletionResponse:
    """Chat Completions, or ``/responses`` for conversations holding a compaction item (or
    ``options={"api": "responses"}``); a configured endpoint gets Chat Completions."""
    served = _served(request.provider)
    if served is not OPENAI:
        from . import chat

        return await chat.complete(served, request, settings)
    if _use_responses(request):
        from . import responses

        return await responses.complete(OPENAI, request, settings)
    from . import chat

    return await chat.complete(OPENAI, request, settings)


@hookimpl
def stream(request: CompletionRequest, settings: ProviderSettings) -> AsyncIterator[StreamEvent]:
    served = _served(request.provider)
    if served is not OPENAI:
        from . import chat

        return chat.stream(served, request, settings)
    if _use_responses(request):
        from . import responses

        return responses.stream(OPENAI, request, settings)
    from . import chat

    return chat.stream(OPENAI, request, settings)


@hookimpl
@compression_stage("native")
def compress(request: CompressionRequest) -> Awaitable[CompressionResult | None] | None:
    """Native compaction with ``/responses/compact`` for Responses-capable OpenAI models (the
    host routes only OpenAI conversations -- and those of configured endpoints -- here)."""
    if _served(request.model.split("/", 1)[0]) is not OPENAI:
        return None  # a configured endpoint has no /responses/compact
    from .compaction import compact

    return compact(request)
