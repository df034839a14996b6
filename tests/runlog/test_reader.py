"""Reading run directories: ours, MassGen's (the sample written from its documented layout),
torn lines, bad input."""

from __future__ import annotations

import pytest
from massgen_plugins.errors import InputError
from massgen_plugins.runlog.reader import detect_format, read_jsonl, read_run

from .conftest import MASSGEN_SAMPLE, OUR_SAMPLE


def test_our_sample():
    run = read_run(OUR_SAMPLE)
    assert run.source == "massgen-plugins" and run.status == "ok"
    assert run.run_id == "run_20260110_150000_a1b2c3"
    assert [e["seq"] for e in run.events] == list(range(len(run.events)))
    assert run.meta["title"].startswith("Compare three vector databases")


def test_massgen_sample_from_the_documented_layout():
    run = read_run(MASSGEN_SAMPLE)
    assert run.source == "massgen" and detect_format(MASSGEN_SAMPLE) == "massgen"
    assert run.status == "recovered"  # status.json says completed, after an error and a restart
    types = [e["type"] for e in run.events]
    # rounds become call_end events with the agent's model and usage
    rounds = [e for e in run.events if e["type"] == "call_end"]
    assert len(rounds) == 7
    assert {e["model"] for e in rounds} == {"openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"}
    assert sum(e["usage"]["input_tokens"] for e in rounds) == 18_400 + 16_200 + 41_000 + 19_800 + 44_100 + 45_000
    assert [e for e in rounds if e["outcome"] == "error"][0]["agent"] == "agent_b"
    # tools from metrics_events.json (not double-counted from events.jsonl), compression from compression_debug
    assert types.count("tool_call") == 3
    comp = [e for e in run.events if e["type"] == "compression"]
    assert len(comp) == 1 and comp[0]["tokens_before"] > comp[0]["tokens_after"] > 0
    assert comp[0]["skipped"][0]["stage"] == "summarize"
    # chatter is counted, not copied; the error, restart and votes keep their meaning
    assert "text" not in types and run.meta["massgen"]["chatter_events"] == {"text": 1}
    assert any(e["type"] == "error" and "maximum context length" in e["message"] for e in run.events)
    assert any(e["type"] == "note" and "restarted" in e["message"] for e in run.events)
    assert run.meta["massgen"]["winner"] == "agent_b" and run.meta["massgen"]["attempts"] == 2
    # time-ordered with a common envelope
    assert [e["seq"] for e in run.events] == list(range(len(run.events)))
    assert all(e["elapsed_ms"] >= 0 for e in run.events)
    assert [e["ts"] for e in run.events] == sorted(e["ts"] for e in run.events)
    # the torn last line of attempt_2/events.jsonl is skipped and reported
    assert len(run.skipped) == 1 and run.skipped[0].last
    assert run.skipped[0].file.endswith("attempt_2/events.jsonl")


def test_massgen_turn_and_attempt_directories_can_be_given_directly():
    turn = read_run(MASSGEN_SAMPLE / "turn_1")
    attempt = read_run(MASSGEN_SAMPLE / "turn_1" / "attempt_2")
    assert len(turn.events) == len(read_run(MASSGEN_SAMPLE).events)
    assert 0 < len(attempt.events) < len(turn.events)
    assert attempt.meta["massgen"]["winner"] == "agent_b"


def test_torn_and_corrupt_lines(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"type":"note","seq":0}\nnot json\n[1,2]\n\n{"type":"note","seq":1}\n{"type":"no')
    events, skipped = read_jsonl(path)
    assert [e["seq"] for e in events] == [0, 1]
    assert [(s.line, s.last) for s in skipped] == [(2, False), (3, False), (6, True)]
    assert "torn" in skipped[-1].reason and "not a JSON object" in skipped[1].reason


def test_not_a_run_directory(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_run(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="is not a run directory"):
        read_run(tmp_path / "empty")
