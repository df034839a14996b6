"""OpenAI-compatible endpoints declared in config.toml, end to end against the emulator posing as
vLLM (``max_model_len`` on ``/v1/models``, vLLM's own overflow wordings) and as Ollama
(``/api/show``): listing with windows, proactive and reactive overflow handling in a Session,
fallbacks, ``check compression``, no-key local servers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from massgen_plugins.cli import cli
from massgen_plugins.guard import Session
from massgen_plugins.guard.check import filled_conversation
from massgen_plugins.manager import reset_host
from massgen_plugins.registry import clear_memo
from massgen_plugins.runlog import read_run
from massgen_plugins.testing import Fault

FAST = {"base_delay": 0.01, "max_delay": 0.05, "max_attempts": 3}


@pytest.fixture
def configured(emulator_env, monkeypatch):
    """``localvllm`` (the emulator posing as vLLM, no key) and ``myollama`` (as Ollama, with a key)
    declared in the config file of a fresh MASSGEN_PLUGINS_HOME."""
    import os

    home = Path(os.environ["MASSGEN_PLUGINS_HOME"])
    (home / "config.toml").write_text(
        "[providers.localvllm]\n"
        'kind = "openai-compatible"\n'
        f'base_url = "{emulator_env.base_url("vllm")}"\n\n'
        "[providers.myollama]\n"
        'kind = "openai-compatible"\n'
        f'base_url = "{emulator_env.base_url("ollama")}"\n'
        'api_key_env = "MYOLLAMA_API_KEY"\n\n'
        "[providers.plainollama]\n"
        'kind = "openai-compatible"\n'
        f'base_url = "{emulator_env.base_url("ollama")}"\n'
    )
    monkeypatch.setenv("MYOLLAMA_API_KEY", "ollama-test-key")
    reset_host()
    clear_memo()
    yield emulator_env
    reset_host()
    clear_memo()


def _events(run_dir, kind):
    return [e for e in read_run(run_dir).events if e["type"] == kind]


def test_models_lists_a_configured_endpoint_with_the_windows_the_server_states(configured):
    result = CliRunner().invoke(cli, ["models", "--provider", "localvllm", "--provider", "myollama",
                                      "--provider", "plainollama", "--refresh", "--json"])
    assert result.exit_code == 0, result.output
    rows = {(m["provider"], m["id"]): m for m in json.loads(result.output)["models"]}
    assert rows[("localvllm", "vllm-tiny-4k")]["context_window"] == 4096  # vLLM's max_model_len
    assert rows[("localvllm", "meta-llama/Llama-3.1-8B-Instruct")]["context_window"] == 131072  # a chat model
    assert rows[("myollama", "llama3.2:latest")]["context_window"] == 8192  # num_ctx from /api/show
    assert rows[("plainollama", "qwen3:8b")]["context_window"] == 40960  # no key at all
    shows = configured.requests_for("ollama", path="/api/show")
    assert any(r.headers.get("authorization", "").startswith("<redacted") for r in shows)  # myollama's key sent


async def test_proactive_the_window_comes_from_max_model_len(configured, tmp_path):
    model = "localvllm/vllm-tiny-4k"
    session = Session(model, memory=False, run_log=str(tmp_path / "run"), retry=FAST)  # no context_window given
    session.messages = filled_conversation(model, int(4096 * 1.3))
    reply = await session.send("Which modules did you review?")
    assert reply.message.content
    chats = configured.requests_for("vllm", path="/chat/completions")
    assert [r.status for r in chats] == [200], "compressed before the call: the server never refused it"
    overflow = _events(tmp_path / "run", "overflow")
    assert overflow[0]["mode"] == "proactive" and overflow[0]["limit"] == 4096
    session.close()


@pytest.mark.parametrize("max_tokens", [None, 512])
async def test_reactive_vllm_wordings_are_detected_and_recovered(configured, tmp_path, max_tokens):
    model = "localvllm/vllm-tiny-4k"
    session = Session(model, memory=False, run_log=str(tmp_path / "run"), proactive=False, retry=FAST)
    session.messages = filled_conversation(model, int(4096 * 1.3))
    reply = await session.send("Which modules did you review?", max_tokens=max_tokens)
    assert reply.message.content
    statuses = [r.status for r in configured.requests_for("vllm", path="/chat/completions")]
    assert statuses[0] == 400 and statuses[-1] == 200
    overflow = _events(tmp_path / "run", "overflow")
    assert overflow[0]["mode"] == "reactive"
    assert _events(tmp_path / "run", "compression")
    session.close()


async def test_a_configured_provider_is_a_fallback_like_any_other(configured, tmp_path):
    configured.inject(Fault(kind="server_error", provider="openai", times=None))
    session = Session("openai/gpt-4o-mini", fallbacks=["myollama/qwen3:8b"], memory=False,
                      run_log=str(tmp_path / "run"), retry=FAST)
    reply = await session.send("Say hello.")
    assert "qwen3:8b" in reply.message.content
    assert [r.status for r in configured.requests_for("ollama", path="/chat/completions")] == [200]
    assert _events(tmp_path / "run", "fallback")
    session.close()


def test_check_compression_runs_on_a_configured_provider(configured):
    result = CliRunner().invoke(cli, ["check", "compression", "--backend", "localvllm", "--model",
                                      "localvllm/vllm-tiny-4k", "--fill-ratio", "1.3", "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["ok"] and row["window"] == 4096 and row["detection"] == "reactive"


def test_check_compression_asks_for_a_model_on_a_configured_provider(configured):
    result = CliRunner().invoke(cli, ["check", "compression", "--backend", "localvllm"])
    assert result.exit_code == 2
    assert "--model localvllm/<model id>" in result.output
