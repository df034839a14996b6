"""massgen-plugins provider plugin for Anthropic (Claude), on the official ``anthropic`` SDK.

Entry point ``anthropic`` in the ``massgen_plugins`` group. Importing this module is cheap: the
SDK (and the modules that use it) are imported only when a hook actually runs, so
``massgen-plugins list`` stays fast.

Environment: ``ANTHROPIC_API_KEY`` (the key), ``ANTHROPIC_BASE_URL`` (endpoint override).
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

PROVIDER = "anthropic"

__all__ = ["__version__", "PROVIDER"]


@hookimpl
def register_providers() -> ProviderInfo:
    from massgen_plugins.types import ProviderInfo

    return ProviderInfo(
        name=PROVIDER,
        display_name="Anthropic",
        api_key_env=["ANTHROPIC_API_KEY"],
        base_url_env="ANTHROPIC_BASE_URL",
        default_base_url="https://api.anthropic.com",
        sdk="anthropic",
        tokenizer="api",
        # Claude's tokenizer is not public; a local (tiktoken) count is only an estimate of it.
        token_margin=0.15,
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
