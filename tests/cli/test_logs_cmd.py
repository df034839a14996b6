"""``massgen-plugins logs list|summary|analyze``: output, model selection and validation (each
--model failure is one clear line and exit code 2), outputs, failures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from massgen_plugins.cli import cli

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "run_logs" / "run_20260110_150000_a1b2c3"
MASSGEN = ROOT / "examples" / "run_logs" / "massgen" / "log_20260110_143052_123456"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def clean(monkeypatch, tmp_path):
    """A private home, no configured model, no MassGen base dir, registry memo cleared."""
    monkeypatch.setenv("MASSGEN_PLUGINS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MASSGEN_LOG_ANALYSIS_MODEL", raising=False)
    monkeypatch.delenv("MASSGEN_LOG_BASE_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    _clear_registry()
    yield tmp_path / "home"
    _clear_registry()


@pytest.fixture
def emulated(emulator_env, monkeypatch, tmp_path):
    monkeypatch.delenv("MASSGEN_LOG_ANALYSIS_MODEL", raising=False)
    monkeypatch.delenv("MASSGEN_LOG_BASE_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    _clear_registry()
    yield emulator_env
    _clear_registry()


def _clear_registry():
    try:
        from massgen_plugins.registry import clear_memo

        clear_memo()
    except ImportError:
        pass
    from massgen_plugins.runlog.pricing import clear_cache

    clear_cache()


def _one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


# --------------------------------------------------------------------------- --model validation


def test_model_bad_format(clean):
    line = _one_error_line(run("logs", "analyze", str(SAMPLE), "--model", "gpt-4o-mini"))
    assert "'gpt-4o-mini' is not of the form provider/model (for example openai/gpt-4o-mini)" in line


def test_model_unknown_provider(clean):
    line = _one_error_line(run("logs", "analyze", str(SAMPLE), "--model", "nosuch/some-model"))
    assert "unknown provider 'nosuch'" in line and "installed providers:" in line
    assert "pip install massgen-plugins-nosuch" in line


@pytest.mark.plugins("openai")
def test_model_unknown_model(emulated):
    line = _one_error_line(run("logs", "analyze", str(SAMPLE), "--model", "openai/gpt-4o-minii"))
    assert "unknown model 'openai/gpt-4o-minii'" in line
    assert "did you mean openai/gpt-4o-mini" in line
    assert "massgen-plugins models --provider openai" in line
    assert not [r for r in emulated.requests if "chat/completions" in r.path]  # nothing was analyzed


@pytest.mark.plugins("openai")
def test_model_unknown_without_a_key_is_still_an_unknown_model(clean, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    line = _one_error_line(run("logs", "analyze", str(SAMPLE), "--model", "openai/no-such-model-xyz"))
    assert "no-such-model-xyz" in line and "massgen-plugins models --provider openai" in line


@pytest.mark.plugins("openai", "anthropic", "gemini")
def test_model_missing_key(clean, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    line = _one_error_line(run("logs", "analyze", str(SAMPLE), "--model", "openai/gpt-4o-mini"))
    assert "no API key for provider 'openai': set OPENAI_API_KEY" in line
    assert "export OPENAI_API_KEY=" in line and "openai/gpt-4o-mini" in line


def test_model_from_the_environment_is_validated_and_named(clean, monkeypatch):
    monkeypatch.setenv("MASSGEN_LOG_ANALYSIS_MODEL", "not-a-model")
    line = _one_error_line(run("logs", "analyze", str(SAMPLE)))
    assert "is not of the form provider/model" in line and "(from $MASSGEN_LOG_ANALYSIS_MODEL)" in line
    # --no-model ignores it; --model and --no-model together are a usage error
    assert run("logs", "analyze", str(SAMPLE), "--no-model").exit_code == 0
    line = _one_error_line(run("logs", "analyze", str(SAMPLE), "--model", "openai/x", "--no-model"))
    assert "contradict" in line


def test_model_from_the_config_file(clean):
    clean.mkdir(parents=True)
    config = clean / "config.toml"
    config.write_text('[logs]\nanalysis_model = "nosuch/model"\n')
    line = _one_error_line(run("logs", "analyze", str(SAMPLE)))
    assert "unknown provider 'nosuch'" in line and f"(from {config})" in line
    config.write_text("[logs\nanalysis_model = ")
    line = _one_error_line(run("logs", "analyze", str(SAMPLE)))
    assert f"config file {config} is not valid TOML" in line
    config.unlink()
    (clean / "config.yaml").write_text("logs:\n  analysis_model: 42\n")
    line = _one_error_line(run("logs", "analyze", str(SAMPLE)))
    assert "logs.analysis_model must be a string" in line


# --------------------------------------------------------------------------- list and summary


def test_list_shows_our_runs_and_massgen_logs(clean, monkeypatch):
    shutil.copytree(SAMPLE, clean / "runs" / SAMPLE.name)
    monkeypatch.setenv("MASSGEN_LOG_BASE_DIR", str(MASSGEN.parent))
    result = run("logs", "list", "--json")
    assert result.exit_code == 0, result.output
    runs = {r["run_id"]: r for r in json.loads(result.output)}
    assert runs[SAMPLE.name]["status"] == "ok" and runs[SAMPLE.name]["source"] == "massgen-plugins"
    assert runs[SAMPLE.name]["agents"] == ["researcher", "critic", "writer"]
    assert runs[MASSGEN.name]["source"] == "massgen" and runs[MASSGEN.name]["started_at"] == "2026-01-10T14:30:52"
    monkeypatch.setenv("COLUMNS", "200")
    table = run("logs", "list")
    assert table.exit_code == 0 and SAMPLE.name in table.output and MASSGEN.name in table.output


def test_list_when_empty(clean):
    result = run("logs", "list")
    assert result.exit_code == 0 and "No runs yet" in result.output


def test_summary_by_path_and_by_run_id(clean):
    result = run("logs", "summary", str(SAMPLE), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["summary"]["compressions"]["total"] == 6
    assert any("compressed 6 times in 10 turns" in f["title"] for f in data["findings"])
    shutil.copytree(SAMPLE, clean / "runs" / SAMPLE.name)
    text = run("logs", "summary", SAMPLE.name)
    assert text.exit_code == 0 and "researcher" in text.output and "compressed 6 times" in text.output


def test_summary_of_a_massgen_log(clean):
    data = json.loads(run("logs", "summary", str(MASSGEN), "--json").output)
    assert data["summary"]["run"]["source"] == "massgen"
    assert data["skipped_lines"][0]["last"] is True


def test_bad_run_dir(clean, tmp_path):
    line = _one_error_line(run("logs", "summary", "no_such_run"))
    assert "no run at " in line and "no_such_run" in line and "massgen-plugins logs list" in line
    missing = tmp_path / "gone" / "run1"
    line = _one_error_line(run("logs", "summary", str(missing)))
    assert line == f"Error: no run at {missing}; `massgen-plugins logs list` shows the runs"
    (tmp_path / "empty").mkdir()
    line = _one_error_line(run("logs", "analyze", str(tmp_path / "empty")))
    assert "is not a run directory" in line


# --------------------------------------------------------------------------- analyze


def test_analyze_without_a_model_is_deterministic(clean, tmp_path):
    out = tmp_path / "out"
    result = run("logs", "analyze", str(SAMPLE), "--json", "--output", str(out / "report.md"),
                 "--html", str(out / "report.html"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["model"] is None and [a["analyzer"] for a in data["analyses"]] == ["deterministic"]
    assert data["errors"] == []
    assert (out / "report.md").read_text().startswith("# Run report: run_20260110_150000_a1b2c3")
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and 'id="timeline"' in page and "<script" not in page
    assert "http://" not in page and "https://" not in page  # nothing to fetch

    text = CliRunner().invoke(cli, ["logs", "analyze", str(SAMPLE)])
    assert text.exit_code == 0 and "Findings" in text.output
    assert "add --model provider/model" in text.output


@pytest.mark.plugins("openai")
def test_self_analysis_against_the_emulator(emulated, tmp_path):
    report = tmp_path / "analysis.md"
    result = run("logs", "analyze", str(SAMPLE), "--model", "openai/gpt-4o-mini", "--json", "--output", str(report))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    by_name = {a["analyzer"]: a for a in data["analyses"]}
    assert set(by_name) == {"deterministic", "self-analysis"} and data["model_source"] == "--model"
    llm = by_name["self-analysis"]
    assert llm["markdown"].startswith("# Self-analysis of run run_20260110_150000_a1b2c3 by openai/gpt-4o-mini")
    assert "emulated reply from gpt-4o-mini" in llm["markdown"]
    assert llm["summary"]["fitted_by"].startswith("none") and llm["summary"]["excerpts_omitted"] == 0
    calls = [r for r in emulated.requests if r.path.endswith("/chat/completions")]
    assert len(calls) == 1 and calls[0].status == 200
    sent = json.dumps(calls[0].body)
    assert "Deterministic statistics of the run" in sent and "#0 t=0.0s run_start" in sent
    assert "compressed 6 times in 10 turns" in sent  # the findings travel with the excerpts
    assert "test-openai-key" not in sent
    text = report.read_text()
    assert "# Run report:" in text and "# Self-analysis of run" in text


@pytest.mark.plugins("openai")
def test_self_analysis_on_a_small_window_is_fitted(emulated):
    result = run("logs", "analyze", str(SAMPLE), "--model", "anthropic/claude-tiny-8k", "--json")
    assert result.exit_code == 0, result.output
    llm = next(a for a in json.loads(result.output)["analyses"] if a["analyzer"] == "self-analysis")
    assert llm["summary"]["window"] == 8_192
    assert llm["summary"]["fitted_by"].startswith(("compression:", "relevance", "truncation"))
    analysis_calls = [r for r in emulated.requests if r.path.endswith("/v1/messages")
                      and "reliability engineer" in json.dumps(r.body.get("system"))]
    # one call, accepted: the fitted request did not overflow the 8k window
    assert [r.status for r in analysis_calls] == [200]
    assert "Write the report now." in json.dumps(analysis_calls[0].body)  # the request itself survived verbatim


@pytest.mark.plugins("openai", "anthropic", "gemini")
def test_self_analysis_of_a_massgen_log_from_the_config_default(emulated):
    import os
    from pathlib import Path as _P

    home = _P(os.environ["MASSGEN_PLUGINS_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.yaml").write_text("logs:\n  analysis_model: gemini/gemini-2.0-flash\n")
    result = run("logs", "analyze", str(MASSGEN), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["model"] == "gemini/gemini-2.0-flash" and data["model_source"].endswith("config.yaml")
    llm = next(a for a in data["analyses"] if a["analyzer"] == "self-analysis")
    assert "emulated reply from gemini-2.0-flash" in llm["markdown"]


@pytest.mark.plugins("openai")
def test_self_analysis_failure_is_reported_and_the_rest_still_written(emulated, tmp_path):
    from massgen_plugins.testing import Fault

    emulated.inject(Fault(kind="server_error", provider="openai", times=None))
    out = tmp_path / "r.md"
    result = run("logs", "analyze", str(SAMPLE), "--model", "openai/gpt-4o-mini", "--output", str(out))
    assert result.exit_code == 1
    assert "Warning: analyzer massgen_plugins.default_plugins.logs_selfanalysis failed" in result.output
    assert "Error: the self-analysis with openai/gpt-4o-mini did not produce a report" in result.output
    assert "Traceback" not in result.output
    assert out.read_text().startswith("# Run report:")  # the deterministic report is still there


def test_list_marks_a_dead_running_run_incomplete_with_its_live_event_count(clean):
    from massgen_plugins.runlog.writer import RunLog

    log = RunLog.create(clean / "runs" / "run_live")
    for i in range(5):
        log.event("note", message=str(i))
    live = {r["run_id"]: r for r in json.loads(run("logs", "list", "--json").output)}["run_live"]
    assert live["status"] == "running" and live["events"] == 6  # this process is alive
    meta = json.loads((log.path / "meta.json").read_text())
    meta["pid"] = 2**22 + 12345  # a process that does not exist: the writer died
    (log.path / "meta.json").write_text(json.dumps(meta))
    dead = {r["run_id"]: r for r in json.loads(run("logs", "list", "--json").output)}["run_live"]
    assert dead["status"] == "incomplete" and dead["events"] == 6
