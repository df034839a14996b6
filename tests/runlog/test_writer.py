"""RunLog: layout, meta.json, ordering under threads and asyncio, crash safety, resume."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest
from massgen_plugins.runlog.reader import read_jsonl, read_run
from massgen_plugins.runlog.writer import RunLog

from .conftest import Clock


def test_default_location_and_files(home):
    log = RunLog.create(title="hello", agents=[{"id": "a1", "model": "openai/gpt-4o-mini"}], team="t1")
    assert log.path.parent == home / "runs"
    assert log.run_id.startswith("run_") and log.path.name == log.run_id
    meta = json.loads((log.path / "meta.json").read_text())
    assert meta["status"] == "running" and meta["format"] == "massgen-plugins-run"
    log.event("note", agent="a1", message="hi")
    log.close()
    meta = json.loads((log.path / "meta.json").read_text())
    assert meta["status"] == "ok" and meta["events"] == 3 and meta["ended_at"]
    assert meta["event_counts"] == {"run_start": 1, "note": 1, "run_end": 1}
    events, skipped = read_jsonl(log.path / "events.jsonl")
    assert [e["type"] for e in events] == ["run_start", "note", "run_end"]
    assert all(e["team"] == "t1" and e["run_id"] == log.run_id for e in events)
    assert not skipped
    assert not [p for p in log.path.iterdir() if p.name.endswith(".tmp")]


def test_envelope_is_monotonic_with_a_pinned_clock(tmp_path):
    clock = Clock()
    log = RunLog.create(tmp_path / "r", clock=clock)
    clock.tick(1.5)
    event = log.event("note", message="later")
    assert event["elapsed_ms"] == 1500.0
    assert event["ts"].endswith("Z") and event["seq"] == 1
    log.close()


def test_context_manager_records_failure(tmp_path):
    with pytest.raises(RuntimeError):
        with RunLog.create(tmp_path / "r") as log:
            raise RuntimeError("exploded")
    run = read_run(tmp_path / "r")
    assert run.status == "failed"
    assert run.events[-1]["error"] == "RuntimeError: exploded"
    assert json.loads((tmp_path / "r" / "meta.json").read_text())["status"] == "failed"
    with pytest.raises(RuntimeError, match="closed"):
        log.event("note", message="too late")


def test_threads_share_one_log_without_losing_or_mixing_lines(tmp_path):
    log = RunLog.create(tmp_path / "r")

    def worker(n: int) -> None:
        for i in range(200):
            log.event("note", agent=f"t{n}", message=f"{n}:{i} " + "x" * (i % 50))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    events, skipped = read_jsonl(tmp_path / "r" / "events.jsonl")
    assert not skipped
    assert [e["seq"] for e in events] == list(range(len(events))) == list(range(1 + 1600 + 1))
    for n in range(8):
        mine = [int(e["message"].split(":")[1].split()[0]) for e in events if e.get("agent") == f"t{n}"]
        assert mine == list(range(200))  # each thread's order is kept


def test_asyncio_tasks_share_one_log(tmp_path):
    log = RunLog.create(tmp_path / "r")

    async def agent(name: str) -> None:
        for i in range(50):
            log.event("call_start", agent=name, call_id=f"{name}-{i}", model="openai/gpt-4o-mini")
            await asyncio.sleep(0)
            log.event("call_end", agent=name, call_id=f"{name}-{i}", model="openai/gpt-4o-mini", latency_ms=1.0)

    async def main() -> None:
        async with log:
            await asyncio.gather(*(agent(f"a{n}") for n in range(5)))

    asyncio.run(main())
    run = read_run(tmp_path / "r")
    assert run.status == "ok"
    assert len([e for e in run.events if e["type"] == "call_end"]) == 250
    assert [e["seq"] for e in run.events] == list(range(len(run.events)))


CRASHER = textwrap.dedent(
    """
    import os, signal, sys
    from massgen_plugins.runlog.writer import RunLog
    log = RunLog.create(sys.argv[1])
    for i in range(25):
        log.event("note", message=f"event {i}")
    # simulate dying in the middle of a write: half a line, then SIGKILL
    os.write(log._fd, b'{"type":"note","seq":26,"message":"half')
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_kill_9_mid_write_leaves_a_torn_line_that_is_skipped_and_resume_continues(tmp_path):
    run_dir = tmp_path / "crashed"
    proc = subprocess.run([sys.executable, "-c", CRASHER, str(run_dir)], capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    assert not (run_dir / "events.jsonl").read_bytes().endswith(b"\n")

    run = read_run(run_dir)
    assert len(run.events) == 26  # run_start + 25 notes: every acknowledged event survived
    assert run.status == "incomplete"
    assert len(run.skipped) == 1 and run.skipped[0].last and "torn" in run.skipped[0].reason

    # another process resumes the run: the torn fragment stays one skipped line, seq continues
    log = RunLog.open(run_dir, note="resumed after kill -9")
    log.event("note", message="after resume")
    log.close()
    run = read_run(run_dir)
    assert [e["seq"] for e in run.events] == list(range(29))
    assert run.events[26]["type"] == "run_start" and run.events[26]["resumed"] is True
    assert run.events[26]["elapsed_ms"] >= run.events[25]["elapsed_ms"]
    assert run.status == "ok"
    assert len(run.skipped) == 1 and not run.skipped[0].last and "not JSON" in run.skipped[0].reason


def test_create_refuses_to_overwrite_and_open_needs_a_run(tmp_path):
    from massgen_plugins.errors import InputError

    RunLog.create(tmp_path / "r").close()
    with pytest.raises(InputError, match="RunLog.open"):
        RunLog.create(tmp_path / "r")
    with pytest.raises(InputError, match="not a massgen-plugins run directory"):
        RunLog.open(tmp_path / "nothing")


def test_fsync_mode_and_meta_updates(tmp_path):
    log = RunLog.create(tmp_path / "r", fsync=True)
    log.update_meta(question="why?", agents=[{"id": "x"}])
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    assert meta["question"] == "why?" and meta["agents"] == [{"id": "x"}]
    log.close("interrupted")
    assert read_run(tmp_path / "r").status == "interrupted"
    assert os.stat(tmp_path / "r" / "events.jsonl").st_mode & 0o077 == 0  # private file


def test_event_timestamps_match_datetime_formatting_exactly():
    """The timestamp formatter caches the second's text; it must agree with
    ``datetime.fromtimestamp(...).isoformat(timespec="milliseconds")`` everywhere, including
    microsecond rounding that carries into the next second."""
    import random
    from datetime import datetime, timezone

    from massgen_plugins.runlog.writer import _iso

    def reference(epoch: float) -> str:
        return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    rng = random.Random(7)
    samples = [1_768_000_000 + rng.uniform(-1e8, 1e8) for _ in range(5000)]
    samples += [second + micros / 1e6 + 5e-7 for second in (1_768_000_000, 1_768_000_001)
                for micros in (999_999, 999_499, 0, 499, 500)]
    samples += [1_768_000_000.9999996, 1_768_000_000.0000004, 1_768_000_000.9995, 0.0, 1.5, -0.5, -1.0000004]
    for epoch in samples:
        assert _iso(epoch) == reference(epoch), epoch


def test_each_line_holds_what_the_event_model_dumps(tmp_path):
    """A line is the validated event serialized by its model: the same content as its JSON
    dump (None fields and empty ``data`` left out, tiny and huge floats, non-ASCII text kept),
    and ``event`` returns exactly the line; ``write`` writes the same without returning it."""
    from massgen_plugins.runlog.schema import validate_event

    log = RunLog.create(tmp_path / "r")
    returned = log.event("call_end", agent="a1", turn=2, call_id="c1", model="openai/gpt-4o-mini", attempt=1,
                         stream=False, outcome="ok", latency_ms=1e-07, ttft_ms=None,
                         usage={"input_tokens": 12, "output_tokens": 3}, finish_reason="stop")
    log.write("note", agent="a1", message="naïve café — 東京 \u2028 done", data={"big": 1e22, "none": None, "list": [1, None]})
    log.write("note", message="no data", data={})
    log.close()
    lines = (tmp_path / "r" / "events.jsonl").read_bytes().decode("utf-8").split("\n")[:-1]  # U+2028 is not a line end
    events = [json.loads(line) for line in lines]
    assert events[1] == returned
    for event in events:
        expected = validate_event(event)
        if not expected.get("data"):
            expected.pop("data", None)
        assert event == expected
    assert "ttft_ms" not in events[1] and events[1]["latency_ms"] == 1e-07
    assert events[2]["message"] == "naïve café — 東京 \u2028 done"
    assert events[2]["data"] == {"big": 1e22, "none": None, "list": [1, None]}
    assert "data" not in events[3] and [e["seq"] for e in events] == [0, 1, 2, 3, 4]


def test_write_goes_through_an_overridden_event(tmp_path):
    """A subclass that observes events by overriding ``event`` sees what ``write`` records."""
    seen = []

    class Observed(RunLog):
        def event(self, type, **fields):
            written = super().event(type, **fields)
            seen.append(written)
            return written

    log = Observed.create(tmp_path / "r")
    log.write("note", message="through event")
    log.close()
    assert [e["type"] for e in seen] == ["run_start", "note", "run_end"] and seen[1]["message"] == "through event"
