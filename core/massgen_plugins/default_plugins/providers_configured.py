"""Built-in provider declarations for OpenAI-compatible endpoints listed in the config file.

Each ``[providers.NAME]`` table of ``<MASSGEN_PLUGINS_HOME>/config.toml`` (see
:mod:`massgen_plugins.configured`) is declared here as a provider; the ``massgen-plugins-openai``
plugin serves its calls, model listing and error classification. A broken config file declares
nothing here: the error is raised, naming the file and field, when a provider is looked up.
"""

from __future__ import annotations

from typing import Any

from massgen_plugins.hookspecs import hookimpl


@hookimpl(trylast=True)
def register_providers() -> Any:
    from massgen_plugins import configured
    from massgen_plugins.errors import InputError
    from massgen_plugins.types import ProviderInfo

    try:
        providers = configured.load()
    except InputError:
        return None
    return [ProviderInfo(name=p.name, display_name=p.display_name or p.name,
                         api_key_env=[p.api_key_env] if p.api_key_env else [], base_url_env=p.base_url_env,
                         default_base_url=p.base_url, sdk="openai", tokenizer="estimate", token_margin=0.10,
                         capabilities=["stream", "tools", "configured"])
            for p in providers.values()] or None
