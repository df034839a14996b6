"""Four processes write to one SQLite store at once: nothing lost, nothing duplicated."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from massgen_plugins.memory import sqlite_schema
from massgen_plugins.memory.records import Scope
from massgen_plugins.memory.sqlite import SQLiteMemoryStore

WRITER = Path(__file__).with_name("concurrent_writer.py")
WORKERS = 4


def _constants() -> tuple[int, int, int]:
    namespace: dict[str, object] = {}
    source = WRITER.read_text()
    for name in ("UNIQUE", "SHARED", "TURNS"):
        line = next(line for line in source.splitlines() if line.startswith(f"{name} ="))
        exec(line, namespace)
    return namespace["UNIQUE"], namespace["SHARED"], namespace["TURNS"]  # type: ignore[return-value]


def test_four_writers_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    unique, shared, turns = _constants()
    path = tmp_path / "shared.db"  # not created yet: the workers race to create and migrate it
    go = tmp_path / "go"
    workers = [subprocess.Popen([sys.executable, str(WRITER), str(path), str(n), str(go)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n in range(WORKERS)]
    for worker in workers:
        assert worker.stdout is not None
        line = worker.stdout.readline()
        assert line == b"ready\n", worker.stderr.read().decode() if worker.stderr else line
    go.write_text("go")
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err.decode()
        assert out == b"done\n"

    with SQLiteMemoryStore(path) as store:
        assert store.check().ok
        assert store.schema_version == sqlite_schema.LATEST  # migrated once, to the newest schema
        team = Scope(team="run-1")
        texts = [r.text for r in store.iter_records(team)]
        assert len(texts) == len(set(texts)), "no duplicates"
        assert len(texts) == WORKERS * unique + shared + WORKERS * 200 + 50
        for n in range(WORKERS):
            mine = {r.text for r in store.iter_records(Scope(agent=f"agent-{n}"))}
            assert mine == {f"worker {n} observation {i}" for i in range(unique)}
            own = store.load_session(f"own-{n}")
            assert own is not None and own.turn == turns
            assert [m.content for m in own.messages] == [f"w{n} turn {i + 1}" for i in range(turns)]
        shared_session = store.load_session("shared")
        assert shared_session is not None and shared_session.turn == WORKERS * turns
        contents = [m.content for m in shared_session.messages]
        assert sorted(contents) == sorted(f"w{n} shared {i}" for n in range(WORKERS) for i in range(turns))
        for n in range(WORKERS):  # each worker's turns kept their relative order
            mine = [c for c in contents if c.startswith(f"w{n} ")]
            assert mine == [f"w{n} shared {i}" for i in range(turns)]
