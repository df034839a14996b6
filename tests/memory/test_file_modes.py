"""Stores, backups and exports hold whole transcripts: they are created readable by their owner
only (files 0600, new directories 0700), whatever the umask says."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from massgen_plugins.cli import cli
from massgen_plugins.memory import open_store, restore_store
from massgen_plugins.memory.sqlite import sqlite_url
from massgen_plugins.memory.store import Scope


def mode(path: Path | str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """The common default umask (0022), under which a plain open() makes 0644 files."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_a_new_store_and_its_directories_are_private(tmp_path: Path) -> None:
    path = tmp_path / "home" / "memory" / "memory.db"
    with open_store(sqlite_url(path)) as store:
        store.add("Alice's card ends in 4242", scope=Scope(user="alice"))
        store.append_turn("s", [{"role": "user", "content": "the whole transcript"}])
        assert mode(path) == 0o600
        assert mode(f"{path}-wal") == 0o600 and mode(f"{path}-shm") == 0o600
    assert mode(tmp_path / "home") == 0o700 and mode(tmp_path / "home" / "memory") == 0o700


def test_backups_restores_and_exports_are_private(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "memory.db")
    with open_store(url) as store:
        store.add("Alice's card ends in 4242", scope=Scope(user="alice"))
        backup = Path(store.backup(str(tmp_path / "backups" / "monday.db")))
    assert mode(backup) == 0o600 and mode(tmp_path / "backups") == 0o700
    restore_store(url, str(backup))
    assert mode(tmp_path / "memory.db") == 0o600
    export = tmp_path / "export.jsonl"
    result = CliRunner().invoke(cli, ["memory", "export", str(export), "--store", url])
    assert result.exit_code == 0, result.output
    assert mode(export) == 0o600 and "4242" in export.read_text()
    assert not Path(f"{export}.partial").exists()


def test_an_existing_store_keeps_the_mode_its_owner_gave_it(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    with open_store(sqlite_url(path)) as store:
        store.add("team fact")
    os.chmod(path, 0o640)
    with open_store(sqlite_url(path)) as store:
        store.add("another team fact")
    assert mode(path) == 0o640
