"""An import killed midway leaves a consistent store and can simply be re-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from massgen_plugins.memory.sqlite import SQLiteMemoryStore, sqlite_url

LINES = 30_000
BATCH = 500


def test_killed_import_is_consistent_and_rerunnable(tmp_path: Path) -> None:
    source = tmp_path / "big.jsonl"
    with source.open("w") as handle:
        for i in range(LINES):
            handle.write(json.dumps({"text": f"imported memory {i} about topic {i % 97}",
                                     "user_id": f"user-{i % 5}", "metadata": {"i": i}}) + "\n")
    store_path = tmp_path / "import.db"
    command = [sys.executable, "-c", "from massgen_plugins.cli import main; main()", "memory", "import",
               str(source), "--store", sqlite_url(store_path), "--batch", str(BATCH)]
    partial = None
    for delay in (1.0, 0.6, 1.5, 0.3, 2.5, 4.0):
        store_path.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(f"{store_path}{suffix}").unlink(missing_ok=True)
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.01)
        if process.poll() is not None:
            continue  # finished before the kill: try a shorter run
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        with SQLiteMemoryStore(store_path) as store:
            report = store.check()
            assert report.ok, report.problems
            count = store.stats().memories
        if 0 < count < LINES:
            partial = count
            break
    assert partial is not None, "could not kill the import midway"
    assert partial % BATCH == 0, "every batch is committed whole or not at all"

    rerun = subprocess.run(command + ["--json"], capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["added"] == LINES - partial and report["duplicates"] == partial
    with SQLiteMemoryStore(store_path) as store:
        assert store.stats().memories == LINES
        assert store.check().ok

