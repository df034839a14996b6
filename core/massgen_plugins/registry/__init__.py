"""The model registry: every installed provider's models, windows, output caps and prices.

Two calls cover most uses::

    from massgen_plugins.registry import list_models, get_model_info

    info = get_model_info("anthropic/claude-haiku-4-5")    # also massgen_plugins.get_model_info
    info.context_window, info.max_output_tokens, info.tokenizer, info.provenance

    models = list_models(providers=["openai", "groq"])     # chat models, cache-first

:func:`list_models` ``(providers=None, refresh=False, offline=False, include_all=False)``
    Returns a list of :class:`~massgen_plugins.types.ModelInfo`, sorted by provider then id.

    * ``providers`` -- provider names (default: every installed provider);
    * ``refresh`` -- refetch every provider's list now instead of using a fresh cache;
    * ``offline`` -- make no network request at all (cache, bundled snapshot, cached
      third-party data);
    * ``include_all`` -- also embeddings, TTS, transcription, moderation and image models;
    * keyword-only ``ttl`` / ``timeout`` override ``MASSGEN_PLUGINS_MODELS_TTL`` (24 h) and
      ``MASSGEN_PLUGINS_MODELS_TIMEOUT`` (15 s per provider).

    Each model carries ``provenance`` per field (``api``/``bundled``/``third-party``/...),
    ``source`` (``api``, ``cache`` or ``bundled``), ``stale``, ``fetched_at`` and
    ``unknown_window``. Warnings (a failed refresh served from cache, ...) are logged on the
    ``massgen_plugins.registry`` logger; use :func:`load_catalog` to get them as data together
    with a per-provider report.

:func:`get_model_info` ``(model, *, offline=False, refresh=False)``
    One model by ``provider/model``; raises ``UnknownModelError`` with close matches.

Modules: :mod:`.config` (TTL/timeout), :mod:`.cache` (atomic per-provider files),
:mod:`.fetch` (concurrent, deadline-bounded, 429-aware), :mod:`.merge` (provenance),
:mod:`.filter` (chat-capable), :mod:`.snapshot` (bundled data), :mod:`.catalog`,
:mod:`.lookup`.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..types import ModelInfo
    from .catalog import Catalog, ProviderReport, load_catalog
    from .lookup import clear_memo, get_model_info

__all__ = ["Catalog", "ProviderReport", "clear_memo", "get_model_info", "list_models", "load_catalog"]

# imported on first use, so the warm CLI path (registry.view) pays for none of it
_LAZY = {"Catalog": ".catalog", "ProviderReport": ".catalog", "load_catalog": ".catalog",
         "clear_memo": ".lookup", "get_model_info": ".lookup"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def list_models(providers: Iterable[str] | None = None, refresh: bool = False, offline: bool = False,
                include_all: bool = False, *, ttl: float | None = None,
                timeout: float | None = None) -> list[ModelInfo]:
    """Models of ``providers`` (default: all installed), cache-first; see the module docstring."""
    import logging

    from .catalog import load_catalog

    catalog = load_catalog(providers, refresh=refresh, offline=offline, include_all=include_all,
                           ttl=ttl, timeout=timeout)
    log = logging.getLogger("massgen_plugins.registry")
    for line in catalog.warnings:
        log.warning(line)
    return catalog.models
