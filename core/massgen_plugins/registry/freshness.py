"""Stale-while-revalidate model lookups for the guard.

The guard looks a model up before every call, offline (cache, bundled snapshot): a call never
waits on a model-list fetch it does not need. :func:`lookup` adds freshness on top:

* a model the registry does not know (or knows without a window) -- a model released after the
  cache was written, a configured endpoint never listed -- starts a refresh of its provider's list
  and waits for it, at most ``MASSGEN_PLUGINS_MODELS_WAIT`` (default 5 s): a new model learns its
  window before its first call, not from an overflow;
* a provider whose cached list is older than its TTL (``MASSGEN_PLUGINS_MODELS_TTL``) is refreshed
  in the background while the cached answer is used.

One refresh per provider runs at a time (single flight); failures are logged by the registry
and the cached or bundled data keep answering.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING

from . import cache, config

if TYPE_CHECKING:
    from ..types import ModelInfo

DEFAULT_WAIT = 5.0
#: an unknown model waits for a refresh at most once per this many seconds
RETRY_UNKNOWN = 300.0

_lock = threading.Lock()
_inflight: dict[str, threading.Thread] = {}
_waited: dict[tuple[str, str], float] = {}  # (cache directory, model) -> when a lookup last waited
log = logging.getLogger("massgen_plugins.registry")


def wait_seconds() -> float:
    """How long a lookup of an unknown model waits for its provider's refresh."""
    raw = os.environ.get("MASSGEN_PLUGINS_MODELS_WAIT", "").strip()
    return config.parse_duration(raw, what="MASSGEN_PLUGINS_MODELS_WAIT") if raw else DEFAULT_WAIT


def _offline(model: str) -> ModelInfo | None:
    from ..errors import MassgenError
    from .lookup import get_model_info

    try:
        return get_model_info(model, offline=True)
    except MassgenError:
        return None


def _refresh(provider: str) -> None:
    from .catalog import load_catalog
    from .lookup import forget

    try:
        catalog = load_catalog([provider], refresh=True, include_all=True)
        for line in catalog.warnings:
            log.warning(line)
    except Exception as exc:  # a failed refresh must never break the session that triggered it
        log.warning("background refresh of %s's model list failed: %s", provider, exc)
    finally:
        forget(provider)
        with _lock:
            _inflight.pop(provider, None)


def refresh_in_background(provider: str) -> threading.Thread:
    """Start refreshing ``provider``'s list unless a refresh is already running; return its thread."""
    with _lock:
        running = _inflight.get(provider)
        if running is not None:
            return running
        thread = threading.Thread(target=_refresh, args=(provider,), name=f"massgen-models-{provider}", daemon=True)
        _inflight[provider] = thread
    thread.start()
    return thread


def stale(provider: str) -> bool:
    """True when ``provider`` has a cached list older than the TTL."""
    entry = cache.read(provider)
    return entry is not None and not entry.fresh(config.ttl())


def lookup(model: str, *, wait: float | None = None) -> ModelInfo | None:
    """``model``'s registry entry, refreshed as described in the module docstring; ``None``
    when the registry still does not know it."""
    provider = model.split("/", 1)[0]
    info = _offline(model)
    if info is None or info.context_window is None:
        from ..paths import cache_dir

        now, key = time.monotonic(), (str(cache_dir()), model)
        if now - _waited.get(key, -RETRY_UNKNOWN) < RETRY_UNKNOWN:
            return info  # refreshed for it a moment ago: the provider does not list it
        _waited[key] = now
        refresh_in_background(provider).join(wait_seconds() if wait is None else wait)
        return _offline(model) or info
    if stale(provider):
        refresh_in_background(provider)
    return info
