"""Shared helpers for the emulator tests: official SDK clients built against the running emulator
(``max_retries=0`` so each call is exactly one request)."""

from __future__ import annotations

import pytest


@pytest.fixture
def openai_client(emu):
    import openai

    return openai.OpenAI(base_url=emu.base_url("openai"), api_key="sk-test-openai-0001", max_retries=0, timeout=20)


@pytest.fixture
def compat_client(emu):
    """``compat_client("xai")``: the openai SDK pointed at an OpenAI-compatible provider."""
    import openai

    def make(provider: str, **kwargs):
        kwargs.setdefault("max_retries", 0)
        kwargs.setdefault("timeout", 20)
        return openai.OpenAI(base_url=emu.base_url(provider), api_key=f"test-{provider}-key", **kwargs)

    return make


@pytest.fixture
def anthropic_client(emu):
    import anthropic

    return anthropic.Anthropic(base_url=emu.base_url("anthropic"), api_key="sk-ant-test-0001", max_retries=0,
                               timeout=20)


@pytest.fixture
def groq_client(emu):
    import groq

    return groq.Groq(base_url=emu.base_url("groq"), api_key="gsk-test-0001", max_retries=0, timeout=20)


@pytest.fixture
def gemini_client(emu):
    """``gemini_client("v1beta")``: a google-genai client pinned to an API version."""
    from google import genai
    from google.genai import types

    def make(api_version: str = "v1beta"):
        return genai.Client(api_key="test-gemini-key",
                            http_options=types.HttpOptions(base_url=emu.base_url("gemini"), api_version=api_version,
                                                           timeout=20_000))

    return make
