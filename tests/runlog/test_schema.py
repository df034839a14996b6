"""The event schema: every type validates, bad events are rejected with a clear message."""

from __future__ import annotations

import json

import pytest
from massgen_plugins.runlog.schema import EVENT_MODELS, SCHEMA_VERSION, EventSchemaError, schema_table, validate_event
from massgen_plugins.runlog.writer import RunLog

from .conftest import OUR_SAMPLE, Clock

ENVELOPE = {"seq": 0, "ts": "2026-01-10T15:00:00.000Z", "elapsed_ms": 0.0, "run_id": "r"}

# one valid example per event type (fields beyond the envelope)
EXAMPLES = {
    "run_start": {"title": "t", "agents": [{"id": "a", "model": "openai/gpt-4o-mini"}], "pid": 1},
    "run_end": {"status": "failed", "duration_ms": 12.5, "error": "boom"},
    "call_start": {"call_id": "c1", "model": "openai/gpt-4o-mini", "attempt": 2, "stream": True, "input_tokens": 10},
    "call_end": {"call_id": "c1", "model": "openai/gpt-4o-mini", "latency_ms": 5.0, "outcome": "error",
                 "usage": {"input_tokens": 1, "output_tokens": 2}, "error_kind": "rate_limit"},
    "overflow": {"mode": "reactive", "model": "openai/gpt-4o-mini", "limit": 8192, "requested": 9000, "counted": 8100},
    "compression": {"stage": "summarize", "tokens_before": 9000, "tokens_after": 3000, "duration_ms": 40.0,
                    "archived_ids": ["m1", "m2"], "skipped": [{"stage": "native", "reason": "not an OpenAI model"}]},
    "retry": {"model": "anthropic/claude-haiku-4-5", "attempt": 1, "kind": "overloaded", "delay_s": 0.5, "status": 529},
    "fallback": {"from_model": "anthropic/claude-haiku-4-5", "to_model": "openai/gpt-4o-mini", "why": "overloaded"},
    "memory_read": {"scope": "agent", "query": "q", "hits": 3},
    "memory_write": {"scope": "session", "kind": "archive", "ids": ["m1"], "count": 1},
    "tool_call": {"tool": "search", "duration_ms": 3.0, "outcome": "error", "error": "timeout"},
    "error": {"kind": "server_error", "message": "500", "fatal": True},
    "note": {"message": "hello"},
    "plugin_skipped": {"hook": "detect_overflow", "plugin": "slowpoke", "status": "timeout",
                       "reason": "no answer within 5 s", "seconds": 5.0},
}


def test_every_event_type_has_an_example_and_validates():
    assert set(EXAMPLES) == set(EVENT_MODELS)
    for kind, fields in EXAMPLES.items():
        event = validate_event({"type": kind, **ENVELOPE, "agent": "a", "team": "t", "turn": 1, **fields})
        assert event["type"] == kind
        assert event["schema_version"] == SCHEMA_VERSION
        json.dumps(event)  # JSON-able


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_unknown_fields_are_rejected(kind):
    with pytest.raises(EventSchemaError, match="bogus_field"):
        validate_event({"type": kind, **ENVELOPE, **EXAMPLES[kind], "bogus_field": 1})


def test_unknown_type_and_missing_fields_are_rejected():
    with pytest.raises(EventSchemaError, match="unknown run-log event type 'callend'"):
        validate_event({"type": "callend", **ENVELOPE})
    with pytest.raises(EventSchemaError, match="latency_ms"):
        validate_event({"type": "call_end", **ENVELOPE, "call_id": "c", "model": "m"})
    with pytest.raises(EventSchemaError, match="mode"):
        validate_event({"type": "overflow", **ENVELOPE, "model": "m", "mode": "sometimes"})
    with pytest.raises(EventSchemaError, match="tokens_before"):
        validate_event({"type": "compression", **ENVELOPE, "stage": "mask", "tokens_before": -1, "tokens_after": 0})


def test_writer_rejects_invalid_events_without_writing(tmp_path):
    log = RunLog.create(tmp_path / "run", clock=Clock())
    size = log.events_path.stat().st_size
    with pytest.raises(EventSchemaError):
        log.event("retry", model="m", attempt=0, kind="rate_limit", delay_s=1)
    assert log.events_path.stat().st_size == size
    log.event("retry", model="m", attempt=1, kind="rate_limit", delay_s=1)  # seq not consumed by the failure
    log.close()
    seqs = [json.loads(line)["seq"] for line in log.events_path.read_text().splitlines()]
    assert seqs == list(range(len(seqs)))


def test_the_sample_run_validates_line_by_line():
    lines = (OUR_SAMPLE / "events.jsonl").read_text().splitlines()
    types = set()
    for line in lines:
        event = json.loads(line)
        assert validate_event(event)["seq"] == event["seq"]
        types.add(event["type"])
    assert {"call_start", "call_end", "overflow", "compression", "retry", "fallback", "memory_read",
            "memory_write", "error", "run_start", "run_end"} <= types


def test_schema_table_documents_every_type():
    rows = schema_table()
    assert {r[0] for r in rows} == set(EVENT_MODELS)
    assert ("call_end", "latency_ms", "float", "") in [(a, b, c, "") for a, b, c, _ in rows]


def test_docs_table_covers_every_event_and_field():
    from .conftest import ROOT

    docs = (ROOT / "docs" / "logs.md").read_text()
    section = docs[docs.index("### Event types"):docs.index("## Writing a run log")]
    for kind, model in EVENT_MODELS.items():
        assert f"`{kind}`" in section, kind
        for field in model.model_fields:
            assert f"`{field}`" in docs, f"{kind}.{field} is not documented in docs/logs.md"
