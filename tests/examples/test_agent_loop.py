"""examples/agent_loop.py runs as a user would run it, offline, and every step it documents happens."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.plugins("openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter")  # drives provider plugins end to end

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "agent_loop.py"
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide" / "agent-loop.md"


@pytest.mark.plugins("openai", "anthropic")
@pytest.mark.slow
def test_the_example_runs_every_step_against_the_emulator(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    env["MASSGEN_PLUGINS_HOME"] = str(tmp_path / "home")
    result = subprocess.run([sys.executable, str(EXAMPLE), "--dir", str(tmp_path / "work")], capture_output=True,
                            text=True, env=env, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    steps = {line[:2]: line for line in lines if re.match(r"\d\. ", line)}
    assert sorted(steps) == ["1.", "2.", "3.", "4.", "5."], result.stdout

    assert re.search(r"^1\. tool loop: 1 tool call answered; the model said: '.*after tool read_file", steps["1."])
    resumed = re.search(r"reopened at turn (\d+) \(was (\d+)\)", steps["2."])
    assert resumed and resumed.group(1) == resumed.group(2) != "0"
    assert re.search(r"^3\. recall: [1-9]\d* archived messages? mention OPS-4411 after compression", steps["3."])
    assert steps["4."] == "4. fallback: the turn was answered by anthropic/claude-haiku-4-5"
    log = re.search(r"^5\. run log: (\d+) events \(call_end ×(\d+), compression ×(\d+).*fallback ×(\d+)\)", steps["5."])
    assert log and int(log.group(3)) >= 1 and int(log.group(4)) >= 1, steps["5."]

    run_dir = tmp_path / "work" / "run"
    assert (run_dir / "events.jsonl").is_file() and (tmp_path / "work" / "memory.db").is_file()
    assert f"massgen-plugins logs summary {run_dir}" in result.stdout


def test_the_guide_uses_asyncio_run_and_points_at_the_example():
    text = GUIDE.read_text()
    code = "\n".join(re.findall(r"```python\n(.*?)```", text, re.DOTALL))
    assert "asyncio.run(" in code
    for line in code.splitlines():  # no top-level await: it is a SyntaxError in a script
        assert not re.match(r"(await |async for |async with )", line), line
    assert "examples/agent_loop.py" in text
    for topic in ("tool", "resume", "recall", "fallback", "run log"):
        assert topic in text.lower(), topic
