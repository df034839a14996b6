"""Context windows and output caps for compression decisions, from the model registry.

The registry (:mod:`massgen_plugins.registry`) is imported lazily and asked offline (cache and
bundled data only: compression never waits on a catalogue refresh). When it does not know the
model, callers fall back to an explicit value (``--window``, ``summarizer_window``) and say so.
"""

from __future__ import annotations

from typing import NamedTuple


class WindowInfo(NamedTuple):
    context_window: int | None
    max_output_tokens: int | None
    source: str  # "registry (bundled)", "registry (api)", "unknown: <why>"


def model_window(model: str, *, offline: bool = True) -> WindowInfo:
    """What the registry knows about ``model``'s window; never raises."""
    try:
        from ..registry import get_model_info
    except Exception as exc:  # registry not installed or broken: fall back
        return WindowInfo(None, None, f"unknown: model registry unavailable ({type(exc).__name__})")
    try:
        info = get_model_info(model, offline=offline)
    except Exception as exc:  # unknown model or provider, ...
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return WindowInfo(None, None, f"unknown: {text}")
    if not info.context_window:
        return WindowInfo(None, info.max_output_tokens, "unknown: the registry lists the model without a window")
    origin = (info.provenance or {}).get("context_window") or info.source or "registry"
    return WindowInfo(int(info.context_window), info.max_output_tokens, f"registry ({origin})")
