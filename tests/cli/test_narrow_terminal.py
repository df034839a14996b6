"""Every table command read at 80 columns, piped (CliRunner) and once in a real 80x24 tmux pane:
no line wider than the terminal unless it is one unbreakable id, no id, path or hook name broken
across lines, `--debug` after the subcommand."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from massgen_plugins.cli import cli
from massgen_plugins.compression.synthetic import generate_conversation
from rich.cells import cell_len

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "run_logs" / "run_20260110_150000_a1b2c3"
KEY_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "GROQ_API_KEY",
            "XAI_API_KEY", "NEBIUS_API_KEY", "OPENROUTER_API_KEY")


@pytest.fixture
def narrow(monkeypatch, tmp_path):
    for name in KEY_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MASSGEN_PLUGINS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MASSGEN_LOG_BASE_DIR", raising=False)
    return tmp_path


def run80(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, list(args), env={"COLUMNS": "80"})
    return result.exit_code, result.output.splitlines()


def assert_fits(lines: list[str], *whole: str) -> None:
    for line in lines:
        assert cell_len(line) <= 80 or " " not in line.strip(), f"wider than 80: {line!r}"
    for token in whole:
        assert any(token in line for line in lines), f"{token!r} is broken across lines:\n" + "\n".join(lines)


def deep_file(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / "a-long-project-directory" / "conversations-exported-from-the-agent-run"
    folder.mkdir(parents=True)
    conv = generate_conversation(5, turns=16, tool_tokens=(100, 700), facts=3)
    path = folder / name
    path.write_text(json.dumps({"messages": conv.messages, "tools": conv.tools}))
    return path


@pytest.mark.plugins("openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter")  # rows of the installed provider plugins
def test_list(narrow):
    code, lines = run80("list")
    assert code == 0
    assert_fits(lines, "register_providers", "massgen-plugins-openrouter", "detect_overflow")


def test_tokens_and_compress_keep_paths_whole(narrow):
    path = deep_file(narrow, "researcher-session-with-a-long-name.json")
    code, lines = run80("tokens", str(path), "-m", "anthropic/claude-haiku-4-5")
    assert code == 0, lines
    assert_fits(lines, str(path))
    out = path.with_name("researcher-session-compressed-to-a-quarter.json")
    code, lines = run80("compress", str(path), "-m", "openai/gpt-4o", "--ratio", "4", "--output", str(out))
    assert code == 0, lines
    assert_fits(lines, str(path), str(out))
    stage_rows = [line for line in lines if line.startswith(("mask", "extract", "truncate", "summarize"))]
    assert stage_rows and all(line.split()[2][0].isdigit() for line in stage_rows), lines


@pytest.mark.plugins("openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter")  # the table shows each backend's key variable
def test_check_compression_backends(narrow):
    code, lines = run80("check", "compression", "--list-backends")
    assert code == 0
    assert_fits(lines, "nebius/meta-llama/Llama-3.3-70B-Instruct", "anthropic/claude-haiku-4-5-20251001",
                "OPENROUTER_API_KEY")


def test_logs_list_keeps_run_ids_whole(narrow):
    runs = narrow / "home" / "runs"
    runs.mkdir(parents=True)
    shutil.copytree(SAMPLE, runs / SAMPLE.name)
    code, lines = run80("logs", "list")
    assert code == 0, lines
    assert_fits(lines, SAMPLE.name)


def test_logs_summary_tables_fit(narrow):
    code, lines = run80("logs", "summary", str(SAMPLE))
    assert code == 0, lines
    assert_fits(lines)


def test_memory_list_never_breaks_a_word(narrow):
    from massgen_plugins.memory import open_store
    from massgen_plugins.memory.store import Scope

    url = f"sqlite:///{narrow / 'memory.db'}"
    with open_store(url) as store:
        record, _ = store.add("The release needs the MissingCredentialsError fix in core/massgen_plugins/guard/"
                              "session.py before Friday's freeze; owner: the researcher agent of team demo.",
                              scope=Scope(user="alice", agent="researcher", team="demo"))
    code, lines = run80("memory", "list", "--store", url)
    assert code == 0, lines
    assert_fits(lines, record.id, "MissingCredentialsError")
    code, lines = run80("memory", "search", "freeze", "--store", url)
    assert code == 0 and lines[0].startswith("1 result,"), lines


def test_debug_is_accepted_after_the_subcommand(narrow):
    bad = narrow / "bad.json"
    bad.write_text("{")
    plain = CliRunner().invoke(cli, ["tokens", str(bad), "-m", "openai/gpt-4o"])
    assert plain.exit_code == 2 and "Traceback" not in plain.output
    for args in (["--debug", "tokens", str(bad), "-m", "openai/gpt-4o"],
                 ["tokens", str(bad), "-m", "openai/gpt-4o", "--debug"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code != 0 and type(result.exception).__name__ == "InputError", args
    nested = CliRunner().invoke(cli, ["logs", "summary", str(narrow / "nope"), "--debug"])
    assert type(nested.exception).__name__ == "InputError"


@pytest.mark.plugins("openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter")  # rows of the installed provider plugins
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_list_in_a_real_80x24_tmux_pane(narrow):
    socket = f"mgp-{os.getpid()}"
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    command = f"{sys.executable} -m massgen_plugins list; echo __END__; sleep 30"
    subprocess.run(["tmux", "-L", socket, "new-session", "-d", "-x", "80", "-y", "24", command], check=True, env=env)
    try:
        screen = ""
        for _ in range(300):
            screen = subprocess.run(["tmux", "-L", socket, "capture-pane", "-p", "-J", "-S", "-200"],
                                    capture_output=True, text=True, env=env).stdout
            if "__END__" in screen:
                break
            time.sleep(0.1)
        assert "__END__" in screen, screen
        lines = screen.splitlines()
        assert_fits(lines, "register_providers", "massgen-plugins-anthropic")
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, env=env)
