"""Fixtures of the explorer tests: the demo's real run (made once per module, by the real
``massgen-plugins demo`` in a subprocess) and an explorer served on a free port."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "examples" / "run_logs"


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """A run directory written by ``massgen-plugins demo`` (emulator, real SDKs, memory.db)."""
    base = tmp_path_factory.mktemp("demo")
    run_dir = base / "runs" / "demo-run"
    env = {**os.environ, "MASSGEN_PLUGINS_HOME": str(base / "home")}
    proc = subprocess.run([sys.executable, "-m", "massgen_plugins", "demo", "--run-dir", str(run_dir)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return run_dir


@pytest.fixture
def runs_dir(tmp_path, demo_run) -> Path:
    """A runs directory holding a copy of the demo's run and the sample runs (ours and MassGen's)."""
    target = tmp_path / "runs"
    target.mkdir()
    shutil.copytree(demo_run, target / demo_run.name)
    shutil.copytree(SAMPLES / "run_20260110_150000_a1b2c3", target / "run_20260110_150000_a1b2c3")
    shutil.copytree(SAMPLES / "massgen" / "log_20260110_143052_123456", target / "log_20260110_143052_123456")
    return target


@pytest.fixture
def serve_explorer():
    """``serve_explorer(run_dirs, stores=()) -> base URL``; servers stop after the test."""
    from massgen_plugins.explorer.app import create_app
    from massgen_plugins.web import BackgroundServer

    servers: list[BackgroundServer] = []

    def start(run_dirs, stores=()) -> str:
        server = BackgroundServer(create_app(run_dirs, stores, cache_file=False)).start()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()
