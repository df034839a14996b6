"""Model facts for log analysis (window, prices) from the model registry, looked up lazily.

The registry (:mod:`massgen_plugins.registry`) is optional here: analysis must work on a
machine where it is broken or has never fetched a list. Lookups are offline (cache + bundled
snapshot); any failure means "unknown" and the analyzer says so instead of inventing a price.
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["ModelFacts", "cost_usd", "model_facts"]


class ModelFacts(dict[str, Any]):
    """``{"context_window", "max_output_tokens", "input_price_per_mtok", "output_price_per_mtok",
    "source"}`` (any may be ``None``)."""


_FIELDS = ("context_window", "max_output_tokens", "input_price_per_mtok", "output_price_per_mtok")


def _as_facts(found: Any, source: str) -> ModelFacts | None:
    if found is None:
        return None
    get = found.get if isinstance(found, dict) else lambda k, d=None: getattr(found, k, d)
    facts = ModelFacts({f: get(f, None) for f in _FIELDS})
    facts["source"] = source
    return facts if any(facts[f] is not None for f in _FIELDS) else None


def _from_registry_api(model: str) -> ModelFacts | None:
    try:
        import massgen_plugins.registry as registry
    except Exception:
        return None
    for name in ("get_model_info", "lookup_model", "get_model"):
        function = getattr(registry, name, None)
        if not callable(function):
            continue
        for kwargs in ({"offline": True}, {}):
            try:
                found = function(model, **kwargs)
            except TypeError:
                continue
            except Exception:
                found = None
            facts = _as_facts(found, f"registry.{name}")
            if facts is not None:
                return facts
            break
    return None


def _from_snapshot(provider: str, model_id: str) -> ModelFacts | None:
    try:
        from massgen_plugins.registry.snapshot import bundled_entries
    except Exception:
        return None
    try:
        entries = bundled_entries(provider)
    except Exception:
        return None
    wanted = model_id.lower()
    by_id = {str(e.get("id", "")).lower(): e for e in entries}
    if wanted in by_id:
        return _as_facts(by_id[wanted], "snapshot")
    try:
        from massgen_plugins.registry.merge import base_id

        base = base_id(model_id).lower()
        for key, entry in by_id.items():
            if key == base or base_id(key).lower() == base:
                return _as_facts(entry, "snapshot")
    except Exception:
        pass
    return None


def model_facts(model: str) -> ModelFacts | None:
    """Window and prices for ``provider/model`` from the registry (offline: cache and bundled
    snapshot), else ``None``. Memoized per data directory."""
    import os

    return _model_facts(model, os.environ.get("MASSGEN_PLUGINS_HOME", ""))


@functools.lru_cache(maxsize=512)
def _model_facts(model: str, _home: str) -> ModelFacts | None:
    provider, sep, model_id = model.partition("/")
    if not sep:
        return None
    return _from_registry_api(model) or _from_snapshot(provider, model_id)


def clear_cache() -> None:
    """Forget memoized lookups (tests that change the registry's data)."""
    _model_facts.cache_clear()


def cost_usd(model: str, input_tokens: int, output_tokens: int) -> float | None:
    """USD cost of the tokens at the registry's prices; ``None`` when a price is unknown."""
    facts = model_facts(model)
    if not facts:
        return None
    inp, out = facts.get("input_price_per_mtok"), facts.get("output_price_per_mtok")
    if inp is None or out is None:
        return None
    return (input_tokens * float(inp) + output_tokens * float(out)) / 1_000_000


def larger_window_model(model: str, window: int | None) -> tuple[str, int] | None:
    """A chat model of the same provider with a larger window than ``window`` (the smallest such
    window, cheapest first), from the bundled snapshot; ``None`` when there is none or unknown."""
    provider, sep, _ = model.partition("/")
    if not sep or not window:
        return None
    try:
        from massgen_plugins.registry.snapshot import bundled_entries

        entries = bundled_entries(provider)
    except Exception:
        return None
    candidates = [
        e for e in entries
        if isinstance(e.get("context_window"), int) and e["context_window"] > window
        and (e.get("kind") in (None, "chat"))
    ]
    if not candidates:
        return None
    best = min(candidates, key=lambda e: (e["context_window"], e.get("input_price_per_mtok") or 1e9))
    return f"{provider}/{best['id']}", int(best["context_window"])
