"""Forward migrations of the SQLite schema, and refusal of a schema from the future."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from massgen_plugins.memory import sqlite_schema
from massgen_plugins.memory.records import SchemaTooNewError, Scope
from massgen_plugins.memory.sqlite import SQLiteMemoryStore


def test_a_version_1_store_is_migrated_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = SQLiteMemoryStore(path, _target_version=1)
    assert old.schema_version == 1
    record, _ = old.add("written by schema version one", scope=Scope(user="alice"))
    old.close()
    tables = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "turns" not in tables and "memory_history" not in tables

    with SQLiteMemoryStore(path) as store:
        assert store.schema_version == sqlite_schema.LATEST
        kept = store.get(record.id)
        assert kept is not None and kept.text == "written by schema version one"
        assert store.search("schema version", scope=Scope(user="alice")).texts() == [kept.text]
        store.update(record.id, text="updated after migration")  # history table from v2
        store.append_turn("s", [{"role": "user", "content": "hi"}])  # session tables from v3
        assert store.check().ok
    rows = sqlite3.connect(path).execute("SELECT version, description FROM schema_version ORDER BY version").fetchall()
    assert [v for v, _ in rows] == [m.version for m in sqlite_schema.MIGRATIONS]
    assert all(description for _, description in rows)


def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    SQLiteMemoryStore(path).close()
    SQLiteMemoryStore(path).close()
    count = sqlite3.connect(path).execute("SELECT count(*) FROM schema_version").fetchone()[0]
    assert count == sqlite_schema.LATEST


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    SQLiteMemoryStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (99, 'from the future', 0)")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaTooNewError) as caught:
        SQLiteMemoryStore(path)
    assert "upgrade massgen-plugins" in str(caught.value) and "99" in str(caught.value)


def test_archive_rows_of_a_version_3_store_still_verify_after_migration(tmp_path: Path) -> None:
    from massgen_plugins.memory.codec import archive_checksum, canonical_json, scope_token, turn_checksum

    path = tmp_path / "v3.db"
    SQLiteMemoryStore(path, _target_version=3).close()
    message = canonical_json({"content": "the old tool output", "role": "tool", "tool_call_id": "c1"})
    turn = canonical_json([{"content": "hi", "role": "user"}])
    with sqlite3.connect(path) as conn:  # what the version-3 code wrote: no 'extra' column
        conn.execute("INSERT INTO sessions VALUES ('s', NULL, NULL, NULL, 1.0, 1.0, 1)")
        conn.execute("INSERT INTO turns VALUES ('s', 1, ?, NULL, NULL, 1.0, ?)",
                      (turn, turn_checksum("s", 1, turn, None, None, 1.0)))
        conn.execute("INSERT INTO archive (session_id, turn, entry_id, message, replaced_by, stage, text, session_token, "
                     "created_at, checksum) VALUES ('s', 1, 'e1', ?, NULL, 'mask', 'the old tool output', ?, 1.0, ?)",
                     (message, scope_token("session", "s"), archive_checksum("s", 1, "e1", message, None, "mask", 1.0)))
    with SQLiteMemoryStore(path) as store:
        assert store.schema_version == sqlite_schema.LATEST
        [hit] = store.list_archive("s")
        assert hit.entry.message.content == "the old tool output" and hit.entry.model_extra == {}
        assert store.recall("s", "old tool output")[0].entry.id == "e1"
        store.append_turn("s", [{"role": "user", "content": "new"}],
                          archived=[{"id": "e2", "message": {"role": "user", "content": "x"}, "position": 3}])
        assert [h.entry.model_extra for h in store.list_archive("s")] == [{}, {"position": 3}]
        assert store.check().ok
