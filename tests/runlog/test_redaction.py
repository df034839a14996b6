"""The redaction promise: a key in the environment, in headers, in nested config, in exception
texts and in a foreign MassGen log never reaches any file of the run directory or any report."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from massgen_plugins.cli import cli
from massgen_plugins.runlog.reader import read_run
from massgen_plugins.runlog.redaction import is_secret_name, redact_data, redact_exception
from massgen_plugins.runlog.writer import RunLog
from pydantic import SecretStr

ENV_KEY = "test-openai-key-7f3a9c1e5b"  # no key shape: only the env value lookup can catch it
SHAPED_KEY = "sk-ant-" + "api03-Zx9Yw8Vu7Ts6Rq5Po4Nm"  # a key shape, not in the environment (split: no secret scanner trips)
HEADER_TOKEN = "tok_5d1e2f3a4b5c6d7e"  # in a header only
PASSED_SECRET = "hunter2-long-passphrase"  # given to RunLog(secrets=...) only


class ProviderError(Exception):
    """Looks like an SDK error whose text echoes the request headers."""


def _grep(root: Path, needles: list[str]) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits += [f"{path.name}: {n}" for n in needles if n.encode() in data]
    return hits


def test_nothing_secret_survives_in_the_run_dir_or_the_reports(tmp_path, monkeypatch, home):
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    monkeypatch.setenv("MY_SERVICE_TOKEN", "svc-token-0123456789")
    run_dir = tmp_path / "run"
    needles = [ENV_KEY, SHAPED_KEY, HEADER_TOKEN, PASSED_SECRET, "svc-token-0123456789"]
    log = RunLog.create(
        run_dir, title=f"debug with key {ENV_KEY}", secrets=[PASSED_SECRET],
        agents=[{"id": "a1", "model": "openai/gpt-4o-mini", "api_key": ENV_KEY}],
        config={"providers": {"openai": {"api_key": SecretStr(ENV_KEY), "base_url": "http://x"},
                              "anthropic": {"headers": {"x-api-key": SHAPED_KEY, "anthropic-version": "2023-06-01"}}},
                "auth": {"Authorization": f"Bearer {HEADER_TOKEN}"}, "password": PASSED_SECRET},
    )
    error = ProviderError(f"401 Unauthorized: headers={{'Authorization': 'Bearer {HEADER_TOKEN}', "
                          f"'x-api-key': '{SHAPED_KEY}'}} key={ENV_KEY}")
    log.event("call_start", agent="a1", call_id="c1", model="openai/gpt-4o-mini",
              data={"request_headers": {"Authorization": f"Bearer {HEADER_TOKEN}", "User-Agent": "sdk"},
                    "nested": [{"deeper": {"token": HEADER_TOKEN}}, f"inline {SHAPED_KEY}"], "exc": error})
    log.event("call_end", agent="a1", call_id="c1", model="openai/gpt-4o-mini", latency_ms=12.0,
              outcome="error", error_kind="auth")
    log.event("retry", agent="a1", model="openai/gpt-4o-mini", attempt=1, kind="auth",
              reason=str(error), delay_s=0.0)
    log.event("error", agent="a1", kind="auth", message=redact_exception(error), fatal=True)
    log.event("note", message=f"passed secret {PASSED_SECRET} and service token svc-token-0123456789")
    log.update_meta(debug={"env_key": ENV_KEY})
    log.close("failed", error=error)

    assert _grep(run_dir, needles) == []
    text = (run_dir / "events.jsonl").read_text()
    assert "[REDACTED]" in text and "anthropic-version" in text and "User-Agent" in text  # non-secrets kept

    # reports derived from the run: JSON, Markdown, HTML
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["logs", "analyze", str(run_dir), "--json", "--output", str(out / "r.md"),
                                      "--html", str(out / "r.html")])
    assert result.exit_code == 0, result.output
    assert not [n for n in needles if n in result.output]
    assert _grep(out, needles) == []
    summary = CliRunner().invoke(cli, ["logs", "summary", str(run_dir)])
    assert not [n for n in needles if n in summary.output]


def test_foreign_massgen_logs_are_redacted_when_read(tmp_path, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", ENV_KEY)
    attempt = tmp_path / "log_20260101_000000_000000" / "turn_1" / "attempt_1"
    attempt.mkdir(parents=True)
    (attempt / "events.jsonl").write_text(json.dumps({
        "timestamp": "2026-01-01T00:00:01", "event_type": "error", "agent_id": "a",
        "data": {"message": f"auth failed for key {ENV_KEY} / {SHAPED_KEY}"}}) + "\n")
    (attempt / "status.json").write_text(json.dumps({"status": "failed", "agents": [
        {"agent_id": "a", "backend": "claude", "model": "claude-haiku-4-5", "api_key": "plain-secret-value"}]}))
    run = read_run(tmp_path / "log_20260101_000000_000000")
    dumped = json.dumps({"events": run.events, "meta": run.meta})
    assert ENV_KEY not in dumped and SHAPED_KEY not in dumped and "plain-secret-value" not in dumped
    assert run.events[0]["type"] == "error" and "[REDACTED]" in run.events[0]["message"]


def test_secret_names_and_values():
    assert is_secret_name("Authorization") and is_secret_name("x-api-key") and is_secret_name("OPENAI_API_KEY")
    assert is_secret_name("client_secret") and is_secret_name("refresh_token")
    for harmless in ("input_tokens", "max_tokens", "tokens_before", "model", "key_count", "monkey"):
        assert not is_secret_name(harmless)
    data = redact_data({"max_tokens": 10, "api_key": None, "k": (1, 2.5, True), "b": b"bytes"})
    assert data == {"max_tokens": 10, "api_key": None, "k": [1, 2.5, True], "b": "bytes"}
    assert redact_data(SecretStr("whatever")) == "[REDACTED]"


def test_the_run_log_masks_what_the_core_redaction_masks(tmp_path):
    """Passwords in store URLs and parameters, truncated key echoes and keys remembered from code
    are masked in events and meta.json as in exceptions and printed lines."""
    from massgen_plugins.redact import remember_secret

    remembered = "mgk-code-only-" + "q7r8s9t0u1v2w3x4"  # handed over in code, never in the environment
    remember_secret(remembered)
    url_password, param_password = "Url-Pass-9f8e7d6c", "Param-Pass-1a2b3c4d"
    shaped_echo = "sk-" + "proj-Ab12Cd34…Xy9z"
    run_dir = tmp_path / "run"
    log = RunLog.create(run_dir, title="redaction parity", agents=[{"id": "a1", "model": "openai/gpt-4o-mini"}])
    log.event("memory_write", agent="a1", scope="session", store=f"postgresql://massgen:{url_password}@db:5432/m")
    log.event("note", message=f"dsn 'host=db password={param_password}' key {shaped_echo}")
    log.event("note", message=f"rejected key {remembered[:18]}… and {remembered}")
    log.update_meta(store=f"postgresql://massgen:{url_password}@db/m")
    log.close("ok")
    leaks = [url_password, param_password, "Ab12Cd34", remembered[:14]]
    assert _grep(run_dir, leaks) == []
    text = (run_dir / "events.jsonl").read_text()
    assert "postgresql://massgen:[REDACTED]@db:5432/m" in text and "rejected key [REDACTED]" in text
