"""massgen-plugins provider plugin for Groq, on the official ``groq`` SDK.

Entry point ``groq`` in the ``massgen_plugins`` group. Importing this module is cheap: the
SDK (and the modules that use it) are imported only when a hook actually runs, so
``massgen-plugins list`` stays fast.

Environment: ``GROQ_API_KEY`` (the key), ``GROQ_BASE_URL`` (endpoint override).

Groq has no token-count endpoint, so this plugin does not implement ``count_tokens``: the
built-in estimator answers with the margin declared here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from massgen_plugins import hookimpl

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

PROVIDER = "groq"

__all__ = ["__version__", "PROVIDER"]


@hookimpl
def register_providers() -> ProviderInfo:
    from massgen_plugins.types import ProviderInfo

    return ProviderInfo(
        name=PROVIDER,
        display_name="Groq",
        api_key_env=["GROQ_API_KEY"],
        base_url_env="GROQ_BASE_URL",
        default_base_url="https://api.groq.com",
        sdk="groq",
        tokenizer="estimate",
        # Groq serves open models (Llama, Qwen, gpt-oss, ...) whose tokenizers differ from
        # tiktoken's encodings; there is no count endpoint, so local counts are estimates.
        token_margin=0.10,
        capabilities=["stream", "tools", "list_models"],
    )


@hookimpl
def list_models(provider: str, settings: ProviderSettings) -> list[ModelInfo]:
    from .calls import list_models as _list

    return _list(settings)


@hookimpl
def detect_overflow(error: BaseException, provider: str | None, model: str | None) -> Overflow | None:
    from .errors import detect

    return detect(error, provider, model)


@hookimpl
def classify_error(error: BaseException, provider: str | None) -> ErrorInfo | None:
    from .errors import classify

    return classify(error, provider)


@hookimpl
async def complete(request: CompletionRequest, settings: ProviderSettings) -> CompletionResponse:
    from .calls import complete as _complete

    return await _complete(request, settings)


@hookimpl
def stream(request: CompletionRequest, settings: ProviderSettings) -> AsyncIterator[StreamEvent]:
    from .calls import stream as _stream

    return _stream(request, settings)
