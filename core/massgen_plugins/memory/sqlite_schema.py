"""The SQLite store's schema as numbered forward migrations.

``schema_version`` records every migration applied (version, description, time). Opening a store
applies the missing ones in order, inside the same ``BEGIN IMMEDIATE`` transaction that reads
the current version, so two processes opening an old store at once migrate it exactly once.
A store whose version is newer than :data:`LATEST` is refused (:class:`SchemaTooNewError`)
rather than misread.

Never edit a released migration: append a new one.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from .records import SchemaTooNewError


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[sqlite3.Connection], None]


def _script(sql: str) -> Callable[[sqlite3.Connection], None]:
    statements: list[str] = []
    buffer = ""
    for line in sql.strip().splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip() + ";")

    def run(conn: sqlite3.Connection) -> None:
        for statement in statements:
            conn.execute(statement)

    return run


_V1 = """
CREATE TABLE memories (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL DEFAULT 'fact',
    text TEXT NOT NULL,
    user_id TEXT, agent_id TEXT, session_id TEXT, team_id TEXT,
    scope_key TEXT NOT NULL,
    scope_tokens TEXT NOT NULL DEFAULT '',
    text_hash TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    expires_at REAL,
    version INTEGER NOT NULL DEFAULT 1,
    checksum TEXT NOT NULL,
    UNIQUE (scope_key, text_hash)
);
CREATE INDEX memories_user ON memories(user_id) WHERE user_id IS NOT NULL;
CREATE INDEX memories_agent ON memories(agent_id) WHERE agent_id IS NOT NULL;
CREATE INDEX memories_session ON memories(session_id) WHERE session_id IS NOT NULL;
CREATE INDEX memories_team ON memories(team_id) WHERE team_id IS NOT NULL;
CREATE INDEX memories_expiry ON memories(expires_at) WHERE expires_at IS NOT NULL;
CREATE VIRTUAL TABLE memories_fts USING fts5(
    text, scope_tokens, content='memories', content_rowid='rowid',
    tokenize='unicode61 remove_diacritics 2'
);
INSERT INTO memories_fts(memories_fts, rank) VALUES ('rank', 'bm25(1.0, 0.0)');
CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts(rowid, text, scope_tokens) VALUES (new.rowid, new.text, new.scope_tokens);
END;
CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, text, scope_tokens)
    VALUES ('delete', old.rowid, old.text, old.scope_tokens);
END;
CREATE TRIGGER memories_fts_update AFTER UPDATE OF text, scope_tokens ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, text, scope_tokens)
    VALUES ('delete', old.rowid, old.text, old.scope_tokens);
    INSERT INTO memories_fts(rowid, text, scope_tokens) VALUES (new.rowid, new.text, new.scope_tokens);
END
"""

_V2 = """
CREATE TABLE memory_history (
    memory_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL,
    updated_at REAL NOT NULL,
    checksum TEXT NOT NULL,
    PRIMARY KEY (memory_id, version)
)
"""

_V3 = """
CREATE TABLE sessions (
    session_id TEXT PRIMARY KEY,
    user_id TEXT, agent_id TEXT, team_id TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    last_turn INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_updated ON sessions(updated_at);
CREATE TABLE turns (
    session_id TEXT NOT NULL,
    turn INTEGER NOT NULL,
    messages TEXT NOT NULL,
    snapshot TEXT,
    meta TEXT,
    created_at REAL NOT NULL,
    checksum TEXT NOT NULL,
    PRIMARY KEY (session_id, turn)
);
CREATE INDEX turns_snapshots ON turns(session_id, turn) WHERE snapshot IS NOT NULL;
CREATE TABLE archive (
    rowid INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    turn INTEGER NOT NULL,
    entry_id TEXT NOT NULL,
    message TEXT NOT NULL,
    replaced_by TEXT,
    stage TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    session_token TEXT NOT NULL,
    created_at REAL NOT NULL,
    checksum TEXT NOT NULL,
    UNIQUE (session_id, entry_id)
);
CREATE VIRTUAL TABLE archive_fts USING fts5(
    text, session_token, content='archive', content_rowid='rowid',
    tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER archive_fts_insert AFTER INSERT ON archive BEGIN
    INSERT INTO archive_fts(rowid, text, session_token) VALUES (new.rowid, new.text, new.session_token);
END;
CREATE TRIGGER archive_fts_delete AFTER DELETE ON archive BEGIN
    INSERT INTO archive_fts(archive_fts, rowid, text, session_token)
    VALUES ('delete', old.rowid, old.text, old.session_token);
END
"""

_V4 = """
ALTER TABLE archive ADD COLUMN extra TEXT
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "long-term memories with full-text index", _script(_V1)),
    Migration(2, "update history of memories", _script(_V2)),
    Migration(3, "short-term sessions: turns, snapshots, compression archive", _script(_V3)),
    Migration(4, "archive entries keep their other fields (position, kept, ...)", _script(_V4)),
)

LATEST = MIGRATIONS[-1].version


def current_version(conn: sqlite3.Connection) -> int:
    """The store's schema version (0 for an empty file)."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'"
    ).fetchone()
    if not exists:
        return 0
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, *, location: str, target: int = LATEST) -> list[int]:
    """Bring the schema up to ``target`` inside the caller's write transaction; return the
    versions applied."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at REAL NOT NULL)"
    )
    version = current_version(conn)
    if version > LATEST:
        raise SchemaTooNewError(
            f"memory store {location} has schema version {version}, but this massgen-plugins only "
            f"knows versions up to {LATEST}; upgrade massgen-plugins to open it"
        )
    applied = []
    for migration in MIGRATIONS:
        if version < migration.version <= target:
            migration.apply(conn)
            conn.execute(
                "INSERT INTO schema_version(version, description, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.description, time.time()),
            )
            applied.append(migration.version)
    return applied
