"""Fixtures for the Gemini plugin tests: settings that point google-genai at the emulator."""

from __future__ import annotations

import pytest


@pytest.fixture
def settings(emulator_env):
    """Resolved ``gemini`` settings (key and ``GEMINI_BASE_URL`` from the emulator's env)."""
    from massgen_plugins.providers import resolve_settings

    return resolve_settings("gemini", timeout=30)


@pytest.fixture
def hooks():
    from massgen_plugins.manager import get_hooks

    return get_hooks()
