"""massgen-plugins-postgres: the ``memory_store`` hook for ``postgresql://`` URLs.

Agents on many hosts share one store; long-term search uses PostgreSQL's own full-text search
(``tsvector`` + GIN, ``ts_rank``). psycopg is imported only when a store is opened, so
``massgen-plugins list`` stays fast.

URL: ``postgresql://user:password@host:5432/dbname?schema=massgen`` plus the store options of
the SQLite backend (``guard_budget``, ``ttl_<level>``, ``max_<level>``, ``max_text_chars``,
``session_ttl``); other query parameters (``sslmode``, ...) go to libpq.
"""

from __future__ import annotations

from typing import Any

from massgen_plugins import hookimpl

from ._version import __version__

__all__ = ["__version__", "memory_store"]

SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


@hookimpl
def memory_store(url: str) -> Any:
    if not url.startswith(SCHEMES):
        return None
    from .store import PostgresMemoryStore

    return PostgresMemoryStore.from_url(url)
