"""Honest run status: a run ended by Ctrl-C is ``interrupted``, one ended by an exception is
``failed`` (meta.json, run_end and ``logs list``), in real subprocesses; run ids never escape the
runs directory; reports are private files."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from massgen_plugins.cli import cli
from massgen_plugins.errors import InputError
from massgen_plugins.runlog import RunLog, read_run

from .conftest import MASSGEN_SAMPLE

# A guarded session against the emulator, stuck in a provider call that hangs, until SIGINT.
HANGING_SESSION = """
import asyncio, os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # a shell may start background jobs with SIGINT ignored
from massgen_plugins import Session
from massgen_plugins.testing import Emulator, Fault

async def main(run_dir):
    async with Session("openai/gpt-4o-mini", memory=False, run_log=run_dir) as session:
        print("ready", flush=True)
        await session.send("hello")

with Emulator() as emulator:
    os.environ.update(emulator.env())
    emulator.inject(Fault(kind="hang", provider="openai", seconds=120))
    asyncio.run(main(sys.argv[1]))
"""


def _python(code: str, *args: str, env: dict[str, str] | None = None, **kw):
    full_env = {**os.environ, **(env or {})}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=full_env, **kw)


def _last_run_end(run_dir: Path) -> dict:
    ends = [e for e in read_run(run_dir).events if e["type"] == "run_end"]
    assert ends, "no run_end event"
    return ends[-1]


def _listed_status(run_dir: Path, home: Path) -> str:
    result = CliRunner().invoke(cli, ["logs", "list", "--json", "--dir", str(run_dir.parent)],
                                env={"MASSGEN_PLUGINS_HOME": str(home)})
    assert result.exit_code == 0, result.output
    return next(r["status"] for r in json.loads(result.output) if Path(r["path"]) == run_dir)


@pytest.mark.plugins("openai")
def test_ctrl_c_during_a_call_marks_the_session_run_interrupted(tmp_path, home):
    run_dir = tmp_path / "runs" / "sigint"
    proc = _python(HANGING_SESSION, str(run_dir), env={"MASSGEN_PLUGINS_HOME": str(home)})
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
    # the call is in flight once call_start is written
    deadline = time.monotonic() + 60
    while "call_start" not in (run_dir / "events.jsonl").read_text():
        assert time.monotonic() < deadline, "the session never started its call"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        # The first Ctrl-C cancels the call, but the provider SDK's cancelled request may keep
        # waiting on the hung connection; a user presses Ctrl-C again, which asyncio turns into
        # KeyboardInterrupt: the run must still end 'interrupted'.
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"the process ignored two SIGINTs: {proc.communicate()[1][-3000:]}")
    assert proc.returncode != 0
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["status"] == "interrupted"
    assert _last_run_end(run_dir)["status"] == "interrupted"
    assert read_run(run_dir).status == "interrupted"
    assert _listed_status(run_dir, home) == "interrupted"


@pytest.mark.plugins("openai")
def test_an_exception_marks_the_session_run_failed(tmp_path, home):
    run_dir = tmp_path / "runs" / "boom"
    code = """
    import asyncio, sys
    from massgen_plugins import Session

    async def main(run_dir):
        async with Session("openai/gpt-4o-mini", memory=False, run_log=run_dir):
            raise RuntimeError("the agent's tool crashed")

    asyncio.run(main(sys.argv[1]))
    """
    proc = _python(code, str(run_dir), env={"MASSGEN_PLUGINS_HOME": str(home)})
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "the agent's tool crashed" in err
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["status"] == "failed" and "RuntimeError" in meta["error"]
    end = _last_run_end(run_dir)
    assert end["status"] == "failed" and "the agent's tool crashed" in end["error"]
    assert _listed_status(run_dir, home) == "failed"


@pytest.mark.parametrize(("tail", "expected"), [
    ("raise ValueError('bad input file')", "failed"),
    ("os.kill(os.getpid(), signal.SIGINT); time.sleep(5)", "interrupted"),
    ("pass", "ok"),
])
def test_a_log_left_open_is_closed_at_exit_with_the_real_status(tmp_path, home, tail, expected):
    run_dir = tmp_path / "runs" / "open"
    code = f"""
    import os, signal, sys, time
    from massgen_plugins.runlog import RunLog
    log = RunLog.create(sys.argv[1], title="never closed")
    log.event("note", message="working")
    {tail}
    """
    proc = _python(code, str(run_dir))
    proc.communicate(timeout=60)
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["status"] == expected
    assert _last_run_end(run_dir)["status"] == expected


def test_run_log_context_statuses(tmp_path):
    with pytest.raises(KeyboardInterrupt), RunLog.create(tmp_path / "a"):
        raise KeyboardInterrupt
    assert json.loads((tmp_path / "a" / "meta.json").read_text())["status"] == "interrupted"
    with pytest.raises(SystemExit), RunLog.create(tmp_path / "b"):
        sys.exit(0)
    assert json.loads((tmp_path / "b" / "meta.json").read_text())["status"] == "ok"


@pytest.mark.parametrize("bad", ["../../x", "..", "a/b", ".hidden", "", "x" * 200, "a\\..\\b", "run\x00id"])
def test_run_ids_that_would_escape_the_runs_directory_are_refused(tmp_path, home, bad):
    before = set(tmp_path.rglob("*"))
    with pytest.raises(InputError, match="invalid run id"):
        RunLog.create(run_id=bad)
    assert set(tmp_path.rglob("*")) == before  # nothing written anywhere


def test_a_safe_run_id_goes_under_the_runs_directory(home):
    with RunLog.create(run_id="nightly-2026.01_a") as log:
        pass
    assert log.path == home / "runs" / "nightly-2026.01_a"


def test_massgen_run_with_error_and_restart_is_not_ok(home):
    run = read_run(MASSGEN_SAMPLE)
    assert run.status == "recovered"
    assert run.meta["status_detail"] == "completed after 1 error and 1 restart"
    result = CliRunner().invoke(cli, ["logs", "summary", str(MASSGEN_SAMPLE), "--json"])
    data = json.loads(result.output)
    assert data["summary"]["run"]["status"] == "recovered"
    assert any("recovered" in f["title"] for f in data["findings"])


def test_reports_are_private(tmp_path, home):
    from .conftest import OUR_SAMPLE

    md, page = tmp_path / "out" / "report.md", tmp_path / "out" / "report.html"
    old = os.umask(0o022)
    try:
        result = CliRunner().invoke(cli, ["logs", "analyze", str(OUR_SAMPLE), "--output", str(md), "--html", str(page)])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    for path in (md, page):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert not [p for p in md.parent.iterdir() if p.name.endswith(".tmp")]
