"""Reuse provider SDK clients across calls.

Building an SDK client builds an HTTP connection pool and an SSL context (loading the CA bundle
takes tens of milliseconds, hundreds on a busy machine), and a fresh pool pays a new TCP (and
TLS) handshake on every call. Provider plugins therefore keep one client per configuration:
async clients per running event loop (a pool belongs to the loop it was opened on, and is
dropped with it), sync clients per process.

.. code-block:: python

    from massgen_plugins import clients

    def async_client(settings):
        import anthropic
        key = clients.config_key("anthropic", settings.base_url, settings.key(), settings.timeout)
        return clients.async_client(key, lambda: anthropic.AsyncAnthropic(api_key=settings.key(), max_retries=0))

The key includes a digest of the API key, never the key itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, Any]] = weakref.WeakKeyDictionary()
_shared: dict[Hashable, Any] = {}


def config_key(*parts: Any) -> tuple[Any, ...]:
    """A hashable cache key; string parts that look secret should be passed through here as-is:
    every ``str`` part is reduced to a digest, so no key is kept in the cache's keys."""
    return tuple(hashlib.sha256(p.encode()).hexdigest()[:16] if isinstance(p, str) else p for p in parts)


def async_client(key: Hashable, factory: Callable[[], T]) -> T:
    """The client for ``key`` on the running event loop, built by ``factory`` the first time."""
    loop = asyncio.get_running_loop()
    with _lock:
        cache = _per_loop.setdefault(loop, {})
        if key not in cache:
            cache[key] = factory()
        return cache[key]  # type: ignore[no-any-return]


def sync_client(key: Hashable, factory: Callable[[], T]) -> T:
    """The process-wide synchronous client for ``key`` (sync HTTP clients are thread-safe)."""
    with _lock:
        if key not in _shared:
            _shared[key] = factory()
        return _shared[key]  # type: ignore[no-any-return]


def clear() -> None:
    """Forget every cached client (tests; after rotating keys the key digest changes anyway)."""
    with _lock:
        _per_loop.clear()
        _shared.clear()
