"""massgen-plugins provider plugin for Google Gemini (Developer API), on the official ``google-genai`` SDK.

Entry point ``gemini`` in the ``massgen_plugins`` group. Importing this module is cheap: the
SDK (and the modules that use it) are imported only when a hook actually runs, so
``massgen-plugins list`` stays fast.

Environment: ``GEMINI_API_KEY`` or ``GOOGLE_API_KEY`` (the key), ``GEMINI_BASE_URL`` (endpoint
override).
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
        TokenCount,
        TokenCountRequest,
    )

PROVIDER = "gemini"

__all__ = ["__version__", "PROVIDER"]


@hookimpl
def register_providers() -> ProviderInfo:
    from massgen_plugins.types import ProviderInfo

    return ProviderInfo(
        name=PROVIDER,
        display_name="Google Gemini",
        api_key_env=["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        base_url_env="GEMINI_BASE_URL",
        default_base_url="https://generativelanguage.googleapis.com",
        sdk="google.genai",
        tokenizer="api",
        # A local count only estimates Gemini's tokenizer: MassGen measured ~7.5% variance and
        # kept a 10% buffer (MassGen's compression design note).
        token_margin=0.10,
        capabilities=["stream", "tools", "count_tokens", "list_models"],
    )


@hookimpl
def list_models(provider: str, settings: ProviderSettings) -> list[ModelInfo]:
    from .calls import list_models as _list

    return _list(settings)


@hookimpl
def count_tokens(request: TokenCountRequest, settings: ProviderSettings) -> TokenCount | None:
    if not request.allow_network or settings.api_key is None:
        return None  # offline, or no key: the built-in estimator answers with this provider's margin
    from .calls import count_tokens as _count

    return _count(request, settings)


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
