"""What differs between the SQL databases a relational memory store runs on.

Everything else -- turn numbering, idempotent replay, conflict detection, session reassembly,
archive hits, limits, gc, checksums -- is written once in
:class:`~massgen_plugins.memory.relational.RelationalMemoryStore`, in SQL both databases accept,
with ``?`` placeholders. A dialect says how to run that SQL on its driver (:meth:`SqlDialect.q`
translates the placeholder), the few phrases that differ (``TRUE``, an unbounded ``OFFSET``),
the backend's own columns, and how to query its full-text index -- the part that really is
different (SQLite FTS5 with BM25, PostgreSQL ``tsvector`` with ``ts_rank``).

A new backend subclasses :class:`SqlDialect` and implements the full-text methods.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

#: the columns of a memory row, in the order :meth:`RelationalMemoryStore._record` reads them
MEMORY_COLUMNS = ("rowid", "id", "kind", "text", "user_id", "agent_id", "session_id", "team_id", "metadata",
                  "created_at", "updated_at", "expires_at", "version", "checksum")
#: the columns of an archive row, in the order :meth:`RelationalMemoryStore._archive_hit` reads them
ARCHIVE_COLUMNS = ("session_id", "turn", "entry_id", "message", "replaced_by", "stage", "created_at", "checksum",
                   "extra")


def columns(names: Sequence[str], alias: str = "") -> str:
    """``"a.x, a.y"`` for ``names`` with table alias ``a``."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + name for name in names)


class SqlDialect(abc.ABC):
    """How one database spells what the relational core needs."""

    #: the driver's positional placeholder (the core writes ``?``)
    param: str = "?"
    #: a boolean literal that is true
    true: str = "1"
    #: an OFFSET with no LIMIT
    offset_all: str = "LIMIT -1 OFFSET ?"
    #: appended to a SELECT that reads a row it will update in the same transaction
    lock_row: str = ""
    #: backend-only columns of ``memories`` filled from the prepared row (e.g. full-text scope tokens)
    memory_extra: tuple[str, ...] = ()
    #: backend-only columns of ``archive``, filled by :meth:`archive_extra_values`
    archive_extra: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._translated: dict[str, str] = {}

    def q(self, sql: str) -> str:
        """``sql`` written with ``?`` placeholders, for this driver."""
        if self.param == "?":
            return sql
        found = self._translated.get(sql)
        if found is None:
            found = self._translated[sql] = sql.replace("%", "%%").replace("?", self.param)
        return found

    def insert_many(self, conn: Any, sql: str, rows: list[tuple[Any, ...]]) -> int:
        """Run the translated INSERT ``sql`` once per row in one go; how many rows it inserted."""
        return int(conn.executemany(sql, rows).rowcount)

    def archive_extra_values(self, session_id: str) -> tuple[Any, ...]:
        """Values of :attr:`archive_extra` for an archive row of ``session_id``."""
        return ()

    # ----------------------------------------------------------------- full text: long-term
    @abc.abstractmethod
    def search_terms(self, conn: Any, query: str) -> list[str]:
        """The distinct terms of ``query`` as the full-text index sees them (at most 16)."""

    @abc.abstractmethod
    def probe(self, conn: Any, term: str, budget: int) -> int:
        """How many memories hold ``term``, counted at most up to ``budget + 1`` (cheaply)."""

    @abc.abstractmethod
    def ranked(self, conn: Any, terms: list[str], where: str, args: list[Any], *, pool: int, limit: int,
               unfiltered: bool, candidates: int) -> list[tuple[Any, ...]]:
        """The ``pool`` most relevant live memories matching any of ``terms`` and ``where``
        (a filter on alias ``m``): rows of :data:`MEMORY_COLUMNS` plus the relevance (higher is
        better). ``unfiltered`` says ``where`` filters on nothing but expiry."""

    @abc.abstractmethod
    def newest(self, conn: Any, terms: list[str], every: bool, where: str, args: list[Any], *, limit: int,
               scope_tokens: list[str]) -> list[tuple[Any, ...]]:
        """The newest memories holding every (``every``) or any of ``terms``, unranked: rows of
        :data:`MEMORY_COLUMNS`. ``scope_tokens`` are the scope's full-text tokens, for a backend
        that indexes them."""

    # ----------------------------------------------------------------- full text: the archive
    @abc.abstractmethod
    def archive_candidates(self, conn: Any, session_id: str, query: str, limit: int,
                           *, every: bool = False) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The query's terms, and the newest ``limit`` archived messages of the session holding
        any of them (``every``: all of them): rows of :data:`ARCHIVE_COLUMNS` plus their
        searchable text."""
