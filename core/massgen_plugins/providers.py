"""Installed providers and their connection settings.

Credentials are resolved in one place: an explicit value first, then the provider's
environment variables (``OPENAI_API_KEY``, ``GEMINI_API_KEY`` or ``GOOGLE_API_KEY``, ...); the
endpoint from an explicit value, then ``<PROVIDER>_BASE_URL``. Keys travel as
:class:`~pydantic.SecretStr`, so they never show up in a repr, a log line or an error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .errors import MissingCredentialsError, UnknownProviderError
from .manager import get_host
from .modelref import ModelRef, parse_model
from .redact import remember_secret

if TYPE_CHECKING:
    from .types import ProviderInfo, ProviderSettings


def installed_providers() -> dict[str, ProviderInfo]:
    """Every provider an installed plugin declares, by name."""
    return get_host().providers()


def provider_info(name: str) -> ProviderInfo:
    """The declaration of provider ``name``.

    :raises ProviderConflictError: when two installed plugins declare it.
    :raises UnknownProviderError: when none does (the message names the installed ones).
    """
    get_host().hooks.check_provider(name)
    table = installed_providers()
    if name not in table:
        raise unknown_provider_error(name, table)
    return table[name]


def unknown_provider_error(name: str, table: Mapping[str, ProviderInfo]) -> Exception:
    """The most useful error for a provider nobody declared: a broken config file, a plugin that
    is installed but disabled or failed to load, else "unknown" with the install command."""
    from . import configured

    problem = configured.problem(name)
    if problem is not None:
        return problem
    endpoint = configured.get(name)
    if endpoint is not None:
        return UnknownProviderError(
            f"provider {name!r} is declared in {endpoint.source} as an OpenAI-compatible endpoint, but "
            "massgen-plugins-openai, which serves such endpoints, is not installed or is disabled: "
            "pip install massgen-plugins-openai")
    names = ", ".join(sorted(table)) or "none"
    for record in get_host().records:
        if record.builtin or name not in (record.name, (record.distribution or "").removeprefix("massgen-plugins-")):
            continue
        if record.status == "disabled":
            return UnknownProviderError(
                f"provider {name!r} is installed ({record.distribution or record.name}) but disabled by "
                f"MASSGEN_PLUGINS_DISABLED / MASSGEN_PLUGINS_LOAD in the environment; enable it to use it "
                f"(enabled providers: {names})")
        if record.status == "failed":
            return UnknownProviderError(
                f"provider {name!r} is installed ({record.distribution or record.name}) but its plugin failed to "
                f"load: {record.error} (enabled providers: {names})")
    return UnknownProviderError(
        f"unknown provider {name!r}; installed providers: {names}. "
        f"Install one with: pip install massgen-plugins-{name}, or declare an OpenAI-compatible endpoint "
        f"as [providers.{name}] in config.toml"
    )


def resolve_model(value: str) -> ModelRef:
    """Parse ``provider/model`` and check that the provider is installed or configured (and
    claimed by one plugin only)."""
    table = installed_providers()
    ref = parse_model(value)
    conflicts = get_host().hooks.provider_table().conflicts
    if ref.provider not in table and ref.provider not in conflicts:
        raise unknown_provider_error(ref.provider, table)
    get_host().hooks.check_provider(ref.provider)
    return ref


def resolve_settings(
    provider: str,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    timeout: float | None = None,
    require_key: bool = True,
    environ: Mapping[str, str] | None = None,
) -> ProviderSettings:
    """Connection settings for ``provider``.

    :raises MissingCredentialsError: when ``require_key`` and no key is found; the message names
        the environment variable(s) to set.
    """
    return settings_for(provider_info(provider), api_key=api_key, base_url=base_url, timeout=timeout,
                        require_key=require_key, environ=environ)


def settings_for(
    info: ProviderInfo,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    timeout: float | None = None,
    require_key: bool = True,
    environ: Mapping[str, str] | None = None,
) -> ProviderSettings:
    """:func:`resolve_settings` for a provider whose declaration is at hand."""
    from .types import ProviderSettings

    env = os.environ if environ is None else environ
    provider = info.name
    key = api_key or next((env[v] for v in info.api_key_env if env.get(v)), None)
    if key is None and require_key and info.api_key_env:
        variables = " or ".join(info.api_key_env)
        raise MissingCredentialsError(
            f"no API key for provider {provider!r}: set {variables} "
            f"(for example: export {info.api_key_env[0]}=...)"
        )
    url = base_url or (env.get(info.base_url_env) if info.base_url_env else None) or info.default_base_url
    remember_secret(key)  # a key given in code, or from any variable, is redacted like the standard ones
    settings = ProviderSettings(provider=provider, api_key=key, base_url=url or None)
    if timeout is not None:
        settings.timeout = timeout
    return settings
