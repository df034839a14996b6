"""Atomic replacement: a process killed while writing leaves the old file whole; planted symlinks
are never written through."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time

import pytest
from massgen_plugins.atomicfile import atomic_write_text

WRITER = """
import sys
from massgen_plugins.atomicfile import atomic_write_text
print("start", flush=True)
atomic_write_text(sys.argv[1], "x" * (128 * 1024 * 1024))
print("done", flush=True)
"""


@pytest.mark.slow
def test_sigkill_mid_write_leaves_the_old_file_whole(tmp_path):
    target = tmp_path / "out.json"
    target.write_text('{"old": true}\n')
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "start"
    partial = []
    while process.poll() is None and not partial:  # kill as soon as the temporary file holds data
        partial = [p for p in tmp_path.iterdir() if p.name != "out.json" and p.stat().st_size > 0]
        time.sleep(0.001)
    assert partial, "the writer finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert target.read_text() == '{"old": true}\n'
    assert not (tmp_path / "out.json.tmp").exists()
    leftover = [p.name for p in tmp_path.iterdir() if p.name != "out.json"]
    assert all(name.startswith(".out.json.") and name.endswith(".tmp") for name in leftover), leftover


def test_a_symlink_planted_at_the_old_fixed_temp_name_is_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "out.json.tmp").symlink_to(victim)
    atomic_write_text(tmp_path / "out.json", "new")
    assert victim.read_text() == "precious"
    assert (tmp_path / "out.json").read_text() == "new"


def test_a_symlink_at_the_target_is_replaced_not_written_through(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "out.json").symlink_to(victim)
    atomic_write_text(tmp_path / "out.json", "new")
    assert victim.read_text() == "precious"
    assert not (tmp_path / "out.json").is_symlink() and (tmp_path / "out.json").read_text() == "new"


def test_new_files_are_private_and_existing_ones_keep_their_mode(tmp_path):
    fresh = tmp_path / "fresh.json"
    atomic_write_text(fresh, "a")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    shared = tmp_path / "shared.json"
    shared.write_text("old")
    shared.chmod(0o644)
    atomic_write_text(shared, "b")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o644 and shared.read_text() == "b"


def test_an_unwritable_directory_raises_and_leaves_nothing(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "out.json").write_text("old")
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: directory permissions are not enforced")
        with pytest.raises(PermissionError):
            atomic_write_text(locked / "out.json", "new")
        assert (locked / "out.json").read_text() == "old"
        assert sorted(p.name for p in locked.iterdir()) == ["out.json"]
    finally:
        locked.chmod(0o700)
