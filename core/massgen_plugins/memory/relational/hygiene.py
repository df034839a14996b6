"""Stats, garbage collection and the row-by-row checksum check of a relational memory store,
plus :class:`RelationalMemoryStore`, the class every relational backend derives from."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from ...errors import MassgenError
from ..codec import archive_checksum, history_checksum, memory_checksum, turn_checksum
from ..records import CheckReport, GcReport, Scope, StoreStats
from .shortterm import SessionsCore

#: every table a store holds, with the columns that carry meaning (what a dump or a check reads)
TABLES: dict[str, tuple[str, ...]] = {
    "memories": ("rowid", "id", "kind", "text", "user_id", "agent_id", "session_id", "team_id", "scope_key",
                 "text_hash", "metadata", "created_at", "updated_at", "expires_at", "version", "checksum"),
    "memory_history": ("memory_id", "version", "text", "metadata", "updated_at", "checksum"),
    "sessions": ("session_id", "user_id", "agent_id", "team_id", "created_at", "updated_at", "last_turn"),
    "turns": ("session_id", "turn", "messages", "snapshot", "meta", "created_at", "checksum"),
    "archive": ("rowid", "session_id", "turn", "entry_id", "message", "replaced_by", "stage", "text", "created_at",
                "checksum", "extra"),
}
#: columns a dump written before they existed may lack (they are then empty)
OPTIONAL_COLUMNS = {"archive": ("extra",)}
#: the SQL condition selecting the memories of each scope level
LEVEL_SQL = {
    "session": "session_id IS NOT NULL",
    "agent": "session_id IS NULL AND agent_id IS NOT NULL",
    "team": "session_id IS NULL AND agent_id IS NULL AND team_id IS NOT NULL",
    "user": "session_id IS NULL AND agent_id IS NULL AND team_id IS NULL AND user_id IS NOT NULL",
    "global": "session_id IS NULL AND agent_id IS NULL AND team_id IS NULL AND user_id IS NULL",
}
_LEVEL_CASE = ("CASE WHEN session_id IS NOT NULL THEN 'session' WHEN agent_id IS NOT NULL THEN 'agent' "
               "WHEN team_id IS NOT NULL THEN 'team' WHEN user_id IS NOT NULL THEN 'user' ELSE 'global' END")
_MAX_LISTED = 20


def row_problem(table: str, row: dict[str, Any]) -> str | None:
    """``None`` when ``row`` (a dict of :data:`TABLES` columns) matches its checksum, else what
    is wrong (shared by :meth:`RelationalMemoryStore.check` and restoring a dump)."""
    if table == "memories":
        ok = memory_checksum(row) == row["checksum"]
        what = f"memory {row['id']!r}"
    elif table == "memory_history":
        ok = history_checksum(row["memory_id"], row["version"], row["text"], row["metadata"],
                              row["updated_at"]) == row["checksum"]
        what = f"history {row['memory_id']!r} v{row['version']}"
    elif table == "turns":
        ok = turn_checksum(row["session_id"], row["turn"], row["messages"], row["snapshot"], row["meta"],
                           row["created_at"]) == row["checksum"]
        what = f"turn {row['turn']} of session {row['session_id']!r}"
    elif table == "archive":
        ok = archive_checksum(row["session_id"], row["turn"], row["entry_id"], row["message"], row["replaced_by"],
                              row["stage"], row["created_at"], row.get("extra")) == row["checksum"]
        what = f"archive entry {row['entry_id']!r} of session {row['session_id']!r}"
    else:
        return None
    return None if ok else f"checksum mismatch: {what}"


class _DryRun(Exception):
    """Raised inside a gc transaction to roll it back after counting."""


class RelationalMemoryStore(SessionsCore):
    """A :class:`~massgen_plugins.memory.store.MemoryStore` on a SQL database.

    A backend supplies a :class:`~massgen_plugins.memory.relational.dialect.SqlDialect`, its
    connection plumbing (``_conn``, ``_lock``, ``_closed``, :meth:`_read`, :meth:`_write`,
    :meth:`_corrupt`), its
    schema, and what only it can do: :meth:`_size_bytes`, :meth:`_check_database`,
    :meth:`repair_index`, :meth:`backup` and :meth:`restore`.
    """

    backend: str
    schema_version: int
    _conn: Any
    _lock: threading.RLock
    _closed: bool
    #: the driver's errors that mean "this part of the store cannot be read" during :meth:`check`
    _unreadable: tuple[type[BaseException], ...] = ()

    # ----------------------------------------------------------------- the connection
    def _ensure_open(self) -> None:
        if self._closed:
            raise MassgenError(f"memory store {self.url} is closed")

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    # ----------------------------------------------------------------- what the backend adds
    def _size_bytes(self, conn: Any) -> int | None:
        """The store's size on disk, if the backend can tell."""
        return None

    def _check_database(self, conn: Any, problem: Callable[[str], None]) -> None:
        """The database's own integrity checks (pages, full-text indexes), reported via ``problem``."""

    def _checking(self) -> contextlib.AbstractContextManager[Any]:
        """The connection :meth:`check` reads through (a read transaction by default)."""
        return self._read("check")

    def _scan(self, conn: Any, table: str) -> Iterator[dict[str, Any]]:
        """Every row of ``table`` (its :data:`TABLES` columns), streamed."""
        names = TABLES[table]
        order = "rowid" if "rowid" in names else ", ".join(names[:2])
        for row in self._q(conn, f"SELECT {', '.join(names)} FROM {table} ORDER BY {order}"):
            yield dict(zip(names, row, strict=True))

    # ----------------------------------------------------------------- stats and gc
    def stats(self, scope: Scope | None = None) -> StoreStats:
        where, args = self._scope_sql(scope)
        sessions, session_args = self._session_filter(scope)
        at = self._now()
        out = StoreStats(backend=self.backend, url=self.url, schema_version=self.schema_version)
        with self._read("stats") as conn:
            for kind, level, live, expired in self._q(
                    conn, f"SELECT kind, {_LEVEL_CASE}, sum(CASE WHEN expires_at IS NULL OR expires_at > ? THEN 1 "
                    "ELSE 0 END), sum(CASE WHEN expires_at <= ? THEN 1 ELSE 0 END) FROM memories "
                    f"WHERE {where} GROUP BY 1, 2", (at, at, *args)).fetchall():
                out.memories += int(live)
                out.expired += int(expired)
                if live:
                    out.by_kind[kind] = out.by_kind.get(kind, 0) + int(live)
                    out.by_level[level] = out.by_level.get(level, 0) + int(live)
            history = ("SELECT count(*) FROM memory_history" if scope is None or scope.is_empty() else
                       f"SELECT count(*) FROM memory_history WHERE memory_id IN (SELECT id FROM memories WHERE {where})")
            out.history = int(self._q(conn, history, args if scope is not None and not scope.is_empty() else ())
                              .fetchone()[0])
            count, turns = self._q(conn, f"SELECT count(*), coalesce(sum(last_turn), 0) FROM sessions WHERE {sessions}",
                                   session_args).fetchone()
            out.sessions, out.turns = int(count), int(turns)
            out.archived = int(self._q(conn, "SELECT count(*) FROM archive WHERE session_id IN "
                                       f"(SELECT session_id FROM sessions WHERE {sessions})", session_args).fetchone()[0])
            size = self._size_bytes(conn)
        out.size_bytes = None if size is None else int(size)
        return out

    def gc(self, *, dry_run: bool = False) -> GcReport:
        report = GcReport(dry_run=dry_run)
        at = self._now()
        try:
            with self._write("gc") as conn:
                report.expired = self._q(conn, "DELETE FROM memories WHERE expires_at IS NOT NULL AND expires_at <= ?",
                                         (at,)).rowcount
                for level, condition in LEVEL_SQL.items():
                    limit = self.limits.for_level(level).max_records
                    if limit is None:
                        continue
                    for (key,) in self._q(conn, f"SELECT scope_key FROM memories WHERE {condition} GROUP BY scope_key "
                                          "HAVING count(*) > ?", (limit,)).fetchall():
                        report.over_limit += self._evict(conn, key, limit)
                report.history = self._q(conn, "DELETE FROM memory_history WHERE NOT EXISTS (SELECT 1 FROM memories m "
                                         "WHERE m.id = memory_history.memory_id)").rowcount
                if self.limits.session_ttl is not None:
                    cutoff = at - self.limits.session_ttl
                    stale = "SELECT session_id FROM sessions WHERE updated_at <= ?"
                    self._q(conn, f"DELETE FROM turns WHERE session_id IN ({stale})", (cutoff,))
                    self._q(conn, f"DELETE FROM archive WHERE session_id IN ({stale})", (cutoff,))
                    report.sessions = self._q(conn, "DELETE FROM sessions WHERE updated_at <= ?", (cutoff,)).rowcount
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        return report

    # ----------------------------------------------------------------- check
    def check(self) -> CheckReport:
        report = CheckReport(ok=True)

        def problem(text: str) -> None:
            report.ok = False
            report.problems.append(text)

        with self._checking() as conn:
            self._check_database(conn, problem)
            for table in ("memories", "memory_history", "turns", "archive"):
                count = bad = 0
                try:
                    for row in self._scan(conn, table):
                        count += 1
                        found = row_problem(table, row)
                        if found:
                            bad += 1
                            if bad <= _MAX_LISTED:
                                problem(found)
                except self._unreadable as exc:
                    problem(f"{table}: unreadable ({exc})")
                if bad > _MAX_LISTED:
                    problem(f"{table}: {bad - _MAX_LISTED} more checksum mismatches")
                report.checked[{"memory_history": "history"}.get(table, table)] = count
            try:
                for session_id, last, actual in self._q(
                        conn, "SELECT s.session_id, s.last_turn, (SELECT coalesce(max(turn), 0) FROM turns t "
                        "WHERE t.session_id = s.session_id) FROM sessions s").fetchall():
                    if last != actual:
                        problem(f"session {session_id!r}: last turn {last} but turns end at {actual}")
            except self._unreadable as exc:
                problem(f"sessions: unreadable ({exc})")
        return report
