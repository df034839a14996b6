"""Built-in third-party model metadata: OpenRouter's public model list.

Answers ``model_metadata`` for OpenAI, Anthropic, Gemini, xAI, Groq and Nebius models with the
windows, output caps and prices OpenRouter publishes (``provenance='third-party'``). Uses the
network only when ``offline`` is false, at most once per cache TTL; offline it reads the cached
copy. See :mod:`massgen_plugins.registry.openrouter_source`.
"""

from __future__ import annotations

from typing import Any

from massgen_plugins.hookspecs import hookimpl


@hookimpl(trylast=True)
def model_metadata(provider: str, offline: bool) -> Any:
    from massgen_plugins.registry.openrouter_source import metadata_for

    return metadata_for(provider, offline)
