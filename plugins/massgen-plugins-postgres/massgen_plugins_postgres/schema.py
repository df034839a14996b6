"""The PostgreSQL store's schema as numbered forward migrations (same versions and meaning as
the SQLite store's). Migrations run under a transaction-scoped advisory lock, so many hosts
opening an old store at once migrate it exactly once."""

from __future__ import annotations

import time
from typing import Any

from massgen_plugins.memory.records import SchemaTooNewError

_V1 = [
    """CREATE TABLE memories (
        rowid BIGSERIAL PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL DEFAULT 'fact',
        text TEXT NOT NULL,
        user_id TEXT, agent_id TEXT, session_id TEXT, team_id TEXT,
        scope_key TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        metadata TEXT NOT NULL DEFAULT '{}',
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        expires_at DOUBLE PRECISION,
        version INTEGER NOT NULL DEFAULT 1,
        checksum TEXT NOT NULL,
        tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED,
        UNIQUE (scope_key, text_hash)
    )""",
    "CREATE INDEX memories_tsv ON memories USING gin (tsv)",
    "CREATE INDEX memories_user ON memories (user_id) WHERE user_id IS NOT NULL",
    "CREATE INDEX memories_agent ON memories (agent_id) WHERE agent_id IS NOT NULL",
    "CREATE INDEX memories_session ON memories (session_id) WHERE session_id IS NOT NULL",
    "CREATE INDEX memories_team ON memories (team_id) WHERE team_id IS NOT NULL",
    "CREATE INDEX memories_expiry ON memories (expires_at) WHERE expires_at IS NOT NULL",
    "CREATE INDEX memories_scope_updated ON memories (scope_key, updated_at)",
]

_V2 = [
    """CREATE TABLE memory_history (
        memory_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        text TEXT NOT NULL,
        metadata TEXT NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        checksum TEXT NOT NULL,
        PRIMARY KEY (memory_id, version)
    )""",
]

_V3 = [
    """CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY,
        user_id TEXT, agent_id TEXT, team_id TEXT,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        last_turn INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX sessions_updated ON sessions (updated_at)",
    """CREATE TABLE turns (
        session_id TEXT NOT NULL,
        turn INTEGER NOT NULL,
        messages TEXT NOT NULL,
        snapshot TEXT,
        meta TEXT,
        created_at DOUBLE PRECISION NOT NULL,
        checksum TEXT NOT NULL,
        PRIMARY KEY (session_id, turn)
    )""",
    "CREATE INDEX turns_snapshots ON turns (session_id, turn) WHERE snapshot IS NOT NULL",
    """CREATE TABLE archive (
        rowid BIGSERIAL PRIMARY KEY,
        session_id TEXT NOT NULL,
        turn INTEGER NOT NULL,
        entry_id TEXT NOT NULL,
        message TEXT NOT NULL,
        replaced_by TEXT,
        stage TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        checksum TEXT NOT NULL,
        tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED,
        UNIQUE (session_id, entry_id)
    )""",
    "CREATE INDEX archive_tsv ON archive USING gin (tsv)",
]

_V4 = ["ALTER TABLE archive ADD COLUMN extra TEXT"]

MIGRATIONS: tuple[tuple[int, str, list[str]], ...] = (
    (1, "long-term memories with full-text index", _V1),
    (2, "update history of memories", _V2),
    (3, "short-term sessions: turns, snapshots, compression archive", _V3),
    (4, "archive entries keep their other fields (position, kept, ...)", _V4),
)
LATEST = MIGRATIONS[-1][0]


def current_version(conn: Any) -> int:
    exists = conn.execute("SELECT to_regclass('schema_version')").fetchone()[0]
    if exists is None:
        return 0
    return int(conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0])


def migrate(conn: Any, *, location: str, target: int = LATEST) -> list[int]:
    """Apply missing migrations inside the caller's transaction; return the versions applied."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('massgen_plugins.memory:' || current_schema()))")
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                 "description TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)")
    version = current_version(conn)
    if version > LATEST:
        raise SchemaTooNewError(
            f"memory store {location} has schema version {version}, but this massgen-plugins-postgres only "
            f"knows versions up to {LATEST}; upgrade massgen-plugins-postgres to open it")
    applied = []
    for number, description, statements in MIGRATIONS:
        if version < number <= target:
            for statement in statements:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version, description, applied_at) VALUES (%s, %s, %s)",
                         (number, description, time.time()))
            applied.append(number)
    return applied
