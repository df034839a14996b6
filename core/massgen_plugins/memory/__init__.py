"""Memory that survives restarts: short-term sessions and long-term facts in a durable store.

>>> from massgen_plugins.memory import open_store, Scope
>>> with open_store() as store:                       # SQLite under MASSGEN_PLUGINS_HOME
...     store.add("Alice prefers metric units", scope=Scope(user="alice"))
...     store.search("units", scope=Scope(user="alice"))

Stores are opened by URL through the ``memory_store`` hook: ``sqlite:////abs/path.db`` is built
in, ``postgresql://...`` comes with ``pip install massgen-plugins-postgres``. Both backends honour
``create=false`` in the URL (open only an existing store; :func:`open_store` sets it for
``create=False``). See
:mod:`massgen_plugins.memory.store` for the interface and the short-term contract used by
``massgen_plugins.Session``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import MemoryStore

__all__ = ["DEFAULT_ENV", "default_url", "open_store", "restore_store", "Scope", "MemoryStore", "MemoryRecord",
           "CorruptionError", "ConflictError", "Limits", "ScopeLimit"]

DEFAULT_ENV = "MASSGEN_PLUGINS_MEMORY_URL"
"""Environment variable naming the store to use when no URL is given."""


def default_url() -> str:
    """``$MASSGEN_PLUGINS_MEMORY_URL``, else the SQLite file ``<home>/memory/memory.db``."""
    from ..paths import home

    configured = os.environ.get(DEFAULT_ENV, "").strip()
    if configured:
        return configured
    return "sqlite:///" + str((home() / "memory" / "memory.db").absolute())


def open_store(url: str | None = None, *, create: bool = True) -> MemoryStore:
    """Open the memory store at ``url`` (default: :func:`default_url`) through the
    ``memory_store`` hook.

    A bare file path is taken as a SQLite store. The first plugin that recognises the URL opens
    it; if it fails with a massgen error (bad URL, damaged store, schema too new) that error is
    raised as is, so the user sees what is wrong with *their* store rather than "no plugin".
    ``create=False`` opens only a store that exists (else :class:`InputError`, and nothing is
    created).
    """
    from ..errors import InputError
    from ..manager import get_hooks

    url = (url or default_url()).strip()
    if "://" not in url:
        if not url:
            raise InputError("empty memory store URL")
        from .sqlite import sqlite_url

        url = sqlite_url(url)
    if not create:
        url += ("&" if "?" in url else "?") + "create=false"
    store = get_hooks().memory_store(url)
    _wire_embeddings(store)
    return store


def restore_store(url: str | None, source: str) -> str | None:
    """Replace the store at ``url`` with the backup ``source`` (verified first); return where
    the replaced content was kept. A store too damaged to open is restored without opening it,
    when its backend can (:attr:`CorruptionError.restore`)."""
    from .records import CorruptionError

    try:
        store = open_store(url)
    except CorruptionError as exc:
        if exc.restore is None:
            raise
        return exc.restore(source)
    with store:
        return store.restore(source)


def _wire_embeddings(store: Any) -> None:
    """Give the store the ``embed`` hook as its embedder when some plugin implements it."""
    from ..manager import get_hooks

    hooks = get_hooks()
    if store.embedder is None and hooks.has_implementations("embed"):
        model = os.environ.get("MASSGEN_PLUGINS_EMBED_MODEL") or None
        store.embedder = lambda texts: hooks.embed(texts, model)


def __getattr__(name: str) -> Any:
    if name in {"Scope", "MemoryRecord", "CorruptionError", "ConflictError", "Limits", "ScopeLimit",
                "MemoryStore"}:
        from . import store

        return getattr(store, name)
    raise AttributeError(f"module 'massgen_plugins.memory' has no attribute {name!r}")
