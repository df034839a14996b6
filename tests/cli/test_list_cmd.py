"""``massgen-plugins list`` in-process (the real-install cases live in tests/test_loader.py)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from massgen_plugins import __version__
from massgen_plugins.cli import cli


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_version_and_help():
    assert run("--version").output.strip() == f"massgen-plugins, version {__version__}"
    help_text = run("--help").output
    assert "list" in help_text and "--debug" in help_text


def test_json_fields_are_complete_and_sorted():
    result = run("list", "--all", "--json")
    assert result.exit_code == 0
    plugins = json.loads(result.output)
    assert plugins, "the built-in plugins are always there"
    for plugin in plugins:
        assert set(plugin) >= {"name", "version", "distribution", "entry_point", "module", "hooks", "status", "error"}
        assert plugin["status"] in {"loaded", "failed", "disabled"}
    third_party = [p["name"].lower() for p in plugins if not p["builtin"]]
    assert third_party == sorted(third_party)


def test_unknown_hook_is_a_usage_error():
    result = run("list", "--hook", "compres")
    assert result.exit_code == 2
    assert "unknown hook compres" in result.output and "compress" in result.output


def test_unknown_command_is_a_usage_error():
    result = run("frobnicate")
    assert result.exit_code == 2
