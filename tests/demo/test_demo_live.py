"""``demo --live``: real model ids with capped windows, keys checked before anything starts.

The emulator poses as the real providers: the demo runs in live mode (the code path real keys
take), only the base URLs point at 127.0.0.1, and the emulator serves the real ids.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from rich.cells import cell_len

pytestmark = pytest.mark.plugins("openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter")  # drives provider plugins end to end

LIVE_STAGES = ["model registry", "team", "overflow → native compaction", "overflow → summarization",
               "429/529 retried", "fallback across providers", "kill -9 and resume", "self-analysis"]
PROVIDERS = ("OPENAI", "ANTHROPIC", "GEMINI", "GOOGLE", "GROQ", "XAI", "NEBIUS", "OPENROUTER")


def clean_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(PROVIDERS)}
    env["MASSGEN_PLUGINS_HOME"] = str(tmp_path / "home")
    env["COLUMNS"] = "80"
    return env


def demo(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "massgen_plugins", "demo", *args], capture_output=True, text=True,
                          env=env, timeout=900)


def test_missing_keys_exit_2_naming_them_before_anything_starts(tmp_path):
    env = clean_env(tmp_path)
    env["ANTHROPIC_API_KEY"] = "sk-ant-" + "x" * 24
    result = demo("--live", "--run-dir", str(tmp_path / "run"), env=env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "OPENAI_API_KEY" in lines[0] and "GEMINI_API_KEY or GOOGLE_API_KEY" in lines[0]
    assert "ANTHROPIC_API_KEY" not in lines[0]
    assert not (tmp_path / "run").exists() and not (tmp_path / "home").exists()


def test_run_dir_holding_a_run_gets_a_cli_hint(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "events.jsonl").write_text('{"type": "run_start"}\n')
    result = demo("--run-dir", str(run_dir), env=clean_env(tmp_path))
    assert result.returncode == 2
    assert "already holds a run; pass a new --run-dir" in result.stderr
    assert "RunLog" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.plugins("openai", "anthropic", "gemini")
@pytest.mark.slow
def test_live_demo_against_the_emulator_posing_as_real_providers(emulator, tmp_path):
    emulator.clear()
    env = clean_env(tmp_path)
    for provider in ("openai", "anthropic", "gemini"):
        env[f"{provider.upper()}_BASE_URL"] = emulator.base_url(provider)
    env["OPENAI_API_KEY"] = "sk-proj-" + "a" * 40
    env["ANTHROPIC_API_KEY"] = "sk-ant-api03-" + "b" * 40
    env["GEMINI_API_KEY"] = "AIza" + "c" * 35
    run_dir = tmp_path / "a-run-directory-with-a-long-enough-name-to-wrap-at-eighty-columns" / "demo"
    result = demo("--live", "--run-dir", str(run_dir), env=env)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    for stage in LIVE_STAGES:
        assert re.search(rf"✔ {re.escape(stage)}:", out), f"stage {stage!r} did not pass:\n{out[-4000:]}"
    flat = " ".join(out.split())  # progress lines wrap between words at 80 columns
    assert "window capped at 8,192 for the run" in flat and "all stages passed" in out

    models = {r.model for r in emulator.requests if r.model}
    assert {"gpt-4o-mini", "claude-haiku-4-5", "gemini-2.5-flash"} <= models, models
    assert not {m for m in models if "tiny" in m or m.endswith("-8k")}, models
    assert emulator.requests_for("openai", "/responses/compact"), "no native compaction call"

    again = f"analyse again: massgen-plugins logs analyze {run_dir}"
    assert again in out.splitlines(), "the analyse-again command is not on one line"
    for line in result.stdout.splitlines():
        assert cell_len(line) <= 80 or line.startswith(("analyse again:", "report:", "html report:")) \
            or " " not in line.strip(), f"wider than 80: {line!r}"


@pytest.mark.plugins("openai")
async def test_a_model_that_skips_the_tool_still_gets_the_file(emulator_env, tmp_path):
    """A real model may answer without calling read_file: the file then goes into the next turn."""
    from massgen_plugins import Session
    from massgen_plugins.demo.scenario import _tool_turn

    session = Session("openai/gpt-4o-mini", memory=False, run_log=False)  # no tools offered: no call
    await _tool_turn(session, "src/module_1.py")
    assert session.turn == 2
    last_user = [m for m in session.messages if m.role == "user"][-1]
    assert str(last_user.content).startswith("Here is src/module_1.py") and "def handler_" in str(last_user.content)
