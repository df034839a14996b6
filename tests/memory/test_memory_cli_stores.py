"""The memory CLI never creates a store by accident, says clearly what is wrong with a path or a
file, resolves id prefixes as git does, and stays quiet when its reader goes away."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from massgen_plugins.cli import cli
from massgen_plugins.memory import open_store
from massgen_plugins.memory.sqlite import sqlite_url
from massgen_plugins.memory.store import Scope

READ_COMMANDS = [["stats"], ["list"], ["list", "--sessions"], ["search", "tea"], ["show", "0661"], ["gc"], ["check"],
                 ["export", "-"]]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: " ".join(c))
def test_reading_a_missing_store_exits_2_and_creates_nothing(tmp_path: Path, command: list[str]) -> None:
    for target in (tmp_path / "typo.db", tmp_path / "no" / "such" / "dir" / "memory.db"):
        code, _, err = run("memory", *command, "--store", str(target))
        assert code == 2 and err.startswith("Error: no memory store at") and err.count("\n") == 1, err
        assert not target.exists() and not (tmp_path / "no").exists()
    code, _, err = run("memory", "backup", str(tmp_path / "b.db"), "--store", str(tmp_path / "typo.db"))
    assert code == 2 and "no memory store at" in err and not (tmp_path / "b.db").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_sqlite_tmp_x_never_means_dot_tmp_x_by_accident(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run("memory", "add", "hello", "--store", "sqlite:///tmp/x.db")
    assert code == 2 and "relative" in err and "sqlite:////tmp/x.db" in err, err
    assert not (tmp_path / "tmp").exists()
    code, _, err = run("memory", "stats", "--store", "sqlite:///tmp/x.db")
    assert code == 2 and not (tmp_path / "tmp").exists()
    # with ./tmp there, three slashes mean ./tmp/x.db, as in SQLAlchemy
    (tmp_path / "tmp").mkdir()
    assert run("memory", "add", "hello", "--store", "sqlite:///tmp/x.db")[0] == 0
    assert (tmp_path / "tmp" / "x.db").is_file()
    # a relative directory that could not be meant as absolute is created (private)
    assert run("memory", "add", "hello", "--store", "sqlite:///runs/memory.db")[0] == 0
    assert (tmp_path / "runs" / "memory.db").is_file()
    # the rule itself (SQLAlchemy's): three slashes relative, four absolute
    assert run("memory", "add", "hello", "--store", "sqlite:///here.db")[0] == 0
    assert (tmp_path / "here.db").is_file()
    absolute = tmp_path / "abs" / "there.db"
    assert run("memory", "add", "hello", "--store", f"sqlite:///{absolute}")[0] == 0  # "sqlite:////..."
    assert absolute.is_file()


def test_an_import_where_every_line_fails_exits_2(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "m.db")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"memory_text": "wrong key"}\nnot json\n')
    code, out, err = run("memory", "import", str(bad), "--store", url)
    assert code == 2 and "no line of" in err and "line 1" in err and "line 2" in err
    code, out, _ = run("memory", "import", str(bad), "--store", url, "--json")
    assert code == 2 and json.loads(out)["added"] == 0
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text('{"text": "good line"}\nnot json\n')
    code, out, _ = run("memory", "import", str(mixed), "--store", url)
    assert code == 0 and "added 1" in out


def test_write_errors_blame_the_destination(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "m.db")
    run("memory", "add", "hello", "--store", url)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code, _, err = run("memory", "backup", str(blocker / "backup.db"), "--store", url)
    assert code == 2 and err == f"Error: cannot write the backup to {blocker / 'backup.db'}: Not a directory\n"
    code, _, err = run("memory", "export", str(blocker / "out.jsonl"), "--store", url)
    assert code == 2 and err == f"Error: cannot write {blocker / 'out.jsonl'}: Not a directory\n"


def test_id_prefixes_resolve_like_git(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "m.db")
    with open_store(url) as store:
        first, _ = store.add("Alice drinks green tea", scope=Scope(user="alice"))
        second, _ = store.add("Bob drinks coffee", scope=Scope(user="bob"))
        store.append_turn("run-2026-a", [{"role": "user", "content": "plan"}])
    code, out, _ = run("memory", "show", first.id[:8], "--store", url, "--json")
    common = os.path.commonprefix([first.id, second.id])
    if len(common) < 8:
        assert code == 0 and json.loads(out)["id"] == first.id
    code, out, _ = run("memory", "show", first.id[: len(common) + 1], "--store", url, "--json")
    assert code == 0 and json.loads(out)["id"] == first.id
    code, _, err = run("memory", "show", common, "--store", url)
    assert code == 2 and "ambiguous" in err and first.id in err and second.id in err
    code, out, _ = run("memory", "show", "run-2026", "--store", url, "--json")
    assert code == 0 and json.loads(out)["session_id"] == "run-2026-a"
    code, out, _ = run("memory", "delete", second.id[: len(common) + 1], "--store", url)
    assert code == 0 and second.id in out
    code, _, err = run("memory", "show", "ffffffff", "--store", url)
    assert code == 2 and "no memory or session" in err


def test_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "m.db")
    with open_store(url) as store:
        store.add_many({"text": f"memory number {i} " + "padding " * 20} for i in range(5000))
    export = subprocess.Popen([sys.executable, "-m", "massgen_plugins", "memory", "export", "--store", url],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert export.stdout is not None and export.stderr is not None
    first = export.stdout.readline()
    export.stdout.close()  # what `| head -1` does
    err = export.stderr.read().decode()
    export.wait()
    assert json.loads(first)["text"].startswith("memory number")
    assert err == "" and export.returncode == 141
