"""The deterministic analyzer: numbers, findings and the Markdown report, on the samples and on
hand-built runs; reached through the collected ``analyze_logs`` hook."""

from __future__ import annotations

import asyncio

import pytest
from massgen_plugins.manager import get_hooks
from massgen_plugins.runlog.analysis import find_issues, percentile, render_markdown, summarize_run
from massgen_plugins.runlog.pricing import model_facts
from massgen_plugins.runlog.reader import read_run
from massgen_plugins.runlog.writer import RunLog
from massgen_plugins.types import AnalysisRequest

from .conftest import MASSGEN_SAMPLE, OUR_SAMPLE, Clock


def _analyze(run):
    return summarize_run(run.events, run.meta, source=run.source, skipped_lines=len(run.skipped), status=run.status)


def test_percentiles_match_linear_interpolation():
    assert percentile([], 50) is None
    assert percentile([7], 99) == 7
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile(range(1, 101), 95) == pytest.approx(95.05)
    assert percentile([10, 1000], 90) == pytest.approx(901.0)


def test_sample_run_numbers():
    run = read_run(OUR_SAMPLE)
    s = _analyze(run)
    calls = [e for e in run.events if e["type"] == "call_end"]
    assert s["calls"]["total"] == len(calls) == 22
    assert s["tokens"]["input"] == sum(e["usage"]["input_tokens"] for e in calls)
    assert s["calls"]["failed_by_kind"] == {"overloaded": 3, "rate_limit": 1, "context_overflow": 1, "killed": 1}
    assert s["overflows"] == {"total": 6, "proactive": 5, "reactive": 1, "by_model": {"openai/gpt-4o-mini": 6}}
    comp = s["compressions"]
    assert comp["total"] == 6 and set(comp["by_stage"]) == {"mask", "native"}
    assert comp["tokens_saved"] == sum(e["tokens_before"] - e["tokens_after"] for e in run.events
                                       if e["type"] == "compression")
    assert comp["skipped_stages"] == {"mask": {"no old tool results larger than 2k tokens": 3}}
    assert s["retries"]["by_kind"] == {"rate_limit": 1, "overloaded": 2}
    assert s["retries"]["total_delay_s"] == pytest.approx(1.2 + 0.5 + 1.0)
    assert s["fallbacks"] == [{"from": "anthropic/claude-haiku-4-5", "to": "openai/gpt-4o-mini",
                               "why": "overloaded", "count": 1}]
    assert s["memory"]["reads"] == 2 and s["memory"]["writes"] == 7
    researcher = s["calls"]["by_agent"]["researcher"]
    assert researcher["calls"] == 12 and researcher["failed"] == 2
    lat = [e["latency_ms"] for e in calls if e["model"] == "openai/gpt-4o-mini"]
    assert s["latency_ms"]["by_model"]["openai/gpt-4o-mini"]["p95"] == round(percentile(lat, 95), 1)
    assert s["run"]["status"] == "ok" and s["run"]["agents"] == ["critic", "researcher", "writer"]


def test_cost_uses_registry_prices_and_degrades_when_unknown():
    run = read_run(OUR_SAMPLE)
    s = _analyze(run)
    facts = model_facts("openai/gpt-4o-mini")
    if not facts or facts.get("input_price_per_mtok") is None:
        pytest.skip("the model registry has no price for openai/gpt-4o-mini in this checkout")
    b = s["calls"]["by_model"]["openai/gpt-4o-mini"]
    expected = (b["input_tokens"] * facts["input_price_per_mtok"] + b["output_tokens"] * facts["output_price_per_mtok"]) / 1e6
    assert b["cost_usd"] == pytest.approx(expected, rel=1e-6)

    events = [dict(e) for e in run.events]
    for e in events:
        if e.get("model") == "gemini/gemini-2.5-flash":
            e["model"] = "madeup/model-x"
    s2 = summarize_run(events, run.meta)
    assert s2["calls"]["by_model"]["madeup/model-x"]["cost_usd"] is None
    assert s2["cost"]["unknown_price_models"] == ["madeup/model-x"] and s2["cost"]["complete"] is False
    titles = [f["title"] for f in find_issues(s2, events)]
    assert "cost is incomplete: no price known for madeup/model-x" in titles


def test_sample_findings():
    run = read_run(OUR_SAMPLE)
    s = _analyze(run)
    findings = find_issues(s, run.events)
    titles = [f["title"] for f in findings]
    assert any(t.startswith("agent researcher compressed 6 times in 10 turns: a larger-window model would avoid it")
               for t in titles), titles
    assert "1 overflow was caught only when the provider rejected the call" in titles
    assert "fell back from anthropic/claude-haiku-4-5 to openai/gpt-4o-mini (overloaded)" in titles
    assert any(t.startswith("3 retries (") for t in titles)
    severities = [f["severity"] for f in findings]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)
    md = render_markdown(s, findings)
    assert md.startswith("# Run report: run_20260110_150000_a1b2c3")
    assert "| openai/gpt-4o-mini | 13 | 2 |" in md and "## Compression" in md and "## Retries and fallbacks" in md


def test_failed_and_incomplete_runs(tmp_path):
    clock = Clock()
    log = RunLog.create(tmp_path / "f", clock=clock)
    log.event("error", kind="quota", message="insufficient_quota", model="openai/gpt-4o-mini", fatal=True)
    log.close("failed", error="quota exhausted on every fallback")
    run = read_run(tmp_path / "f")
    findings = find_issues(_analyze(run), run.events)
    assert findings[0]["severity"] == "error" and findings[0]["title"] == "the run failed"
    assert "quota exhausted" in findings[0]["detail"]
    assert any(f["title"] == "fatal quota error on openai/gpt-4o-mini" for f in findings)

    log = RunLog.create(tmp_path / "i", clock=clock)
    log.event("note", message="working")  # never closed
    assert read_run(tmp_path / "i").status == "running"  # its writer (this process) is alive
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    log.update_meta(pid=int(gone.stdout))  # as if written by a process that has since died: a crash
    run = read_run(tmp_path / "i")
    assert run.status == "incomplete"
    assert find_issues(_analyze(run), run.events)[0]["title"].startswith("the run has no end")


def test_massgen_sample_analysis():
    run = read_run(MASSGEN_SAMPLE)
    s = _analyze(run)
    assert s["run"]["source"] == "massgen" and s["massgen"]["winner"] == "agent_b"
    assert s["calls"]["total"] == 7 and s["calls"]["failed"] == 1
    assert s["massgen"]["totals"]["estimated_cost"] == 0.14883
    assert s["cost"]["usd"] == pytest.approx(0.15213, abs=1e-6)  # per-round costs of both attempts
    assert s["tools"]["failed"] == 1 and s["compressions"]["total"] == 1
    titles = [f["title"] for f in find_issues(s, run.events)]
    assert "orchestration restarted: 2 attempts over 1 turn" in titles
    assert "MassGen rounds ended badly: restarted ×1, error ×1" in titles
    assert "1 unreadable line skipped in events.jsonl" in titles


def test_through_the_collected_hook():
    run = read_run(OUR_SAMPLE)
    request = AnalysisRequest(run_dir=str(run.path), events=run.events,
                              meta={**run.meta, "source": run.source, "status": run.status})
    collected = asyncio.run(get_hooks().analyze_logs(request))
    by_name = {r.analyzer: (p, r) for p, r in collected.results}
    assert "deterministic" in by_name and "self-analysis" not in by_name  # no model: no LLM
    plugin, result = by_name["deterministic"]
    assert plugin.endswith("logs_deterministic")
    assert result.summary["compressions"]["total"] == 6 and result.findings and result.markdown
    # run_dir alone is enough
    bare = asyncio.run(get_hooks().analyze_logs(AnalysisRequest(run_dir=str(MASSGEN_SAMPLE))))
    assert {r.analyzer for r in bare.values} >= {"deterministic"}
    assert next(r for r in bare.values if r.analyzer == "deterministic").summary["run"]["source"] == "massgen"


async def test_python_api_inside_and_outside_an_event_loop():
    from massgen_plugins.runlog import analyze_run, analyze_run_sync

    outcome = await analyze_run(OUR_SAMPLE)
    assert outcome.deterministic is not None and outcome.self_analysis is None and outcome.errors == []
    assert outcome.markdown().startswith("# Run report:") and outcome.html().startswith("<!DOCTYPE html>")
    # the sync facade works even from inside a running loop (it uses a worker thread)
    again = analyze_run_sync(MASSGEN_SAMPLE)
    assert again.deterministic.summary["run"]["source"] == "massgen"
