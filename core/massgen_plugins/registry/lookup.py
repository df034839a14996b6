"""``get_model_info("provider/model")``: one model's window, output cap, tokenizer and pricing.

The catalogue of the model's provider is loaded once per process (and reloaded after
:data:`MEMO_SECONDS` or on ``refresh=True``), so the guard can call this before every request.
Ids are matched exactly, then case/punctuation-insensitively, then alias ↔ dated release
(``claude-sonnet-4-5`` ↔ ``claude-sonnet-4-5-20250929``), then against models that only the
metadata sources describe (bundled snapshot, third-party catalogues). An unknown model raises
:class:`~massgen_plugins.errors.UnknownModelError` listing close matches.
"""

from __future__ import annotations

import difflib
import threading
import time
from typing import TYPE_CHECKING

from .merge import base_id, enrich, normalize_id

if TYPE_CHECKING:
    from ..types import ModelInfo
    from .catalog import Catalog

MEMO_SECONDS = 300.0
_memo: dict[tuple[str, str, bool], tuple[float, Catalog]] = {}
_memo_lock = threading.Lock()


def clear_memo() -> None:
    """Forget the per-process catalogues (after changing ``MASSGEN_PLUGINS_HOME``, in tests)."""
    with _memo_lock:
        _memo.clear()


def forget(provider: str) -> None:
    """Forget ``provider``'s per-process catalogue (its list was just refreshed)."""
    with _memo_lock:
        for key in [k for k in _memo if k[1] == provider]:
            del _memo[key]


def _catalog(provider: str, *, offline: bool, refresh: bool) -> Catalog:
    import logging

    from ..paths import cache_dir
    from .catalog import load_catalog

    key = (str(cache_dir()), provider, offline)
    with _memo_lock:
        hit = _memo.get(key)
    if hit is not None and not refresh and time.monotonic() - hit[0] < MEMO_SECONDS:
        return hit[1]
    catalog = load_catalog([provider], refresh=refresh, offline=offline, include_all=True)
    log = logging.getLogger("massgen_plugins.registry")
    for line in catalog.warnings:
        log.warning(line)
    with _memo_lock:
        _memo[key] = (time.monotonic(), catalog)
    return catalog


def _pick(models: list[ModelInfo], model_id: str) -> ModelInfo | None:
    for key in (lambda m: m.id == model_id,
                lambda m: normalize_id(m.id) == normalize_id(model_id),
                lambda m: base_id(m.id) == base_id(model_id)):
        hits = [m for m in models if key(m)]
        if hits:
            return max(hits, key=lambda m: (m.context_window is not None, m.created or 0, m.id))
    return None


def get_model_info(model: str, *, offline: bool = False, refresh: bool = False) -> ModelInfo:
    """Everything the registry knows about ``model`` (``provider/model``).

    :param offline: use only the cache, the bundled snapshot and cached third-party data.
    :param refresh: refetch the provider's list now (bounded by the per-provider timeout).
    :returns: a :class:`~massgen_plugins.types.ModelInfo` with ``context_window``,
        ``max_output_tokens``, ``tokenizer``, prices and ``provenance`` per field;
        ``unknown_window`` is true when no source knows the window.
    :raises ModelStringError: ``model`` is not ``provider/model``.
    :raises UnknownProviderError: no installed plugin (nor the bundled data) knows the provider.
    :raises UnknownModelError: the provider has no such model; the message suggests close matches.
    """
    from ..errors import UnknownModelError
    from ..modelref import parse_model
    from ..providers import installed_providers
    from .snapshot import bundled_providers

    ref = parse_model(model, installed=sorted(set(installed_providers()) | set(bundled_providers())))
    catalog = _catalog(ref.provider, offline=offline, refresh=refresh)
    found = _pick(catalog.models, ref.model)
    if found is not None:
        return found.model_copy(deep=True)
    index = catalog.metadata.get(ref.provider)
    if index is not None:
        # only the curated snapshot may vouch for a model the provider's own list lacks (an
        # alias); a third-party catalogue lists models of many hosts, not this provider's
        if any(index.origin(i, "context_window") == "bundled" for i in index.find(ref.model)):
            from ..types import ModelInfo

            info = installed_providers().get(ref.provider)
            result = enrich(ModelInfo(provider=ref.provider, id=ref.model), index,
                            provider_tokenizer=info.tokenizer if info else None)
            result.source = "metadata"
            return result
    candidates = {m.id for m in catalog.models}
    if index is not None:
        candidates |= {m.id for m, _ in index.entries}
    close = difflib.get_close_matches(ref.model, sorted(candidates), n=3, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in candidates}
        close = [lowered[c] for c in difflib.get_close_matches(ref.model.lower(), sorted(lowered), n=3, cutoff=0.5)]
    hint = f"; did you mean {', '.join(f'{ref.provider}/{c}' for c in close)}?" if close else ""
    raise UnknownModelError(
        f"unknown model {model!r}: provider {ref.provider!r} lists no such model{hint} "
        f"(see: massgen-plugins models --provider {ref.provider}{' --all' if close else ''})"
    )
