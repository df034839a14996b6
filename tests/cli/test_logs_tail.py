"""``massgen-plugins logs tail``: readable at 80 columns, follows a run written by another
process until it ends, bad input is one line with exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from click.testing import CliRunner
from massgen_plugins.cli import cli

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "run_logs" / "run_20260110_150000_a1b2c3"
MASSGEN = ROOT / "examples" / "run_logs" / "massgen" / "log_20260110_143052_123456"


def test_history_fits_80_columns_and_never_splits_ids():
    result = CliRunner().invoke(cli, ["logs", "tail", str(SAMPLE), "--no-follow", "-n", "200"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("run run_20260110_150000_a1b2c3 (ok)")
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    body = "\n".join(lines)
    for kind in ("compression", "overflow", "fallback", "retry", "call failed"):
        assert kind in body
    # a model id is never broken over two lines
    assert "anthropic/claude-haiku-4-5" in body and "openai/gpt-4o" in body
    assert not any(line.rstrip().endswith(("/", "-")) for line in lines)


def test_massgen_history_and_json_lines():
    result = CliRunner().invoke(cli, ["logs", "tail", str(MASSGEN), "--no-follow", "--json", "-n", "3"])
    assert result.exit_code == 0, result.output
    import json

    events = [json.loads(line) for line in result.output.splitlines()]
    assert len(events) == 3 and all("type" in e and "seq" in e for e in events)


def test_follows_a_run_written_by_another_process_until_it_ends(tmp_path):
    run_dir = tmp_path / "live"
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys, time
        from massgen_plugins.runlog import RunLog
        log = RunLog.create(sys.argv[1], agents=[{"id": "a1", "model": "openai/gpt-4o-mini"}])
        print("ready", flush=True)
        sys.stdin.readline()          # wait until the tail is following
        for i in range(3):
            log.event("retry", agent="a1", model="openai/gpt-4o-mini", attempt=i + 1, kind="rate_limit",
                      delay_s=0.1)
            time.sleep(0.2)
        log.event("fallback", agent="a1", from_model="openai/gpt-4o-mini",
                  to_model="anthropic/claude-haiku-4-5", why="retries_exhausted")
        log.close()
    """), str(run_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "ready"
    env = {**os.environ, "COLUMNS": "80"}
    tail = subprocess.Popen([sys.executable, "-m", "massgen_plugins", "logs", "tail", str(run_dir), "--interval", "0.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    first = tail.stdout.readline()
    assert first.startswith("run live (running)")
    writer.stdin.write("go\n")
    writer.stdin.flush()
    writer.wait(timeout=60)
    out, err = tail.communicate(timeout=60)  # exits by itself once the run has ended
    assert tail.returncode == 0, err
    assert out.count(" retry ") == 3
    assert "openai/gpt-4o-mini → anthropic/claude-haiku-4-5" in out
    assert out.rstrip().endswith("run live ended: ok")
    assert all(len(line) <= 80 for line in out.splitlines())


def test_not_a_run_is_one_line_exit_2(tmp_path):
    result = CliRunner().invoke(cli, ["logs", "tail", str(tmp_path)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "not a run directory" in lines[0]
