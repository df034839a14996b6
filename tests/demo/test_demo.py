"""The main job runs offline, end to end, and every stage provably happened."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.plugins("openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter")  # drives provider plugins end to end

STAGES = ["model registry", "team", "overflow → native compaction", "overflow → summarization", "429/529 retried",
          "fallback across providers", "kill -9 and resume", "self-analysis"]


@pytest.mark.slow
def test_demo_runs_every_stage_offline(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    env["OPENAI_API_KEY"] = "sk-this-real-looking-key-must-never-leak-0123456789"  # ignored: offline
    run_dir = tmp_path / "demo"
    result = subprocess.run([sys.executable, "-m", "massgen_plugins", "demo", "--json", "--run-dir", str(run_dir)],
                            capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert list(report["stages"]) == STAGES
    assert all(stage["ok"] for stage in report["stages"].values())
    assert (run_dir / "events.jsonl").is_file() and (run_dir / "report.html").is_file()
    assert "Self-analysis" in (run_dir / "report.html").read_text()
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert b"sk-this-real-looking-key" not in path.read_bytes(), f"key leaked into {path}"
