"""Record listing shared by the relational backends (SQLite here, PostgreSQL in its plugin).

The two drivers differ only in their parameter placeholder (``?`` / ``%s``); a backend mixes
:class:`RecordQueriesMixin` in, sets :attr:`~RecordQueriesMixin.PARAM` and
:attr:`~RecordQueriesMixin.MEMORY_COLUMNS` (``rowid`` first), and provides ``_scope_sql``,
``_read`` and ``_record``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import InputError
from .records import Kind, MemoryRecord, Scope, now

EXPORT_PAGE = 1000


class RecordQueriesMixin:
    PARAM = "?"
    MEMORY_COLUMNS = ""

    def _live_filter(self: Any, scope: Scope | None, include_expired: bool) -> tuple[str, list[Any]]:
        where, args = self._scope_sql(scope)
        if not include_expired:
            where += f" AND (expires_at IS NULL OR expires_at > {self.PARAM})"
            args.append(now())
        return where, args

    def list(self: Any, scope: Scope | None = None, *, kind: Kind | None = None, limit: int = 50,
             offset: int = 0, include_expired: bool = False) -> list[MemoryRecord]:
        if limit < 1 or offset < 0:
            raise InputError("limit must be at least 1 and offset at least 0")
        where, args = self._live_filter(scope, include_expired)
        if kind:
            where += f" AND kind = {self.PARAM}"
            args.append(kind)
        p = self.PARAM
        with self._read("list") as conn:
            rows = conn.execute(f"SELECT {self.MEMORY_COLUMNS} FROM memories WHERE {where} "
                                f"ORDER BY updated_at DESC, rowid DESC LIMIT {p} OFFSET {p}",
                                (*args, limit, offset)).fetchall()
        return [self._record(r) for r in rows]

    def iter_records(self: Any, scope: Scope | None = None, *,
                     include_expired: bool = False) -> Iterator[MemoryRecord]:
        where, args = self._live_filter(scope, include_expired)
        last = 0
        while True:
            with self._read("export") as conn:
                rows = conn.execute(f"SELECT {self.MEMORY_COLUMNS} FROM memories WHERE rowid > {self.PARAM} "
                                    f"AND {where} ORDER BY rowid LIMIT {EXPORT_PAGE}", (last, *args)).fetchall()
            if not rows:
                return
            yield from (self._record(row) for row in rows)
            last = rows[-1][0]
