"""Fixtures for the OpenAI plugin tests: settings resolved from the emulator's environment."""

from __future__ import annotations

import pytest

_WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture
def openai_settings(emulator_env):
    """OpenAI settings resolved the way the host does (``OPENAI_API_KEY``/``OPENAI_BASE_URL``)."""
    from massgen_plugins.providers import resolve_settings

    return resolve_settings("openai")


@pytest.fixture
def weather_tool():
    """An OpenAI-format tool schema (the emulator answers ``[[call get_weather {...}]]`` with it)."""
    import copy

    return copy.deepcopy(_WEATHER_TOOL)
