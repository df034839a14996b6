"""What differs between OpenAI-compatible providers, and the client built from it.

Every provider served through the official ``openai`` SDK (OpenAI itself, xAI, Nebius,
OpenRouter) is described by one :class:`CompatProvider`. The shared modules of this package
(:mod:`.chat`, :mod:`.errors`, :mod:`.listing`) take it as a parameter instead of hard-coding
OpenAI, so the other plugins reuse the code rather than copying it.

Nothing here imports the ``openai`` SDK at module level: plugin modules must stay cheap to
import (``massgen-plugins list``), so the SDK is imported inside :func:`async_client` and
:func:`sync_client`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from massgen_plugins.types import ProviderInfo, ProviderSettings


@dataclass(frozen=True)
class CompatProvider:
    """One OpenAI-compatible provider: names, environment variables and wire quirks."""

    name: str
    display_name: str
    api_key_env: tuple[str, ...]
    base_url_env: str
    default_base_url: str
    tokenizer: str = "estimate"
    token_margin: float = 0.10
    capabilities: tuple[str, ...] = ("stream", "tools")
    #: request field for the output budget on chat completions
    max_tokens_field: str = "max_tokens"
    #: extra HTTP headers sent on every request (OpenRouter attribution headers, ...)
    default_headers: dict[str, str] = field(default_factory=dict)
    #: False for endpoints that take no key (a local vLLM, Ollama, llama.cpp or LM Studio server):
    #: the client then sends a placeholder, as the openai SDK insists on one
    requires_key: bool = True

    def info(self) -> ProviderInfo:
        """The :class:`ProviderInfo` this provider is registered with."""
        from massgen_plugins.types import ProviderInfo

        return ProviderInfo(
            name=self.name,
            display_name=self.display_name,
            api_key_env=list(self.api_key_env),
            base_url_env=self.base_url_env,
            default_base_url=self.default_base_url,
            sdk="openai",
            tokenizer=self.tokenizer,
            token_margin=self.token_margin,
            capabilities=list(self.capabilities),
        )


def require_key(provider: CompatProvider, settings: ProviderSettings) -> str:
    """The API key in ``settings``, or the same :class:`MissingCredentialsError` that
    :func:`massgen_plugins.providers.resolve_settings` raises, naming the variable to set."""
    key = settings.key()
    if key:
        return key
    from massgen_plugins.errors import MissingCredentialsError

    variables = " or ".join(provider.api_key_env)
    raise MissingCredentialsError(
        f"no API key for provider {provider.name!r}: set {variables} "
        f"(for example: export {provider.api_key_env[0]}=...)"
    )


def _client_kwargs(provider: CompatProvider, settings: ProviderSettings, timeout: float | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "api_key": require_key(provider, settings) if provider.requires_key else (settings.key() or "no-key"),
        "base_url": settings.base_url or provider.default_base_url,
        "timeout": timeout if timeout is not None else settings.timeout,
        "max_retries": 0,  # the host owns the one retry loop
    }
    headers = dict(provider.default_headers)
    headers.update(settings.extra.get("headers") or {})
    if headers:
        kwargs["default_headers"] = headers
    return kwargs


def async_client(provider: CompatProvider, settings: ProviderSettings, timeout: float | None = None) -> Any:
    """An ``openai.AsyncOpenAI`` for ``provider`` with SDK retries off, reused across calls on
    this event loop (see :mod:`massgen_plugins.clients`).

    :raises MissingCredentialsError: when ``settings`` carries no key.
    """
    import openai
    from massgen_plugins import clients

    kwargs = _client_kwargs(provider, settings, timeout)
    key = clients.config_key("openai-sdk", provider.name, kwargs["base_url"], kwargs["api_key"], kwargs["timeout"],
                             tuple(sorted((kwargs.get("default_headers") or {}).items())))
    return clients.async_client(key, lambda: openai.AsyncOpenAI(**kwargs))


def sync_client(provider: CompatProvider, settings: ProviderSettings, timeout: float | None = None) -> Any:
    """An ``openai.OpenAI`` for the synchronous hooks (``list_models``, ``count_tokens``)."""
    import openai

    return openai.OpenAI(**_client_kwargs(provider, settings, timeout))


def model_id(model: str) -> str:
    """The provider's model id from ``provider/model`` (``openrouter/openai/gpt-4o`` → ``openai/gpt-4o``)."""
    return model.partition("/")[2]
