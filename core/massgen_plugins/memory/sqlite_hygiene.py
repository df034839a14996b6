"""Limits and hygiene for the SQLite store: stats, garbage collection, integrity check, online
backup and verified restore."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from .records import (
    CheckReport,
    CorruptionError,
    GcReport,
    Scope,
    StoreStats,
    archive_checksum,
    checksum,
    memory_checksum,
    turn_checksum,
)

if TYPE_CHECKING:
    from .sqlite import SQLiteMemoryStore

LEVEL_SQL = {
    "session": "session_id IS NOT NULL",
    "agent": "session_id IS NULL AND agent_id IS NOT NULL",
    "team": "session_id IS NULL AND agent_id IS NULL AND team_id IS NOT NULL",
    "user": "session_id IS NULL AND agent_id IS NULL AND team_id IS NULL AND user_id IS NOT NULL",
    "global": "session_id IS NULL AND agent_id IS NULL AND team_id IS NULL AND user_id IS NULL",
}
_LEVEL_CASE = ("CASE WHEN session_id IS NOT NULL THEN 'session' WHEN agent_id IS NOT NULL THEN 'agent' "
               "WHEN team_id IS NOT NULL THEN 'team' WHEN user_id IS NOT NULL THEN 'user' ELSE 'global' END")


class _DryRun(Exception):
    """Raised inside a gc transaction to roll it back after counting."""


class HygieneMixin:
    """Stats, gc, check, backup and restore of :class:`~massgen_plugins.memory.sqlite.SQLiteMemoryStore`."""

    def stats(self: SQLiteMemoryStore, scope: Scope | None = None) -> StoreStats:
        where, args = self._scope_sql(scope)
        at = self._now()
        out = StoreStats(backend=self.backend, url=self.url, schema_version=self.schema_version)
        session_where, session_args = "1", []
        if scope is not None:
            clauses = []
            for level, column in (("user", "user_id"), ("agent", "agent_id"), ("team", "team_id"),
                                  ("session", "session_id")):
                if getattr(scope, level):
                    clauses.append(f"{column} = ?")
                    session_args.append(getattr(scope, level))
            session_where = " AND ".join(clauses) or "1"
        with self._read("stats") as conn:
            for kind, level, live, expired in conn.execute(
                    f"SELECT kind, {_LEVEL_CASE}, sum(expires_at IS NULL OR expires_at > ?), "
                    f"sum(expires_at IS NOT NULL AND expires_at <= ?) FROM memories WHERE {where} GROUP BY 1, 2",
                    (at, at, *args)):
                out.memories += live
                out.expired += expired
                out.by_kind[kind] = out.by_kind.get(kind, 0) + live
                out.by_level[level] = out.by_level.get(level, 0) + live
            out.history = conn.execute(
                f"SELECT count(*) FROM memory_history WHERE memory_id IN (SELECT id FROM memories WHERE {where})",
                args).fetchone()[0] if scope is not None else conn.execute(
                "SELECT count(*) FROM memory_history").fetchone()[0]
            sessions = f"SELECT session_id FROM sessions WHERE {session_where}"
            out.sessions, out.turns = conn.execute(
                f"SELECT count(*), coalesce(sum(last_turn), 0) FROM sessions WHERE {session_where}",
                session_args).fetchone()
            out.archived = conn.execute(f"SELECT count(*) FROM archive WHERE session_id IN ({sessions})",
                                        session_args).fetchone()[0]
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
        wal = Path(str(self.path) + "-wal")
        out.size_bytes = page_size * pages + (wal.stat().st_size if wal.exists() else 0)
        return out

    def gc(self: SQLiteMemoryStore, *, dry_run: bool = False) -> GcReport:
        report = GcReport(dry_run=dry_run)
        at = self._now()
        try:
            with self._write("gc") as conn:
                report.expired = conn.execute("DELETE FROM memories WHERE expires_at IS NOT NULL AND expires_at <= ?",
                                              (at,)).rowcount
                for level, condition in LEVEL_SQL.items():
                    limit = self.limits.for_level(level).max_records
                    if limit is None:
                        continue
                    over = conn.execute(f"SELECT scope_key FROM memories WHERE {condition} GROUP BY scope_key "
                                        "HAVING count(*) > ?", (limit,)).fetchall()
                    for (key,) in over:
                        report.over_limit += conn.execute(
                            "DELETE FROM memories WHERE rowid IN (SELECT rowid FROM memories WHERE scope_key = ? "
                            "ORDER BY updated_at DESC, rowid DESC LIMIT -1 OFFSET ?)", (key, limit)).rowcount
                report.history = conn.execute(
                    "DELETE FROM memory_history WHERE memory_id NOT IN (SELECT id FROM memories)").rowcount
                if self.limits.session_ttl is not None:
                    stale = "SELECT session_id FROM sessions WHERE updated_at <= ?"
                    cutoff = at - self.limits.session_ttl
                    conn.execute(f"DELETE FROM turns WHERE session_id IN ({stale})", (cutoff,))
                    conn.execute(f"DELETE FROM archive WHERE session_id IN ({stale})", (cutoff,))
                    report.sessions = conn.execute("DELETE FROM sessions WHERE updated_at <= ?", (cutoff,)).rowcount
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        return report

    def check(self: SQLiteMemoryStore) -> CheckReport:
        report = CheckReport(ok=True)

        def problem(text: str) -> None:
            report.ok = False
            report.problems.append(text)

        with self._lock:
            self._ensure_open()
            conn = self._conn
            try:
                rows = [r[0] for r in conn.execute("PRAGMA integrity_check(50)").fetchall()]
                if rows != ["ok"]:
                    for row in rows:
                        problem(f"database: {row}")
            except sqlite3.DatabaseError as exc:
                problem(f"database: {exc}")
            for table in ("memories_fts", "archive_fts"):
                try:
                    conn.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
                except sqlite3.DatabaseError as exc:
                    problem(f"full-text index {table}: {exc} (rebuild it with: massgen-plugins memory check --repair-index)")
            self._check_rows(conn, report, problem)
        return report

    def _check_rows(self: SQLiteMemoryStore, conn: sqlite3.Connection, report: CheckReport, problem: Any) -> None:
        sections: list[tuple[str, str, Any]] = [
            ("memories", "SELECT id, kind, text, user_id, agent_id, session_id, team_id, metadata, created_at, "
                         "updated_at, expires_at, version, checksum FROM memories",
             lambda r: memory_checksum(dict(zip(("id", "kind", "text", "user_id", "agent_id", "session_id", "team_id",
                                                 "metadata", "created_at", "updated_at", "expires_at", "version"),
                                                r[:12], strict=True))) == r[12] or f"memory {r[0]!r}"),
            ("history", "SELECT memory_id, version, text, metadata, updated_at, checksum FROM memory_history",
             lambda r: checksum(*r[:5]) == r[5] or f"history {r[0]!r} v{r[1]}"),
            ("turns", "SELECT session_id, turn, messages, snapshot, meta, created_at, checksum FROM turns",
             lambda r: turn_checksum(*r[:6]) == r[6] or f"turn {r[1]} of session {r[0]!r}"),
            ("archive", "SELECT session_id, turn, entry_id, message, replaced_by, stage, created_at, checksum "
                        "FROM archive",
             lambda r: archive_checksum(*r[:7]) == r[7] or f"archive entry {r[2]!r} of session {r[0]!r}"),
        ]
        for name, sql, verify in sections:
            count = bad = 0
            try:
                for row in conn.execute(sql):
                    count += 1
                    outcome = verify(row)
                    if outcome is not True:
                        bad += 1
                        if bad <= 20:
                            problem(f"checksum mismatch: {outcome}")
            except sqlite3.DatabaseError as exc:
                problem(f"{name}: unreadable ({exc})")
            if bad > 20:
                problem(f"{name}: {bad - 20} more checksum mismatches")
            report.checked[name] = count
        try:
            for session_id, last, actual in conn.execute(
                    "SELECT s.session_id, s.last_turn, (SELECT coalesce(max(turn), 0) FROM turns t "
                    "WHERE t.session_id = s.session_id) FROM sessions s"):
                if last != actual:
                    problem(f"session {session_id!r}: last turn {last} but turns end at {actual}")
        except sqlite3.DatabaseError as exc:
            problem(f"sessions: unreadable ({exc})")

    def repair_index(self: SQLiteMemoryStore) -> None:
        """Rebuild both full-text indexes from the stored rows (nothing else changes)."""
        with self._write("repair_index") as conn:
            conn.execute("INSERT INTO memories_fts(memories_fts) VALUES ('rebuild')")
            conn.execute("INSERT INTO archive_fts(archive_fts) VALUES ('rebuild')")

    def backup(self: SQLiteMemoryStore, destination: str) -> str:
        dest = Path(destination).expanduser()
        if dest.exists():
            raise InputError(f"backup destination {dest} already exists; choose a new file name")
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(dest.name + ".partial")
        with self._lock, self._translate("backup"):
            self._ensure_open()
            target = sqlite3.connect(partial)
            try:
                self._conn.backup(target)
                target.execute("PRAGMA journal_mode = DELETE")
            finally:
                target.close()
        os.replace(partial, dest)
        return str(dest)

    def restore(self: SQLiteMemoryStore, source: str) -> str | None:
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.close()
            try:
                return restore_file(self.path, source)
            finally:
                self._conn = self._connect(None)
                self._closed = False


def restore_file(path: Path, source: str) -> str | None:
    """Replace the SQLite store at ``path`` with the backup ``source``.

    The backup is copied next to the store, migrated if it is older and fully checked; only then
    are the current files (damaged or not, with their ``-wal``/``-shm``) moved aside to
    ``<store>.before-restore-<time>`` and the copy renamed into place. Returns where the previous
    store was kept (``None`` if there was none). Stop other processes using the store first.
    """
    from .sqlite import SQLiteMemoryStore

    src = Path(source).expanduser()
    if not src.is_file():
        raise InputError(f"backup {src} does not exist or is not a file")
    staging = path.with_name(f"{path.name}.restoring-{os.getpid()}")
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{staging}{suffix}")
    try:
        try:
            reader = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
            writer = sqlite3.connect(staging)
            try:
                reader.backup(writer)
            finally:
                reader.close()
                writer.close()
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{src} is not a readable memory store backup ({exc})") from None
        try:
            candidate = SQLiteMemoryStore(staging)
        except CorruptionError as exc:
            raise CorruptionError(f"backup {src} is damaged too: {exc}") from None
        try:
            report = candidate.check()
        finally:
            candidate.close()
        if not report.ok:
            raise CorruptionError(f"backup {src} fails its check: {'; '.join(report.problems[:5])}")
        aside = None
        if path.exists():
            aside = f"{path}.before-restore-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(f"{path}{suffix}"):
                    os.replace(f"{path}{suffix}", f"{aside}{suffix}")
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{staging}{suffix}")
        os.replace(staging, path)
        return aside
    finally:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{staging}{suffix}")
