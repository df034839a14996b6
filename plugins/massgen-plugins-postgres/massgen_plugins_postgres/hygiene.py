"""Stats, garbage collection, checks, and logical backup/restore for the PostgreSQL store.

A backup is a JSON-lines dump of every table (one header line, then ``{"table": ..., "row": ...}``)
written inside one ``REPEATABLE READ`` transaction, so it is a consistent snapshot while other
hosts keep writing. Restore verifies the whole file (format, and every row's checksum) before it
touches anything, dumps the current content next to the backup, then replaces the tables in one
transaction. For very large stores, ``pg_dump`` of the schema works too.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from massgen_plugins.errors import InputError
from massgen_plugins.memory.records import (
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
    from .store import PostgresMemoryStore

DUMP_FORMAT = "massgen-plugins-memory-dump"
TABLES: dict[str, tuple[str, ...]] = {
    "memories": ("rowid", "id", "kind", "text", "user_id", "agent_id", "session_id", "team_id", "scope_key",
                 "text_hash", "metadata", "created_at", "updated_at", "expires_at", "version", "checksum"),
    "memory_history": ("memory_id", "version", "text", "metadata", "updated_at", "checksum"),
    "sessions": ("session_id", "user_id", "agent_id", "team_id", "created_at", "updated_at", "last_turn"),
    "turns": ("session_id", "turn", "messages", "snapshot", "meta", "created_at", "checksum"),
    "archive": ("rowid", "session_id", "turn", "entry_id", "message", "replaced_by", "stage", "text", "created_at",
                "checksum"),
}
LEVEL_SQL = {
    "session": "session_id IS NOT NULL",
    "agent": "session_id IS NULL AND agent_id IS NOT NULL",
    "team": "session_id IS NULL AND agent_id IS NULL AND team_id IS NOT NULL",
    "user": "session_id IS NULL AND agent_id IS NULL AND team_id IS NULL AND user_id IS NOT NULL",
    "global": "session_id IS NULL AND agent_id IS NULL AND team_id IS NULL AND user_id IS NULL",
}
_LEVEL_CASE = ("CASE WHEN session_id IS NOT NULL THEN 'session' WHEN agent_id IS NOT NULL THEN 'agent' "
               "WHEN team_id IS NOT NULL THEN 'team' WHEN user_id IS NOT NULL THEN 'user' ELSE 'global' END")


def row_problem(table: str, row: dict[str, Any]) -> str | None:
    """``None`` when ``row`` matches its checksum, else what is wrong (shared by check and restore)."""
    if table == "memories":
        ok = memory_checksum(row) == row["checksum"]
        what = f"memory {row['id']!r}"
    elif table == "memory_history":
        ok = checksum(row["memory_id"], row["version"], row["text"], row["metadata"], row["updated_at"]) == row["checksum"]
        what = f"history {row['memory_id']!r} v{row['version']}"
    elif table == "turns":
        ok = turn_checksum(row["session_id"], row["turn"], row["messages"], row["snapshot"], row["meta"],
                           row["created_at"]) == row["checksum"]
        what = f"turn {row['turn']} of session {row['session_id']!r}"
    elif table == "archive":
        ok = archive_checksum(row["session_id"], row["turn"], row["entry_id"], row["message"], row["replaced_by"],
                              row["stage"], row["created_at"]) == row["checksum"]
        what = f"archive entry {row['entry_id']!r} of session {row['session_id']!r}"
    else:
        return None
    return None if ok else f"checksum mismatch: {what}"


class _DryRun(Exception):
    pass


class HygieneMixin:
    def stats(self: PostgresMemoryStore, scope: Scope | None = None) -> StoreStats:
        where, args = self._scope_sql(scope)
        at = self._now()
        out = StoreStats(backend=self.backend, url=self.url, schema_version=self.schema_version)
        session_clauses, session_args = ["last_turn > 0"], []
        if scope is not None:
            for level, column in (("user", "user_id"), ("agent", "agent_id"), ("team", "team_id"),
                                  ("session", "session_id")):
                if getattr(scope, level):
                    session_clauses.append(f"{column} = %s")
                    session_args.append(getattr(scope, level))
        session_where = " AND ".join(session_clauses)
        with self._read("stats") as conn:
            for kind, level, live, expired in conn.execute(
                    f"SELECT kind, {_LEVEL_CASE}, count(*) FILTER (WHERE expires_at IS NULL OR expires_at > %s), "
                    f"count(*) FILTER (WHERE expires_at <= %s) FROM memories WHERE {where} GROUP BY 1, 2",
                    (at, at, *args)):
                out.memories += live
                out.expired += expired
                if live:
                    out.by_kind[kind] = out.by_kind.get(kind, 0) + live
                    out.by_level[level] = out.by_level.get(level, 0) + live
            out.history = conn.execute(
                f"SELECT count(*) FROM memory_history WHERE memory_id IN (SELECT id FROM memories WHERE {where})",
                args).fetchone()[0]
            out.sessions, out.turns = conn.execute(
                f"SELECT count(*), coalesce(sum(last_turn), 0) FROM sessions WHERE {session_where}",
                session_args).fetchone()
            out.archived = conn.execute(
                f"SELECT count(*) FROM archive WHERE session_id IN (SELECT session_id FROM sessions WHERE "
                f"{session_where})", session_args).fetchone()[0]
            out.size_bytes = conn.execute(
                "SELECT sum(pg_total_relation_size(format('%%I.%%I', current_schema(), t))) FROM unnest(%s::text[]) t",
                (list(TABLES),)).fetchone()[0]
        return out

    def gc(self: PostgresMemoryStore, *, dry_run: bool = False) -> GcReport:
        report = GcReport(dry_run=dry_run)
        at = self._now()
        try:
            with self._write("gc") as conn:
                report.expired = conn.execute("DELETE FROM memories WHERE expires_at <= %s", (at,)).rowcount
                for level, condition in LEVEL_SQL.items():
                    limit = self.limits.for_level(level).max_records
                    if limit is None:
                        continue
                    over = conn.execute(f"SELECT scope_key FROM memories WHERE {condition} GROUP BY scope_key "
                                        "HAVING count(*) > %s", (limit,)).fetchall()
                    for (key,) in over:
                        report.over_limit += conn.execute(
                            "DELETE FROM memories WHERE rowid IN (SELECT rowid FROM memories WHERE scope_key = %s "
                            "ORDER BY updated_at DESC, rowid DESC OFFSET %s)", (key, limit)).rowcount
                report.history = conn.execute("DELETE FROM memory_history h WHERE NOT EXISTS "
                                              "(SELECT 1 FROM memories m WHERE m.id = h.memory_id)").rowcount
                if self.limits.session_ttl is not None:
                    cutoff = at - self.limits.session_ttl
                    stale = "SELECT session_id FROM sessions WHERE updated_at <= %s"
                    conn.execute(f"DELETE FROM turns WHERE session_id IN ({stale})", (cutoff,))
                    conn.execute(f"DELETE FROM archive WHERE session_id IN ({stale})", (cutoff,))
                    report.sessions = conn.execute("DELETE FROM sessions WHERE updated_at <= %s", (cutoff,)).rowcount
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        return report

    def _rows(self: PostgresMemoryStore, conn: Any, table: str) -> Iterator[dict[str, Any]]:
        columns = TABLES[table]
        order = "rowid" if "rowid" in columns else ", ".join(columns[:2])
        with conn.cursor(name=f"dump_{table}") as cursor:
            cursor.itersize = 2000
            cursor.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")
            for row in cursor:
                yield dict(zip(columns, row, strict=True))

    def check(self: PostgresMemoryStore) -> CheckReport:
        report = CheckReport(ok=True)
        with self._read("check") as conn:
            for table in ("memories", "memory_history", "turns", "archive"):
                bad = 0
                count = 0
                for row in self._rows(conn, table):
                    count += 1
                    problem = row_problem(table, row)
                    if problem:
                        bad += 1
                        if bad <= 20:
                            report.problems.append(problem)
                if bad > 20:
                    report.problems.append(f"{table}: {bad - 20} more checksum mismatches")
                report.checked[{"memory_history": "history"}.get(table, table)] = count
            for session_id, last, actual in conn.execute(
                    "SELECT s.session_id, s.last_turn, (SELECT coalesce(max(turn), 0) FROM turns t "
                    "WHERE t.session_id = s.session_id) FROM sessions s"):
                if last != actual:
                    report.problems.append(f"session {session_id!r}: last turn {last} but turns end at {actual}")
        report.ok = not report.problems
        return report

    def _dump(self: PostgresMemoryStore, path: Path) -> None:
        partial = path.with_name(path.name + ".partial")
        with self._read("backup") as conn, open(partial, "w", encoding="utf-8") as out:
            out.write(json.dumps({"format": DUMP_FORMAT, "version": 1, "schema_version": self.schema_version,
                                  "backend": self.backend, "created_at": time.time()}) + "\n")
            for table in TABLES:
                for row in self._rows(conn, table):
                    out.write(json.dumps({"table": table, "row": row}, ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)

    def backup(self: PostgresMemoryStore, destination: str) -> str:
        dest = Path(destination).expanduser()
        if dest.exists():
            raise InputError(f"backup destination {dest} already exists; choose a new file name")
        dest.parent.mkdir(parents=True, exist_ok=True)
        self._dump(dest)
        return str(dest)

    def restore(self: PostgresMemoryStore, source: str) -> str | None:
        src = Path(source).expanduser()
        if not src.is_file():
            raise InputError(f"backup {src} does not exist or is not a file")
        rows: dict[str, list[dict[str, Any]]] = {table: [] for table in TABLES}
        problems: list[str] = []
        try:
            with open(src, encoding="utf-8") as handle:
                header = json.loads(handle.readline() or "null")
                if not isinstance(header, dict) or header.get("format") != DUMP_FORMAT:
                    raise ValueError("missing dump header")
                if int(header.get("schema_version", 0)) > self.schema_version:
                    raise InputError(f"backup {src} is from a newer schema ({header['schema_version']}); upgrade first")
                for line in handle:
                    item = json.loads(line)
                    table, row = item["table"], item["row"]
                    if table not in TABLES or set(row) != set(TABLES[table]):
                        raise ValueError(f"unexpected table or columns: {table}")
                    problem = row_problem(table, row)
                    if problem:
                        problems.append(problem)
                    rows[table].append(row)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise InputError(f"{src} is not a readable memory store backup ({exc})") from None
        if problems:
            raise CorruptionError(f"backup {src} fails its check: {'; '.join(problems[:5])}")
        aside = src.with_name(f"{src.name}.before-restore-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.jsonl")
        self._dump(aside)
        with self._write("restore") as conn:
            conn.execute("TRUNCATE memories, memory_history, sessions, turns, archive RESTART IDENTITY")
            with conn.cursor() as cursor:
                for table, columns in TABLES.items():
                    if not rows[table]:
                        continue
                    placeholders = ", ".join(["%s"] * len(columns))
                    cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",
                                       [tuple(r[c] for c in columns) for r in rows[table]])
            for table in ("memories", "archive"):
                conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'rowid'), "
                             f"coalesce((SELECT max(rowid) FROM {table}), 0) + 1, false)")
        self._stats = None
        return str(aside)
