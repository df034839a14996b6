"""``massgen-plugins memory ...`` end to end, through the real console entry point in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from massgen_plugins.cli import cli
from massgen_plugins.memory.sqlite import SQLiteMemoryStore, sqlite_url
from massgen_plugins.memory.store import Scope


@pytest.fixture
def url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path / "cli.db")


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_add_search_list_show_stats(url: str) -> None:
    assert run("memory", "add", "Alice drinks green tea", "--user", "alice", "--store", url)[0] == 0
    code, out, _ = run("memory", "add", "alice drinks GREEN tea", "--user", "alice", "--store", url, "--json")
    assert code == 0 and json.loads(out)["created"] is False
    run("memory", "add", "Bob drinks coffee", "--user", "bob", "--store", url)
    code, out, _ = run("memory", "search", "drinks", "--user", "alice", "--store", url, "--json")
    results = json.loads(out)
    assert code == 0 and [h["record"]["text"] for h in results["hits"]] == ["Alice drinks green tea"]
    code, out, _ = run("memory", "list", "--store", url, "--json")
    assert {r["text"] for r in json.loads(out)} == {"Alice drinks green tea", "Bob drinks coffee"}
    memory_id = results["hits"][0]["record"]["id"]
    code, out, _ = run("memory", "show", memory_id, "--store", url)
    assert code == 0 and "Alice drinks green tea" in out
    code, out, _ = run("memory", "stats", "--store", url, "--json")
    assert json.loads(out)["memories"] == 2 and json.loads(out)["by_level"] == {"user": 2}
    code, out, _ = run("memory", "stats", "--store", url)
    assert code == 0 and "schema version" in out


def test_sessions_are_listed_and_shown(url: str, tmp_path: Path) -> None:
    with SQLiteMemoryStore(tmp_path / "cli.db") as store:
        store.append_turn("run-42", [{"role": "user", "content": "plan the migration"}],
                          scope=Scope(user="alice"), archived=[{"id": "x", "message": {"role": "user", "content": "old"}}])
    code, out, _ = run("memory", "list", "--sessions", "--user", "alice", "--store", url, "--json")
    assert code == 0 and [s["session_id"] for s in json.loads(out)] == ["run-42"]
    code, out, _ = run("memory", "show", "run-42", "--store", url, "--json")
    data = json.loads(out)
    assert data["turn"] == 1 and data["archive"][0]["id"] == "x"
    code, out, _ = run("memory", "show", "run-42", "--store", url)
    assert "plan the migration" in out


def test_export_import_gc_check_backup_restore(url: str, tmp_path: Path) -> None:
    source = tmp_path / "mem0.jsonl"
    source.write_text("\n".join(json.dumps(line) for line in [
        {"text": "Alice is vegetarian", "user_id": "alice"},
        {"text": "Writer agent prefers bullet lists", "agent_id": "writer", "run_id": "r1", "metadata": {"x": 1}},
    ]) + "\n")
    code, out, _ = run("memory", "import", str(source), "--store", url, "--json")
    assert code == 0 and json.loads(out)["added"] == 2
    code, out, _ = run("memory", "import", str(source), "--store", url)
    assert code == 0 and "added 0, already stored 2" in out
    exported = tmp_path / "out.jsonl"
    assert run("memory", "export", str(exported), "--store", url, "--agent", "writer")[0] == 0
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    assert [(line["text"], line["run_id"]) for line in lines] == [("Writer agent prefers bullet lists", "r1")]
    code, out, _ = run("memory", "gc", "--store", url, "--dry-run", "--json")
    assert code == 0 and json.loads(out)["dry_run"] is True
    code, out, _ = run("memory", "check", "--store", url)
    assert code == 0 and "ok" in out
    backup = tmp_path / "b.db"
    assert run("memory", "backup", str(backup), "--store", url)[0] == 0
    run("memory", "add", "added after the backup", "--store", url)
    code, out, _ = run("memory", "restore", str(backup), "--store", url)
    assert code == 0 and "kept at" in out
    code, out, _ = run("memory", "list", "--store", url, "--json")
    assert "added after the backup" not in {r["text"] for r in json.loads(out)}


def test_bad_input_exits_2_with_one_line(url: str, tmp_path: Path) -> None:
    for args in (["memory", "show", "missing", "--store", url],
                 ["memory", "import", str(tmp_path / "none.jsonl"), "--store", url],
                 ["memory", "list", "--store", "sqlite:///x.db?nonsense=1"],
                 ["memory", "list", "--store", url, "--user", "bad\x01id"],
                 ["memory", "add", "x", "--ttl", "soon", "--store", url]):
        code, out, err = run(*args)
        assert code == 2, (args, out, err)
        assert err.startswith("Error: ") and err.count("\n") == 1 and "Traceback" not in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{broken\n")
    code, _, err = run("memory", "import", str(bad), "--store", url, "--strict")
    assert code == 2 and "line 1" in err


def test_a_corrupted_store_is_a_clear_error_and_can_be_restored(url: str, tmp_path: Path) -> None:
    run("memory", "add", "precious memory", "--store", url)
    backup = tmp_path / "b.db"
    run("memory", "backup", str(backup), "--store", url)
    path = tmp_path / "cli.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(b"\x00" * 16 + path.read_bytes()[16:])
    code, _, err = run("memory", "list", "--store", url)
    assert code == 1 and "is damaged" in err and "memory restore" in err and "Traceback" not in err
    code, out, _ = run("memory", "restore", str(backup), "--store", url)
    assert code == 0, out
    aside = out.split("kept at ")[1].strip()
    assert Path(aside).exists(), "nothing stored is lost: the damaged file is kept"
    code, out, _ = run("memory", "list", "--store", url, "--json")
    assert [r["text"] for r in json.loads(out)] == ["precious memory"]


def test_check_reports_damage_with_exit_1(url: str, tmp_path: Path) -> None:
    path = tmp_path / "cli.db"
    with SQLiteMemoryStore(path) as store:
        store.add("the code word is pelican", scope=Scope(user="alice"))
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path.write_bytes(path.read_bytes().replace(b"pelican", b"penguin"))
    code, out, err = run("memory", "check", "--store", url)
    assert code == 1 and "DAMAGED" in out and "checksum mismatch" in out and "restore" in err
    code, out, _ = run("memory", "check", "--store", url, "--json")
    assert code == 1 and json.loads(out)["ok"] is False
