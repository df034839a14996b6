"""Compression tests run without any provider key unless they use the emulator."""

from __future__ import annotations

import pytest

KEY_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "GROQ_API_KEY",
            "XAI_API_KEY", "NEBIUS_API_KEY", "OPENROUTER_API_KEY")


@pytest.fixture
def no_keys(monkeypatch):
    for name in KEY_VARS:
        monkeypatch.delenv(name, raising=False)
