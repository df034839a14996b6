"""Opening stores by URL through the memory_store hook, and SQLite URL handling."""

from __future__ import annotations

from pathlib import Path

import pytest
from massgen_plugins.errors import InputError, NoImplementationError
from massgen_plugins.manager import get_hooks
from massgen_plugins.memory import default_url, open_store
from massgen_plugins.memory.records import CorruptionError, Limits
from massgen_plugins.memory.sqlite import SQLiteMemoryStore, parse_sqlite_url, sqlite_url


def test_default_store_lives_under_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASSGEN_PLUGINS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MASSGEN_PLUGINS_MEMORY_URL", raising=False)
    assert default_url() == f"sqlite:///{tmp_path}/home/memory/memory.db"
    with open_store() as store:
        assert isinstance(store, SQLiteMemoryStore)
        assert store.path == tmp_path / "home" / "memory" / "memory.db"
    monkeypatch.setenv("MASSGEN_PLUGINS_MEMORY_URL", sqlite_url(tmp_path / "other.db"))
    with open_store() as store:
        assert store.path == tmp_path / "other.db"


def test_the_hook_facade_opens_sqlite(tmp_path: Path) -> None:
    store = get_hooks().memory_store(sqlite_url(tmp_path / "h.db"))
    try:
        assert store.backend == "sqlite"
    finally:
        store.close()


def test_bare_paths_and_url_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store("plain.db") as store:
        assert store.path == tmp_path / "plain.db"
    assert parse_sqlite_url("sqlite:///rel/m.db") == (Path("rel/m.db"), {})
    assert parse_sqlite_url("sqlite:////abs/m.db?ttl_session=7d") == (Path("/abs/m.db"), {"ttl_session": "7d"})
    for bad in ("sqlite://host/m.db", "sqlite:///", "sqlite:///:memory:", "sqlite:///m.db?bogus=1"):
        with pytest.raises(InputError):
            parse_sqlite_url(bad)


def test_url_limits_are_parsed() -> None:
    limits = Limits.from_query({"ttl_session": "12h", "max_user": "100", "session_ttl": "30d"})
    assert limits.for_level("session").ttl == 12 * 3600
    assert limits.for_level("user").max_records == 100
    assert limits.session_ttl == 30 * 86400
    for bad in ({"ttl_planet": "1d"}, {"max_user": "lots"}, {"max_user": "0"}, {"ttl_user": "soon"}):
        with pytest.raises(InputError):
            Limits.from_query(bad)


def test_unknown_scheme_names_the_postgres_plugin() -> None:
    with pytest.raises(NoImplementationError) as caught:
        open_store("mongodb://localhost/x")
    assert "massgen-plugins-postgres" in str(caught.value) or "mongodb" in str(caught.value)


def test_open_errors_reach_the_user_unchanged(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"definitely not sqlite" * 200)
    with pytest.raises(CorruptionError) as caught:
        open_store(sqlite_url(damaged))
    assert "is damaged" in str(caught.value)
    directory = tmp_path / "dir.db"
    directory.mkdir()
    with pytest.raises(InputError):
        open_store(sqlite_url(directory))
