"""``massgen-plugins models`` end to end: real subprocesses against the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from massgen_plugins.registry import cache
from massgen_plugins.testing import Fault

pytestmark = pytest.mark.plugins("openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter")  # drives provider plugins end to end

PROVIDERS = ("openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter")


def spawn(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """The real console entry point in a new process."""
    return subprocess.run([sys.executable, "-m", "massgen_plugins", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=timeout)


def run(*args: str) -> Any:
    """The same command in this process (the provider SDKs are imported once per test session)."""
    from click.testing import CliRunner
    from massgen_plugins.cli import cli

    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    result.returncode = result.exit_code
    return result


@pytest.fixture
def env(emulator_env, monkeypatch):
    from massgen_plugins.registry import clear_memo, openrouter_source

    monkeypatch.delenv("MASSGEN_PLUGINS_MODELS_TTL", raising=False)
    monkeypatch.setenv("MASSGEN_PLUGINS_MODELS_TIMEOUT", "60")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", os.environ.get("TIKTOKEN_CACHE_DIR", "/work/shared/tiktoken"))
    clear_memo()
    openrouter_source.clear_memo()
    yield emulator_env
    openrouter_source.clear_memo()


def test_json_listing_refreshes_every_provider(env):
    result = run("models", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {p["provider"]: p["source"] for p in data["providers"]} == {p: "api" for p in PROVIDERS}
    refs = {m["ref"] for m in data["models"]}
    assert "anthropic/claude-haiku-4-5-20251001" in refs and "openai/gpt-4o" in refs
    assert "openai/tts-1" not in refs  # chat models only without --all
    assert data["warnings"] == [] and data["snapshot_date"]
    model = next(m for m in data["models"] if m["ref"] == "gemini/gemini-2.5-flash")
    assert model["context_window"] == 1_048_576 and model["provenance"]["context_window"] == "api"


def test_table_columns_and_all_flag(env):
    result = run("models", "--provider", "openai", "--all")
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[1]
    for column in ("provider", "model", "window", "max output", "source", "age"):
        assert column in header
    assert "tts-1" in result.stdout and "128,000" in result.stdout
    assert "window: bundled" in result.stdout  # OpenAI's API gives no window
    assert "anthropic" not in result.stdout


def test_offline_makes_no_request(env):
    emu = env
    result = spawn("models", "--offline", "--json", "--all")
    assert result.returncode == 0, result.stderr
    assert emu.requests == []
    data = json.loads(result.stdout)
    assert {p["source"] for p in data["providers"]} == {"bundled"}
    assert any(m["ref"] == "xai/grok-4" for m in data["models"])
    # and with a cache: served from it, still without a request
    assert run("models", "--provider", "groq", "--json").returncode == 0
    emu.clear()
    data = json.loads(spawn("models", "--offline", "--json", "--provider", "groq").stdout)
    assert data["providers"][0]["source"] == "cache"
    assert emu.requests == []


def test_failed_refresh_prints_one_warning_line_and_serves_the_cache(env):
    emu = env
    assert run("models", "--provider", "xai", "--json").returncode == 0
    emu.clear()
    emu.inject(Fault(kind="server_error", provider="xai", times=None))
    result = run("models", "--provider", "xai", "--refresh")
    assert result.returncode == 0
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("massgen-plugins: warning: xai: model list refresh failed (")
    assert "500" in warnings[0]
    assert "stale cache" in result.stdout


def test_warm_listing_equals_a_full_build_and_follows_the_cache(env, monkeypatch):
    assert run("models", "-p", "groq", "-p", "xai", "--json").returncode == 0
    view = cache.models_dir() / "_view.json"
    assert view.exists()
    warm = json.loads(run("models", "-p", "groq", "-p", "xai", "--json", "--all").stdout)
    view.unlink()  # force the full build from the same cache
    full = json.loads(run("models", "-p", "groq", "-p", "xai", "--json", "--all").stdout)
    assert warm["providers"] == full["providers"]
    assert [m["ref"] for m in warm["models"]] == [m["ref"] for m in full["models"]]
    for a, b in zip(warm["models"], full["models"], strict=True):
        assert a == b
    assert {p["source"] for p in warm["providers"]} == {"cache"}
    # a changed cache file invalidates the view: the new list shows up at once
    from massgen_plugins.testing import EmulatedModel

    env.set_models("groq", [*env.models("groq"), EmulatedModel(id="llama-brand-new", context_window=65_536)])
    assert run("models", "-p", "groq", "--refresh", "--json").returncode == 0
    assert "groq/llama-brand-new" in {m["ref"] for m in json.loads(run("models", "-p", "groq", "--json").stdout)["models"]}
    # an expired TTL is never answered from the view
    monkeypatch.setenv("MASSGEN_PLUGINS_MODELS_TTL", "0")
    env.clear()
    data = json.loads(run("models", "-p", "xai", "--json").stdout)
    assert data["providers"][0]["refreshed"] is True and env.requests


def test_concurrent_refreshes_from_two_processes_leave_a_valid_cache(env):
    args = [sys.executable, "-m", "massgen_plugins", "models", "--refresh", "--json", "--all",
            "-p", "openai", "-p", "xai", "-p", "nebius"]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
             for _ in range(2)]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outputs]
    for provider in ("openai", "xai", "nebius"):
        entry = cache.read(provider)
        assert entry is not None, provider
        assert len(entry.models) == len(env.models(provider))
    models_dir = cache.models_dir()
    assert not [p for p in models_dir.iterdir() if p.name.endswith(".tmp")]
    assert all(json.loads(o[0])["warnings"] == [] for o in outputs)


def test_bad_input_exits_2_with_one_line(env):
    result = spawn("models", "--provider", "nosuch")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "installed providers" in result.stderr
    result = run("models", "--refresh", "--offline")
    assert result.returncode == 2 and "contradict" in result.stderr


def test_snapshot_regenerates_the_bundled_data(env, tmp_path):
    emu = env
    from massgen_plugins.registry.snapshot import SCHEMA_VERSION, load_snapshot

    out = tmp_path / "snapshot.json"
    result = run("models", "snapshot", "--output", str(out), "--json", "-p", "anthropic", "-p", "openai")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert {p["provider"] for p in summary["providers"] if p["refreshed"]} == {"anthropic", "openai"}
    data = json.loads(out.read_text())
    assert data["schema_version"] == SCHEMA_VERSION and data["generated_at"] == summary["generated_at"]
    anthropic = {e["id"]: e for e in data["providers"]["anthropic"]["models"]}
    assert anthropic["claude-tiny-8k"]["context_window"] == 8_192  # new from the live list
    assert "claude-opus-4-6" in anthropic  # curated entries the account does not list are kept
    openai = {e["id"]: e for e in data["providers"]["openai"]["models"]}
    assert openai["gpt-4o"]["context_window"] == 128_000
    previous = load_snapshot()
    assert len(data["providers"]["xai"]["models"]) >= len(previous["providers"]["xai"]["models"])
    assert {r.provider for r in emu.requests} >= {"anthropic", "openai"}


def test_snapshot_refuses_when_nothing_could_be_fetched(env, tmp_path):
    emu = env
    emu.inject(Fault(kind="server_error", times=None))
    out = tmp_path / "snapshot.json"
    result = run("models", "snapshot", "--output", str(out), "--timeout", "10", "-p", "groq", "-p", "xai")
    assert result.returncode == 1
    assert "left unchanged" in result.stderr.splitlines()[-1]
    assert not out.exists()


def test_snapshot_to_an_unwritable_place_is_one_clear_error(env):
    result = run("models", "snapshot", "--output", "/proc/no-such-dir/snapshot.json", "-p", "groq")
    assert result.returncode == 1
    assert "cannot write the snapshot to /proc/no-such-dir/snapshot.json" in result.stderr
    assert "--output" in result.stderr
