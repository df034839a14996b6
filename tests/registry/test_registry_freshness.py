"""Freshness and isolation of the model registry: the guard's stale-while-revalidate lookups,
``models --clear-cache``, emulated runs that keep their own cache, ``-Instruct`` chat models, and
what a disabled provider plugin says."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner
from massgen_plugins.cli import cli
from massgen_plugins.errors import UnknownModelError, UnknownProviderError
from massgen_plugins.manager import reset_host
from massgen_plugins.providers import resolve_model
from massgen_plugins.registry import cache, clear_memo, freshness, get_model_info
from massgen_plugins.testing import EmulatedModel

from .conftest import list_requests

pytestmark = pytest.mark.plugins("openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter")  # drives provider plugins end to end


def test_an_unknown_model_refreshes_its_provider_before_the_call(registry_env):
    registry_env.add_model("openai", EmulatedModel("gpt-brand-new", 9_000, 2_000, extra={"context_window": 9_000}))
    info = freshness.lookup("openai/gpt-brand-new", wait=30)
    assert info is not None and info.context_window == 9_000  # known before its first call
    assert len(list_requests(registry_env, "openai")) == 1
    assert freshness.lookup("openai/gpt-brand-new").context_window == 9_000
    assert len(list_requests(registry_env, "openai")) == 1  # now cached: no second fetch


def test_a_model_the_provider_does_not_list_is_not_refetched_on_every_call(registry_env):
    assert freshness.lookup("openai/no-such-model", wait=30) is None
    assert freshness.lookup("openai/no-such-model", wait=30) is None
    assert len(list_requests(registry_env, "openai")) == 1


def test_a_stale_cache_answers_at_once_and_is_refreshed_in_the_background(registry_env):
    stale_models = [{"provider": "openai", "id": "gpt-4o-mini", "context_window": 1_000}]
    cache.write("openai", stale_models, plugin="openai", fetched_at=time.time() - 10 * 86400)
    info = freshness.lookup("openai/gpt-4o-mini")
    assert info.context_window == 1_000  # the cached answer, without waiting
    thread = freshness.refresh_in_background("openai")  # the refresh the lookup started
    thread.join(30)
    assert len(list_requests(registry_env, "openai")) == 1
    assert cache.read("openai").fresh(ttl=3600)
    assert freshness.lookup("openai/gpt-4o-mini").context_window == 128_000


def test_clear_cache_removes_the_lists(registry_env):
    runner = CliRunner()
    assert runner.invoke(cli, ["models", "--provider", "openai", "--provider", "groq", "--refresh"]).exit_code == 0
    assert cache.read("openai") is not None and cache.read("groq") is not None
    result = runner.invoke(cli, ["models", "--clear-cache", "--provider", "groq", "--json"])
    assert result.exit_code == 0, result.output
    assert any("groq" in p for p in json.loads(result.output)["removed"])
    assert cache.read("groq") is None and cache.read("openai") is not None
    result = runner.invoke(cli, ["models", "--clear-cache"])
    assert result.exit_code == 0 and "Removed" in result.output
    assert not cache.models_dir().exists()
    bad = runner.invoke(cli, ["models", "--clear-cache", "--refresh"])
    assert bad.exit_code == 2 and "--clear-cache only takes --provider" in bad.output


def test_a_list_fetched_through_a_base_url_override_is_cached_apart(registry_env, monkeypatch):
    """A list fetched through OPENAI_BASE_URL (a proxy, the emulator) is cached apart from the
    provider's own: afterwards, without the override, the own list answers."""
    real = [{"provider": "openai", "id": "gpt-4o", "context_window": 128_000}]
    monkeypatch.delenv("OPENAI_BASE_URL")
    cache.write("openai", real, plugin="openai")
    own = cache.cache_path("openai")
    before = own.read_bytes()
    monkeypatch.setenv("OPENAI_BASE_URL", registry_env.base_url("openai"))
    clear_memo()
    assert CliRunner().invoke(cli, ["models", "--provider", "openai", "--refresh"]).exit_code == 0
    assert get_model_info("openai/gpt-4o-mini-8k", offline=True).id == "gpt-4o-mini-8k"  # the emulator's model
    assert cache.cache_path("openai") != own
    monkeypatch.delenv("OPENAI_BASE_URL")
    clear_memo()
    assert own.read_bytes() == before
    with pytest.raises(UnknownModelError):
        get_model_info("openai/gpt-4o-mini-8k", offline=True)


def test_an_emulated_run_leaves_the_users_setup_alone(tmp_path, monkeypatch):
    """``check compression --emulator`` (like ``demo``) runs a Session against a fresh emulator;
    its model lists go to the emulator's own cache, which disappears with it."""
    monkeypatch.setenv("MASSGEN_PLUGINS_HOME", str(tmp_path))
    monkeypatch.delenv("MASSGEN_PLUGINS_CACHE_DIR", raising=False)
    for name in ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    cache.write("anthropic", [{"provider": "anthropic", "id": "claude-sonnet-4-5", "context_window": 200_000}],
                plugin="anthropic")
    models = cache.models_dir()
    before = {p.name: p.read_bytes() for p in models.iterdir()}
    reset_host()
    clear_memo()
    result = CliRunner().invoke(cli, ["check", "compression", "--emulator", "--backend", "anthropic",
                                      "--mode", "proactive"])
    assert result.exit_code == 0, result.output
    assert {p.name: p.read_bytes() for p in models.iterdir()} == before  # nothing written, nothing replaced
    clear_memo()
    with pytest.raises(UnknownModelError):
        get_model_info("anthropic/claude-tiny-8k", offline=True)  # the emulator's test model stays there
    assert get_model_info("anthropic/claude-sonnet-4-5", offline=True).context_window == 200_000


def test_instruct_models_are_chat_models(registry_env):
    registry_env.add_model("openai", EmulatedModel("Llama-3.3-70B-Instruct", 131_072, 8_192))
    result = CliRunner().invoke(cli, ["models", "--provider", "openai", "--refresh", "--json"])
    ids = {m["id"] for m in json.loads(result.output)["models"]}
    assert "Llama-3.3-70B-Instruct" in ids  # listed without --all
    from massgen_plugins_openai.listing import kind_from_id

    assert kind_from_id("meta-llama/Llama-3.3-70B-Instruct") == "chat"
    assert kind_from_id("gpt-3.5-turbo-instruct") == "completion"


def test_a_disabled_provider_plugin_says_so(monkeypatch):
    monkeypatch.setenv("MASSGEN_PLUGINS_DISABLED", "groq")
    reset_host()
    try:
        with pytest.raises(UnknownProviderError) as err:
            resolve_model("groq/llama-3.3-70b-versatile")
        assert "disabled" in str(err.value) and "pip install" not in str(err.value)
    finally:
        reset_host()
