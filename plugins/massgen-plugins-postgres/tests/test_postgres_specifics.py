"""What only the PostgreSQL backend does: URLs, connection errors, many writers, its statistics."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable

import pytest
from massgen_plugins.errors import InputError, MassgenError
from massgen_plugins.memory import open_store
from massgen_plugins.memory.store import Scope
from massgen_plugins_postgres import schema
from massgen_plugins_postgres.store import PostgresMemoryStore, split_url


def test_opened_through_the_hook_as_postgres(new_url: Callable[..., str]) -> None:
    with open_store(new_url()) as store:
        assert isinstance(store, PostgresMemoryStore)
        assert store.backend == "postgresql" and store.schema_version == schema.LATEST
        assert store.stats().backend == "postgresql"


def test_url_splitting_and_redaction() -> None:
    conninfo, own, shown = split_url("postgresql://bob:s3cret@db:5432/agents?schema=mem&sslmode=require"
                                     "&ttl_session=7d&guard_budget=50")
    assert own == {"schema": "mem", "ttl_session": "7d", "guard_budget": "50"}
    assert conninfo == "postgresql://bob:s3cret@db:5432/agents?sslmode=require"
    assert "s3cret" not in shown and ":***@" in shown


def test_connection_failure_is_one_clear_error_without_the_password() -> None:
    with pytest.raises(MassgenError) as caught:
        open_store("postgresql://bob:hunter2@127.0.0.1:1/none?connect_timeout=2")
    assert "cannot connect to the PostgreSQL memory store" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_bad_schema_name_is_input_error(postgres_server: str) -> None:
    joiner = "&" if "?" in postgres_server else "?"
    with pytest.raises(InputError):
        open_store(f"{postgres_server}{joiner}schema=Robert');DROP")


def test_guard_uses_postgres_statistics(new_url: Callable[..., str]) -> None:
    url = new_url(guard_budget=50)
    with open_store(url) as store:
        store.add_many([{"text": f"common words everywhere note {i}", "scope": Scope(user="u")} for i in range(400)])
        store.add("a rare armadillo sighting", scope=Scope(user="u"))
        store._conn.execute("ANALYZE memories")  # what autovacuum does in production
        store._stats = None
        results = store.search("common armadillo", scope=Scope(user="u"), limit=3)
        assert results.plan == "guarded" and results.common_terms == ["common"]
        assert results.texts()[0] == "a rare armadillo sighting"


WRITER = textwrap.dedent("""
    import sys
    from massgen_plugins.memory import open_store
    from massgen_plugins.memory.store import Scope
    url, worker = sys.argv[1], int(sys.argv[2])
    with open_store(url) as store:
        for i in range(40):
            store.add(f"worker {worker} fact {i}", scope=Scope(team="t"))
            store.add(f"shared fact {i}", scope=Scope(team="t"))
            store.append_turn("shared", [{"role": "user", "content": f"w{worker} {i}"}])
""")


def test_four_hosts_writing_at_once_lose_and_duplicate_nothing(new_url: Callable[..., str]) -> None:
    url = new_url()
    workers = [subprocess.Popen([sys.executable, "-c", WRITER, url, str(n)], stderr=subprocess.PIPE)
               for n in range(4)]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err.decode()
    with open_store(url) as store:
        texts = [r.text for r in store.iter_records(Scope(team="t"))]
        assert len(texts) == len(set(texts)) == 4 * 40 + 40
        state = store.load_session("shared")
        assert state is not None and state.turn == 160
        assert sorted(m.content for m in state.messages) == sorted(f"w{n} {i}" for n in range(4) for i in range(40))
        assert store.check().ok


def test_a_dump_backup_is_private(new_url: Callable[..., str], tmp_path) -> None:
    import os
    import stat

    old = os.umask(0o022)
    try:
        with open_store(new_url()) as store:
            store.add("Alice's card ends in 4242", scope=Scope(user="alice"))
            dump = store.backup(str(tmp_path / "dumps" / "monday.jsonl"))
            assert stat.S_IMODE(os.stat(dump).st_mode) == 0o600
            assert stat.S_IMODE(os.stat(tmp_path / "dumps").st_mode) == 0o700
            aside = store.restore(dump)
            assert aside and stat.S_IMODE(os.stat(aside).st_mode) == 0o600
    finally:
        os.umask(old)


def test_memory_stats_cli_on_postgres(new_url: Callable[..., str]) -> None:
    from click.testing import CliRunner
    from massgen_plugins.cli import cli

    url = new_url()
    with open_store(url) as store:
        store.add("a fact")
        store.append_turn("s", [{"role": "user", "content": "hi"}])
    result = CliRunner().invoke(cli, ["memory", "stats", "--store", url])
    assert result.exit_code == 0, result.output
    assert "MB" in result.stdout and "postgresql" in result.stdout


def test_read_commands_do_not_create_a_schema(new_url: Callable[..., str], postgres_server: str) -> None:
    import psycopg
    from click.testing import CliRunner
    from massgen_plugins.cli import cli

    url = new_url()
    result = CliRunner().invoke(cli, ["memory", "stats", "--store", url])
    assert result.exit_code == 2 and "no memory store at" in result.stderr
    schema_name = url.split("schema=")[1].split("&")[0]
    with psycopg.connect(postgres_server) as conn:
        assert conn.execute("SELECT to_regnamespace(%s)", (schema_name,)).fetchone()[0] is None


def test_a_dump_from_before_the_extra_column_restores(new_url: Callable[..., str], tmp_path) -> None:
    import json

    with open_store(new_url()) as store:
        store.append_turn("s", [{"role": "user", "content": "hi"}],
                          archived=[{"id": "e1", "message": {"role": "tool", "tool_call_id": "c", "content": "old"}}])
        dump = tmp_path / "dump.jsonl"
        store.backup(str(dump))
    lines = dump.read_text().splitlines()
    old = []
    for line in lines:  # a dump written by schema version 3: archive rows without 'extra'
        item = json.loads(line)
        if item.get("table") == "archive":
            del item["row"]["extra"]
        old.append(json.dumps(item))
    legacy = tmp_path / "legacy.jsonl"
    legacy.write_text("\n".join(old) + "\n")
    with open_store(new_url()) as fresh:
        fresh.restore(str(legacy))
        assert [h.entry.id for h in fresh.list_archive("s")] == ["e1"] and fresh.check().ok
