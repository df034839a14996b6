"""``massgen-plugins tokens`` and ``massgen-plugins compress`` through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from massgen_plugins.cli import cli
from massgen_plugins.compression.synthetic import generate_conversation

KEY_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "GROQ_API_KEY",
            "XAI_API_KEY", "NEBIUS_API_KEY", "OPENROUTER_API_KEY")


@pytest.fixture
def conv_file(tmp_path, monkeypatch):
    for name in KEY_VARS:
        monkeypatch.delenv(name, raising=False)
    conv = generate_conversation(3, turns=20, tool_tokens=(100, 900), facts=4)
    path = tmp_path / "conv.json"
    path.write_text(json.dumps({"messages": conv.messages, "tools": conv.tools}))
    return path, conv


def run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_tokens_json(conv_file):
    path, conv = conv_file
    code, out = run("tokens", str(path), "--model", "openai/gpt-4o", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["messages"] == len(conv.messages) and data["tools"] == len(conv.tools)
    assert data["tokens"] > 1000 and data["method"].startswith("tiktoken")
    assert sum(data["per_message"]) + data["tools_tokens"] + 3 == pytest.approx(data["tokens"], rel=0.05)
    assert data["context_window"] and data["window_source"].startswith("registry")


def test_tokens_table_with_explicit_window_and_estimate_margin(conv_file):
    path, _ = conv_file
    code, out = run("tokens", str(path), "-m", "anthropic/claude-haiku-4-5", "--window", "1000")
    assert code == 0, out
    assert "context window 1,000 (--window)" in out and "±15%" in out


def test_tokens_list_shaped_file(tmp_path):
    path = tmp_path / "list.json"
    path.write_text(json.dumps([{"role": "user", "content": "hello"}]))
    code, out = run("tokens", str(path), "-m", "openai/gpt-4o-mini", "--json")
    data = json.loads(out)
    assert code == 0 and 5 <= data["tokens"] <= 12 and data["messages"] == 1 and data["counted_by"]


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON"),
    ('{"msgs": []}', 'must have a "messages" list'),
    ('"text"', "expected a list of messages"),
    ("[]", "has no messages"),
    ('[{"role": "robot", "content": "x"}]', "message 0 is not a valid chat message"),
    ('[{"role": "user", "content": "x"}, 5]', "message 1 is a JSON int"),
    ('{"messages": [{"role": "user", "content": "x"}], "tools": "all"}', '"tools" must be a list'),
])
def test_malformed_files_exit_2_with_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    for command in (["tokens", str(path), "-m", "openai/gpt-4o"],
                    ["compress", str(path), "-m", "openai/gpt-4o", "--budget", "10"]):
        code, out = run(*command)
        assert code == 2 and message in out and "Traceback" not in out


def test_missing_file_and_bad_model(tmp_path, conv_file):
    path, _ = conv_file
    code, out = run("tokens", str(tmp_path / "nope.json"), "-m", "openai/gpt-4o")
    assert code == 2 and "no such file" in out
    code, out = run("tokens", str(path), "-m", "gpt-4o")
    assert code == 2 and "provider/model" in out
    code, out = run("tokens", str(path), "-m", "nosuch/model")
    assert code == 2 and "unknown provider 'nosuch'" in out and "installed providers" in out


@pytest.mark.plugins("anthropic")
def test_compress_writes_output_and_archive_without_a_key(conv_file, tmp_path):
    path, conv = conv_file
    out_file, archive_file = tmp_path / "out.json", tmp_path / "archive.json"
    code, out = run("compress", str(path), "-m", "anthropic/claude-haiku-4-5", "--ratio", "4",
                    "--output", str(out_file), "--archive", str(archive_file))
    assert code == 0, out
    assert "summarize stage was skipped" in out and "ANTHROPIC_API_KEY" in out
    written = json.loads(out_file.read_text())
    assert set(written) == {"messages", "tools"} and written["tools"] == conv.tools
    assert written["messages"][0] == conv.messages[0]
    assert written["messages"][-1] == conv.messages[-1]
    archive = json.loads(archive_file.read_text())["archive"]
    assert archive and all({"id", "message", "replaced_by", "stage"} <= set(a) for a in archive)
    # the output is itself a valid input, and fits
    code, out = run("tokens", str(out_file), "-m", "anthropic/claude-haiku-4-5", "--json")
    data = json.loads(out)
    assert data["tokens_with_margin"] <= json.loads(run("compress", str(path), "-m", "anthropic/claude-haiku-4-5",
                                                          "--ratio", "4", "--json")[1])["budget"]


def test_compress_json_report(conv_file):
    path, _ = conv_file
    code, out = run("compress", str(path), "-m", "openai/gpt-4o", "--budget", "3000", "--strategy", "aggressive",
                    "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["fits"] and data["tokens_after"] <= 3000 == data["budget"]
    assert data["strategy"]["name"] == "aggressive"
    names = [s["name"] for s in data["stages"]]
    assert "mask" in names and all({"status", "tokens_before", "tokens_after", "seconds"} <= set(s)
                                   for s in data["stages"])
    assert data["messages"] and data["archive"]


def test_compress_usage_errors(conv_file):
    path, _ = conv_file
    code, out = run("compress", str(path), "-m", "openai/gpt-4o")
    assert code == 2 and "exactly one of --budget" in out
    code, out = run("compress", str(path), "-m", "openai/gpt-4o", "--budget", "5", "--ratio", "2")
    assert code == 2


def test_compress_cannot_fit_exits_1_with_the_overshoot(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps([{"role": "system", "content": "s"}, {"role": "user", "content": "word " * 500}]))
    code, out = run("compress", str(path), "-m", "openai/gpt-4o", "--budget", "100")
    assert code == 1 and "more than the budget of 100" in out


def test_console_script_subprocess(conv_file):
    path, _ = conv_file
    proc = subprocess.run([sys.executable, "-m", "massgen_plugins", "compress", str(path), "-m", "openai/gpt-4o",
                           "--ratio", "2", "--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["fits"] is True


def test_compress_output_never_writes_through_a_planted_symlink(conv_file, tmp_path):
    path, _ = conv_file
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out_file = tmp_path / "small.json"
    (tmp_path / "small.json.tmp").symlink_to(victim)  # where the old fixed temp name pointed
    code, out = run("compress", str(path), "-m", "openai/gpt-4o", "--ratio", "0.5", "--output", str(out_file))
    assert code == 0, out
    assert victim.read_text() == "precious"
    assert json.loads(out_file.read_text())["messages"]


def test_compress_output_into_a_missing_directory_is_one_clear_line(conv_file, tmp_path):
    path, _ = conv_file
    code, out = run("compress", str(path), "-m", "openai/gpt-4o", "--ratio", "0.5",
                    "--output", str(tmp_path / "nope" / "small.json"))
    assert code == 2
    assert "cannot write" in out and "nope" in out and "Traceback" not in out
