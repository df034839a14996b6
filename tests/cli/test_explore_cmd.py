"""``massgen-plugins explore``: serves the explorer until Ctrl-C (a real subprocess), bad input is
one line and exit code 2."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from click.testing import CliRunner
from massgen_plugins.cli import cli

SAMPLES = Path(__file__).resolve().parents[2] / "examples" / "run_logs"


def test_serves_until_ctrl_c(tmp_path):
    env = {**os.environ, "MASSGEN_PLUGINS_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen([sys.executable, "-m", "massgen_plugins", "explore", "--runs-dir", str(SAMPLES),
                             "--runs-dir", str(SAMPLES / "massgen"), "--port", "0", "--no-browser"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.startswith("explorer: http://127.0.0.1:"), line + proc.stderr.read()
        url = line.split()[1]
        for _ in range(300):  # the socket opens right after the line is printed
            try:
                runs = httpx.get(url + "api/runs", timeout=30).json()
                break
            except httpx.ConnectError:
                import time

                time.sleep(0.1)
        assert {r["id"] for r in runs["runs"]} == {"run_20260110_150000_a1b2c3", "log_20260110_143052_123456"}
        assert httpx.get(url, timeout=30).text.startswith("<!DOCTYPE html>")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    assert proc.returncode == 0, proc.stderr.read()


def test_a_missing_runs_dir_is_one_line_exit_2(tmp_path):
    result = CliRunner().invoke(cli, ["explore", "--runs-dir", str(tmp_path / "nope"), "--no-browser"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "does not exist" in lines[0]


def test_help_names_the_options():
    result = CliRunner().invoke(cli, ["explore", "--help"])
    assert result.exit_code == 0
    for option in ("--runs-dir", "--store", "--host", "--port", "--no-browser"):
        assert option in result.output
