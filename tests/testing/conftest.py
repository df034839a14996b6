"""Shared helpers for the emulator tests: SDK clients built against the running emulator."""

from __future__ import annotations

import pytest


@pytest.fixture
def openai_client(emu):
    import openai

    return openai.OpenAI(base_url=emu.base_url("openai"), api_key="sk-test-openai-0001", max_retries=0, timeout=20)
