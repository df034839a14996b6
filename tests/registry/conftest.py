"""Fixtures for the registry tests: the emulator environment plus clean registry state."""

from __future__ import annotations

import pytest

PROVIDERS = ("openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter")


@pytest.fixture
def registry_env(emulator_env, monkeypatch):
    """Every provider pointed at the emulator, a fresh MASSGEN_PLUGINS_HOME, default TTL, and no
    in-process registry memo from an earlier test."""
    from massgen_plugins.registry import clear_memo, openrouter_source

    monkeypatch.delenv("MASSGEN_PLUGINS_MODELS_TTL", raising=False)
    monkeypatch.delenv("MASSGEN_PLUGINS_MODELS_TIMEOUT", raising=False)
    clear_memo()
    openrouter_source.clear_memo()
    yield emulator_env
    clear_memo()
    openrouter_source.clear_memo()


def list_requests(emu, provider):
    """The model-list requests the emulator recorded for ``provider``."""
    return [r for r in emu.requests if r.provider == provider and r.path.rstrip("/").endswith("models")
            and r.method == "GET"]
