"""``massgen-plugins check compression`` against the emulator, and its input errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from massgen_plugins.cli import cli

pytestmark = pytest.mark.plugins("openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter")  # drives provider plugins end to end


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def test_detection_compression_success_on_every_backend_offline():
    result = run("check", "compression", "--emulator", "--json")  # every backend: the emulator sets keys
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["backend"] for r in rows] == ["openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter"]
    for row in rows:
        assert row["ok"] and row["detection"] == "reactive"
        assert row["filled_tokens"] > row["window"] > row["tokens_after"]
        assert row["stages"], "a compression stage ran"


def test_proactive_mode_compresses_before_the_call():
    result = run("check", "compression", "--emulator", "--json", "--backend", "gemini", "--mode", "proactive")
    row = json.loads(result.output)[0]
    assert row["ok"] and row["detection"] == "proactive"
    assert "overflow" in row["events"] and "compression" in row["events"]


def test_list_backends():
    rows = json.loads(run("check", "compression", "--list-backends", "--json").output)
    assert {r["backend"] for r in rows} == {"openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter"}


def test_bad_input_is_exit_2_with_a_clear_message():
    result = run("check", "compression", "--backend", "cohere")
    assert result.exit_code == 2 and "unknown backend cohere" in result.output
    result = run("check", "compression", "--backend", "openai", env={"OPENAI_API_KEY": ""})
    assert result.exit_code == 2 and "needs OPENAI_API_KEY" in result.output
    result = run("check", "compression", "--fill-ratio", "50")
    assert result.exit_code == 2
    result = run("check", "compression", env={k: "" for k in (
        "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "GROQ_API_KEY", "XAI_API_KEY",
        "NEBIUS_API_KEY", "OPENROUTER_API_KEY")})
    assert result.exit_code == 2 and "--emulator to check offline" in result.output
