"""Hook bodies for an OpenAI-compatible provider plugin.

A plugin for another OpenAI-compatible provider (xAI, Nebius, OpenRouter, or a third party's)
declares a :class:`~massgen_plugins_openai.compat.CompatProvider` and writes one-line
``@hookimpl`` functions that call these. The host routes every provider hook to the plugin that
declared the provider, so none of these checks whose request or error it is.

.. code-block:: python

    from massgen_plugins import hookimpl
    from massgen_plugins_openai import kit
    from massgen_plugins_openai.compat import CompatProvider

    ACME = CompatProvider(name="acme", display_name="Acme", api_key_env=("ACME_API_KEY",),
                          base_url_env="ACME_BASE_URL", default_base_url="https://api.acme.ai/v1")

    @hookimpl
    def complete(request, settings):
        return kit.complete(ACME, request, settings)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING

from .compat import CompatProvider

if TYPE_CHECKING:
    from massgen_plugins.types import (
        CompletionRequest,
        CompletionResponse,
        ErrorInfo,
        Overflow,
        ProviderSettings,
        StreamEvent,
    )


def complete(provider: CompatProvider, request: CompletionRequest,
             settings: ProviderSettings) -> Awaitable[CompletionResponse]:
    """A Chat Completions call for ``provider`` (an awaitable)."""
    from . import chat

    return chat.complete(provider, request, settings)


def stream(provider: CompatProvider, request: CompletionRequest,
           settings: ProviderSettings) -> AsyncIterator[StreamEvent]:
    """A streaming Chat Completions call for ``provider``."""
    from . import chat

    return chat.stream(provider, request, settings)


def detect_overflow(provider: CompatProvider, error: BaseException, name: str | None,
                    model: str | None) -> Overflow | None:
    """:func:`massgen_plugins_openai.errors.detect` for an error of ``provider``'s call."""
    from .errors import detect

    return detect(error, provider.name, model)


def classify_error(provider: CompatProvider, error: BaseException, name: str | None) -> ErrorInfo | None:
    """:func:`massgen_plugins_openai.errors.classify` for an error of ``provider``'s call."""
    from .errors import classify

    return classify(error, provider.name)

