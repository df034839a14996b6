"""Long-term memory on a relational database: add with dedup and limits, update with history,
get, list, export paging and the relevance search around the dialect's full-text index.

Written once for every backend (see :mod:`.dialect` for what a backend supplies). Every write is
one transaction (:meth:`RecordsCore._write`); every row read is checksum-verified.
"""

from __future__ import annotations

import abc
import contextlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from ...errors import InputError
from ..codec import canonical_json, history_checksum, memory_checksum, now, storable_text, text_hash, to_datetime
from ..ranking import DEFAULT_BUDGET, blend, plan_terms, recency
from ..records import CorruptionError, Kind, Limits, MemoryRecord, MemoryVersion, Scope, SearchHit, SearchResults
from ..store import MemoryInput, MemoryStore
from .dialect import MEMORY_COLUMNS, SqlDialect, columns
from .prepare import prepare_memory

EXPORT_PAGE = 1000
_COLUMNS = columns(MEMORY_COLUMNS)
_SCOPE_COLUMNS = (("user", "user_id"), ("agent", "agent_id"), ("session", "session_id"), ("team", "team_id"))
_INSERTED = ("id", "kind", "text", "user_id", "agent_id", "session_id", "team_id", "scope_key", "text_hash",
             "metadata", "created_at", "updated_at", "expires_at", "version", "checksum")


class RecordsCore(MemoryStore):
    """The long-term half of :class:`~massgen_plugins.memory.relational.RelationalMemoryStore`.

    A backend provides :attr:`dialect`, :meth:`_read`, :meth:`_write` and :meth:`_corrupt`.
    """

    dialect: SqlDialect
    limits: Limits
    guard_budget: int = DEFAULT_BUDGET

    # ----------------------------------------------------------------- the backend's plumbing
    @abc.abstractmethod
    def _read(self, action: str = "read") -> contextlib.AbstractContextManager[Any]:
        """A read transaction (one consistent snapshot) yielding the connection."""

    @abc.abstractmethod
    def _write(self, action: str = "write") -> contextlib.AbstractContextManager[Any]:
        """One write transaction, committed when the block ends, yielding the connection."""

    @abc.abstractmethod
    def _corrupt(self, detail: str) -> CorruptionError:
        """The error for a damaged store, naming it and what to do."""

    def _q(self, conn: Any, sql: str, args: Iterable[Any] = ()) -> Any:
        """Run ``sql`` (``?`` placeholders) on ``conn``; the driver's cursor."""
        return conn.execute(self.dialect.q(sql), tuple(args))

    def _now(self) -> float:
        return now()

    # ----------------------------------------------------------------- rows <-> records
    def _record(self, row: Any) -> MemoryRecord:
        (_rowid, mid, kind, text, user, agent, session, team, metadata, created, updated, expires,
         version, stored) = row[:14]
        fields = {"id": mid, "kind": kind, "text": text, "user_id": user, "agent_id": agent,
                  "session_id": session, "team_id": team, "metadata": metadata, "created_at": created,
                  "updated_at": updated, "expires_at": expires, "version": version}
        if memory_checksum(fields) != stored:
            raise self._corrupt(f"memory {mid!r} fails its checksum")
        # verified by its checksum: no need to validate the fields again
        return MemoryRecord.model_construct(
            id=mid, kind=kind, text=text, scope=Scope.model_construct(user=user, agent=agent, session=session, team=team),
            metadata=json.loads(metadata), created_at=to_datetime(created), updated_at=to_datetime(updated),
            expires_at=to_datetime(expires), version=version, checksum=stored, history=[])

    def _scope_sql(self, scope: Scope | None, alias: str = "", levels: Iterable[tuple[str, str]] = _SCOPE_COLUMNS,
                   ) -> tuple[str, list[Any]]:
        """A WHERE clause matching every id ``scope`` sets (``TRUE`` for none), and its arguments."""
        clauses, args = [], []
        for level, column in levels if scope is not None else ():
            value = getattr(scope, level)
            if value:
                clauses.append(f"{alias}{column} = ?")
                args.append(value)
        return (" AND ".join(clauses) or self.dialect.true), args

    def _live_filter(self, scope: Scope | None, include_expired: bool) -> tuple[str, list[Any]]:
        where, args = self._scope_sql(scope)
        if not include_expired:
            where += " AND (expires_at IS NULL OR expires_at > ?)"
            args.append(now())
        return where, args

    def _memory_row(self, conn: Any, where: str, args: Iterable[Any], lock: bool = False) -> Any:
        return self._q(conn, f"SELECT {_COLUMNS} FROM memories WHERE {where}"
                       + (self.dialect.lock_row if lock else ""), args).fetchone()

    # ----------------------------------------------------------------- long-term: write
    def _insert_sql(self) -> str:
        names = (*_INSERTED, *self.dialect.memory_extra)
        return (f"INSERT INTO memories ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
                "ON CONFLICT DO NOTHING")

    def _insert_args(self, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row[name] for name in (*_INSERTED, *self.dialect.memory_extra))

    def add(self, text: str, *, scope: Scope | None = None, kind: Kind = "fact",
            metadata: dict[str, Any] | None = None, ttl: float | None = None) -> tuple[MemoryRecord, bool]:
        at = now()
        row = prepare_memory({"text": text, "scope": scope, "kind": kind, "metadata": metadata, "ttl": ttl}, at,
                             self.limits)
        with self._write("add") as conn:
            created = self._q(conn, self._insert_sql(), self._insert_args(row)).rowcount == 1
            if created:
                self._enforce_max(conn, row["_scope"])
                found = self._memory_row(conn, "id = ?", (row["id"],))
            else:
                found = self._memory_row(conn, "scope_key = ? AND text_hash = ?", (row["scope_key"], row["text_hash"]),
                                         lock=True)
                if found is None:  # an explicit id collided (only via import); report the existing one
                    found = self._memory_row(conn, "id = ?", (row["id"],))
                found = self._refresh_expiry(conn, found, row["expires_at"], at)
            return self._record(found), created

    def _refresh_expiry(self, conn: Any, found: Any, expires: float | None, at: float) -> Any:
        """Re-adding an identical fact extends its life to the new expiry (or makes it permanent)."""
        old = found[11]
        if old is None or (expires is not None and expires <= old):
            return found
        self._record(found)  # verify before rewriting the checksum
        fields = {"id": found[1], "kind": found[2], "text": found[3], "user_id": found[4], "agent_id": found[5],
                  "session_id": found[6], "team_id": found[7], "metadata": found[8], "created_at": found[9],
                  "updated_at": at, "expires_at": expires, "version": found[12]}
        self._q(conn, "UPDATE memories SET updated_at = ?, expires_at = ?, checksum = ? WHERE rowid = ?",
                (at, expires, memory_checksum(fields), found[0]))
        return self._memory_row(conn, "rowid = ?", (found[0],))

    def _enforce_max(self, conn: Any, scope: Scope) -> int:
        limit = self.limits.for_level(scope.level).max_records
        return 0 if limit is None else self._evict(conn, scope.key(), limit)

    def _evict(self, conn: Any, scope_key: str, limit: int) -> int:
        """Delete the memories of one exact scope beyond the ``limit`` most recently updated."""
        return int(self._q(conn, "DELETE FROM memories WHERE rowid IN (SELECT rowid FROM memories WHERE scope_key = ? "
                           f"ORDER BY updated_at DESC, rowid DESC {self.dialect.offset_all})",
                           (scope_key, limit)).rowcount)

    def add_many(self, items: Iterable[MemoryInput | dict[str, Any]]) -> tuple[int, int]:
        at = now()
        rows = [prepare_memory(item, at, self.limits) for item in items]
        if not rows:
            return 0, 0
        sql = self.dialect.q(self._insert_sql())
        with self._write("add_many") as conn:
            added = self.dialect.insert_many(conn, sql, [self._insert_args(row) for row in rows])
            limited = {row["scope_key"]: row["_scope"] for row in rows
                       if self.limits.for_level(row["_scope"].level).max_records is not None}
            for scope in limited.values():
                self._enforce_max(conn, scope)
        return added, len(rows) - added

    def update(self, memory_id: str, *, text: str | None = None,
               metadata: dict[str, Any] | None = None) -> MemoryRecord:
        if text is None and metadata is None:
            raise InputError("nothing to update: give text and/or metadata")
        if text is not None and (not text.strip() or len(text) > self.limits.max_text_chars):
            raise InputError(f"new text must be non-empty and at most {self.limits.max_text_chars} characters")
        try:
            meta_json = None if metadata is None else canonical_json(metadata)
        except (TypeError, ValueError) as exc:
            raise InputError(f"metadata is not JSON-serialisable: {exc}") from None
        at = now()
        with self._write("update") as conn:
            found = self._memory_row(conn, "id = ?", (memory_id,), lock=True)
            if found is None:
                raise InputError(f"no memory with id {memory_id!r}")
            old = self._record(found)
            meta_json = found[8] if meta_json is None else meta_json
            new_text = old.text if text is None else storable_text(text)
            if new_text == old.text and meta_json == found[8]:
                return old
            if self._memory_row(conn, "scope_key = (SELECT scope_key FROM memories WHERE rowid = ?) AND text_hash = ? "
                                "AND rowid <> ?", (found[0], text_hash(new_text), found[0])) is not None:
                raise InputError("an identical memory already exists in this scope; delete one of them instead")
            self._q(conn, "INSERT INTO memory_history (memory_id, version, text, metadata, updated_at, checksum) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (old.id, old.version, old.text, found[8], found[10],
                     history_checksum(old.id, old.version, old.text, found[8], found[10])))
            fields = {"id": old.id, "kind": old.kind, "text": new_text, "user_id": found[4], "agent_id": found[5],
                      "session_id": found[6], "team_id": found[7], "metadata": meta_json, "created_at": found[9],
                      "updated_at": at, "expires_at": found[11], "version": old.version + 1}
            self._q(conn, "UPDATE memories SET text = ?, text_hash = ?, metadata = ?, updated_at = ?, version = ?, "
                    "checksum = ? WHERE rowid = ?", (new_text, text_hash(new_text), meta_json, at, old.version + 1,
                                                     memory_checksum(fields), found[0]))
            return self._record(self._memory_row(conn, "rowid = ?", (found[0],)))

    def delete(self, memory_id: str) -> bool:
        with self._write("delete") as conn:
            gone = self._q(conn, "DELETE FROM memories WHERE id = ?", (memory_id,)).rowcount
            self._q(conn, "DELETE FROM memory_history WHERE memory_id = ?", (memory_id,))
        return bool(gone)

    # ----------------------------------------------------------------- long-term: read
    def get(self, memory_id: str, *, history: bool = False) -> MemoryRecord | None:
        with self._read("get") as conn:
            row = self._memory_row(conn, "id = ? AND (expires_at IS NULL OR expires_at > ?)", (memory_id, now()))
            if row is None:
                return None
            record = self._record(row)
            if history:
                record.history = self._history(conn, memory_id)
        return record

    def _history(self, conn: Any, memory_id: str) -> list[MemoryVersion]:
        out = []
        for version, text, metadata, updated, stored in self._q(
                conn, "SELECT version, text, metadata, updated_at, checksum FROM memory_history WHERE memory_id = ? "
                "ORDER BY version", (memory_id,)).fetchall():
            if history_checksum(memory_id, version, text, metadata, updated) != stored:
                raise self._corrupt(f"history version {version} of memory {memory_id!r} fails its checksum")
            out.append(MemoryVersion(version=version, text=text, metadata=json.loads(metadata),
                                     updated_at=to_datetime(updated)))
        return out

    def find_ids(self, prefix: str, *, limit: int = 10) -> list[str]:
        """Memory ids starting with ``prefix`` (for ``memory show 06619ee9``), at most ``limit``."""
        if not prefix:
            return []
        with self._read("find_ids") as conn:
            # substr, not a range or LIKE: exact under any collation and for any character
            rows = self._q(conn, "SELECT id FROM memories WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT ?",
                           (len(prefix), prefix, limit)).fetchall()
        return [r[0] for r in rows]

    def list(self, scope: Scope | None = None, *, kind: Kind | None = None, limit: int = 50,
             offset: int = 0, include_expired: bool = False) -> list[MemoryRecord]:
        if limit < 1 or offset < 0:
            raise InputError("limit must be at least 1 and offset at least 0")
        where, args = self._live_filter(scope, include_expired)
        if kind:
            where += " AND kind = ?"
            args.append(kind)
        with self._read("list") as conn:
            rows = self._q(conn, f"SELECT {_COLUMNS} FROM memories WHERE {where} "
                           "ORDER BY updated_at DESC, rowid DESC LIMIT ? OFFSET ?", (*args, limit, offset)).fetchall()
        return [self._record(r) for r in rows]

    def iter_records(self, scope: Scope | None = None, *, include_expired: bool = False) -> Iterator[MemoryRecord]:
        where, args = self._live_filter(scope, include_expired)
        last = 0
        while True:
            with self._read("export") as conn:
                rows = self._q(conn, f"SELECT {_COLUMNS} FROM memories WHERE rowid > ? AND {where} "
                               f"ORDER BY rowid LIMIT {EXPORT_PAGE}", (last, *args)).fetchall()
            if not rows:
                return
            yield from (self._record(row) for row in rows)
            last = rows[-1][0]

    # ----------------------------------------------------------------- search
    def _search(self, query: str, *, scope: Scope | None, limit: int, kind: Kind | None) -> SearchResults:
        results = SearchResults(query=query, plan="empty")
        at = now()
        fts = self.dialect
        with self._read("search") as conn:
            terms = fts.search_terms(conn, query)
            if not terms:
                return results
            plan = plan_terms(terms, lambda term: fts.probe(conn, term, self.guard_budget), self.guard_budget)
            results.plan = plan.plan  # type: ignore[assignment]
            results.common_terms = plan.common
            results.candidates = plan.candidates
            where, args = self._scope_sql(scope, "m.")
            where += " AND (m.expires_at IS NULL OR m.expires_at > ?)"
            args.append(at)
            if kind:
                where += " AND m.kind = ?"
                args.append(kind)
            hits: list[SearchHit] = []
            seen: set[str] = set()
            if plan.ranked:
                rows = fts.ranked(conn, plan.ranked, where, args, pool=max(limit * 4, 20), limit=limit,
                                  unfiltered=(scope is None or scope.is_empty()) and not kind,
                                  candidates=plan.candidates)
                best = max((r[14] for r in rows), default=0.0)
                # score from the raw columns; build (and checksum-verify) only the records returned
                scored = sorted(((blend(r[14], best, recency(at - r[10])), r) for r in rows),
                                key=lambda pair: pair[0], reverse=True)[:limit]
                for score, row in scored:
                    hits.append(SearchHit.model_construct(record=self._record(row), score=score, relevance=row[14],
                                                          recency=recency(at - row[10])))
                    seen.add(row[1])
            tokens = scope.tokens().split() if scope is not None else []
            for every in (True, False):
                if len(hits) >= limit or not plan.common or (not every and len(plan.common) == 1):
                    continue
                for row in fts.newest(conn, plan.common, every, where, args, limit=limit * 2, scope_tokens=tokens):
                    if row[1] in seen:
                        continue
                    fresh = recency(at - row[10])
                    hits.append(SearchHit.model_construct(record=self._record(row), relevance=0.0, recency=fresh,
                                                          score=blend(0, 1, fresh)))
                    seen.add(row[1])
                    if len(hits) >= limit:
                        break
        results.hits = hits
        return results

