"""Fixtures for the Groq plugin tests: settings that point the groq SDK at the emulator."""

from __future__ import annotations

import pytest


@pytest.fixture
def settings(emulator_env):
    """Resolved ``groq`` settings (key and ``GROQ_BASE_URL`` from the emulator's env)."""
    from massgen_plugins.providers import resolve_settings

    return resolve_settings("groq", timeout=30)


@pytest.fixture
def hooks():
    from massgen_plugins.manager import get_hooks

    return get_hooks()
