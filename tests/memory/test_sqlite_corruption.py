"""A damaged store is detected with a clear error, nothing is silently repaired or lost, and
restore from a backup works."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from massgen_plugins.memory.records import CorruptionError, Scope
from massgen_plugins.memory.sqlite import SQLiteMemoryStore
from massgen_plugins.memory.sqlite_backup import restore_file

ALICE = Scope(user="alice")


def _filled(path: Path) -> tuple[SQLiteMemoryStore, str]:
    store = SQLiteMemoryStore(path)
    record, _ = store.add("the launch code is zebra-umbrella-42", scope=ALICE)
    for i in range(200):
        store.add(f"filler memory number {i} " + "padding " * 20, scope=ALICE)
    store.append_turn("s1", [{"role": "user", "content": "hello"}])
    return store, record.id


def _checkpoint(store: SQLiteMemoryStore) -> None:
    store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def test_flipped_bytes_in_a_record_fail_its_checksum_and_restore_fixes_it(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    store, secret_id = _filled(path)
    backup = store.backup(str(tmp_path / "m.backup"))
    _checkpoint(store)
    store.close()
    raw = path.read_bytes()
    needle = b"zebra-umbrella-42"
    assert raw.count(needle) >= 1
    path.write_bytes(raw.replace(needle, b"zebra-umbrella-43"))

    damaged = SQLiteMemoryStore(path)
    with pytest.raises(CorruptionError) as caught:
        damaged.get(secret_id)
    message = str(caught.value)
    assert "fails its checksum" in message and secret_id in message
    assert "massgen-plugins memory restore" in message
    report = damaged.check()
    assert not report.ok
    assert any(secret_id in p for p in report.problems)
    with pytest.raises(CorruptionError):
        damaged.search("zebra", scope=ALICE)

    aside = damaged.restore(backup)
    assert aside is not None and Path(aside).exists(), "the damaged store is kept, not deleted"
    restored = damaged.get(secret_id)
    assert restored is not None and restored.text == "the launch code is zebra-umbrella-42"
    assert damaged.check().ok
    damaged.close()


def test_a_store_that_is_not_a_database_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    store, secret_id = _filled(path)
    backup = store.backup(str(tmp_path / "m.backup"))
    _checkpoint(store)
    store.close()
    raw = bytearray(path.read_bytes())
    raw[0:100] = b"\xff" * 100  # the header is gone
    path.write_bytes(bytes(raw))

    with pytest.raises(CorruptionError) as caught:
        SQLiteMemoryStore(path)
    assert str(path) in str(caught.value) and "is damaged" in str(caught.value)
    assert path.read_bytes()[:100] == b"\xff" * 100, "opening must not modify a damaged store"

    aside = restore_file(path, backup)
    assert aside is not None and Path(aside).read_bytes()[:100] == b"\xff" * 100
    with SQLiteMemoryStore(path) as store:
        assert store.get(secret_id) is not None
        assert store.check().ok


def test_damaged_pages_fail_the_integrity_check(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    store, _ = _filled(path)
    _checkpoint(store)
    page_size = store._conn.execute("PRAGMA page_size").fetchone()[0]
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store.close()
    assert pages > 10
    raw = bytearray(path.read_bytes())
    for page in (pages // 2, pages // 2 + 1):
        raw[page * page_size:(page + 1) * page_size] = b"\x07" * page_size
    path.write_bytes(bytes(raw))

    try:
        damaged = SQLiteMemoryStore(path)
    except CorruptionError:
        return  # refused at open: also a clear detection
    report = damaged.check()
    damaged.close()
    assert not report.ok and report.problems


def test_a_damaged_backup_is_refused_and_the_store_is_untouched(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    store, secret_id = _filled(path)
    bad = tmp_path / "bad.backup"
    bad.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(Exception) as caught:
        store.restore(str(bad))
    assert "not a readable memory store backup" in str(caught.value)
    assert store.get(secret_id) is not None
    backup = Path(store.backup(str(tmp_path / "good.backup")))
    conn = sqlite3.connect(backup)
    conn.execute("UPDATE memories SET text = 'tampered' WHERE id = ?", (secret_id,))
    conn.commit()
    conn.close()
    with pytest.raises(CorruptionError) as refused:
        store.restore(str(backup))
    assert "fails its check" in str(refused.value)
    assert store.get(secret_id).text == "the launch code is zebra-umbrella-42"  # type: ignore[union-attr]
    store.close()
