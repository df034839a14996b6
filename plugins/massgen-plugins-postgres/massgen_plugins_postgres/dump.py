"""Logical backup and restore of the PostgreSQL store.

A backup is a JSON-lines dump of every table (one header line, then ``{"table": ..., "row": ...}``)
written inside one ``REPEATABLE READ`` transaction, so it is a consistent snapshot while other
hosts keep writing; the file is private (``0600``). Restore verifies the whole file (format, and
every row's checksum) before it touches anything, dumps the current content next to the backup,
then replaces the tables in one transaction. For very large stores, ``pg_dump`` of the schema
works too.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from massgen_plugins.errors import InputError
from massgen_plugins.memory.files import open_private
from massgen_plugins.memory.records import CorruptionError
from massgen_plugins.memory.relational import OPTIONAL_COLUMNS, TABLES, row_problem

if TYPE_CHECKING:
    from .store import PostgresMemoryStore

DUMP_FORMAT = "massgen-plugins-memory-dump"


def _dump(store: PostgresMemoryStore, path: Path) -> None:
    partial = path.with_name(path.name + ".partial")
    try:
        out = open_private(partial)
    except OSError as exc:
        raise InputError(f"cannot write the backup to {path}: {exc.strerror or exc}") from None
    with out, store._read("backup") as conn:
        out.write(json.dumps({"format": DUMP_FORMAT, "version": 1, "schema_version": store.schema_version,
                              "backend": store.backend, "created_at": time.time()}) + "\n")
        for table in TABLES:
            for row in store._scan(conn, table):
                out.write(json.dumps({"table": table, "row": row}, ensure_ascii=False) + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)


def dump_backup(store: PostgresMemoryStore, destination: str) -> str:
    """Write the store's dump to ``destination`` (a new file)."""
    dest = Path(destination).expanduser()
    if dest.exists():
        raise InputError(f"backup destination {dest} already exists; choose a new file name")
    _dump(store, dest)
    return str(dest)


def _read_dump(src: Path, schema_version: int) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {table: [] for table in TABLES}
    problems: list[str] = []
    try:
        with open(src, encoding="utf-8") as handle:
            header = json.loads(handle.readline() or "null")
            if not isinstance(header, dict) or header.get("format") != DUMP_FORMAT:
                raise ValueError("missing dump header")
            if int(header.get("schema_version", 0)) > schema_version:
                raise InputError(f"backup {src} is from a newer schema ({header['schema_version']}); upgrade first")
            for line in handle:
                item = json.loads(line)
                table, row = item["table"], item["row"]
                for optional in OPTIONAL_COLUMNS.get(table, ()):
                    row.setdefault(optional, None)
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
    return rows


def restore_dump(store: PostgresMemoryStore, source: str) -> str:
    """Replace the store's tables with the dump ``source``; return where the previous content
    was dumped."""
    src = Path(source).expanduser()
    if not src.is_file():
        raise InputError(f"backup {src} does not exist or is not a file")
    rows = _read_dump(src, store.schema_version)
    aside = src.with_name(f"{src.name}.before-restore-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.jsonl")
    _dump(store, aside)
    with store._write("restore") as conn:
        conn.execute("TRUNCATE memories, memory_history, sessions, turns, archive RESTART IDENTITY")
        with conn.cursor() as cursor:
            for table, names in TABLES.items():
                if not rows[table]:
                    continue
                placeholders = ", ".join(["%s"] * len(names))
                cursor.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders})",
                                   [tuple(r[c] for c in names) for r in rows[table]])
        for table in ("memories", "archive"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'rowid'), "
                         f"coalesce((SELECT max(rowid) FROM {table}), 0) + 1, false)")
    return str(aside)
