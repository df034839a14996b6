"""The built-in overflow detector on real provider error bodies, raised through the real SDKs.

Each case in :mod:`massgen_plugins.testing.overflow_cases` is injected into the emulator (or
produced by its enforced windows), raised by the provider's official SDK, and classified by
``massgen_plugins.detect_overflow(exc, model="provider/model")`` with only the built-in plugins
loaded — so this is the generic detector's own score, not a provider plugin's.
"""

from __future__ import annotations

import massgen_plugins
import pytest
from massgen_plugins.manager import reset_host
from massgen_plugins.testing.overflow_cases import ABOVE_LIMIT, NEAR_MISSES, OVERFLOWS, OverflowCase, trigger


@pytest.fixture
def builtin_only(monkeypatch):
    monkeypatch.setenv("MASSGEN_PLUGINS_LOAD", "")  # no third-party plugin: the generic detector alone
    reset_host()
    yield
    reset_host()


@pytest.mark.parametrize("case", OVERFLOWS, ids=lambda c: c.id)
def test_overflow_detected_with_counts(emu, builtin_only, case: OverflowCase):
    error = trigger(case, emu)
    assert error is not None, "the call did not fail"
    found = massgen_plugins.detect_overflow(error, model=case.model_ref)
    assert found is not None, f"not detected: {error!r}"
    assert found.provider == case.provider and found.model == case.model_ref
    if case.limit is not None:
        assert found.limit == case.limit
    if case.requested == ABOVE_LIMIT:
        assert found.requested is not None and found.limit is not None and found.requested > found.limit
    elif case.requested is not None:
        assert found.requested == case.requested
    if case.stream:
        assert found.in_stream


@pytest.mark.parametrize("case", NEAR_MISSES, ids=lambda c: c.id)
def test_near_miss_never_flagged(emu, builtin_only, case: OverflowCase):
    error = trigger(case, emu)
    assert error is not None, "the call did not fail"
    assert massgen_plugins.detect_overflow(error, model=case.model_ref) is None


def test_table_covers_every_provider():
    providers = {"openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter"}
    assert {c.provider for c in OVERFLOWS} == providers
    assert {c.provider for c in NEAR_MISSES} == providers
    assert len({c.id for c in OVERFLOWS + NEAR_MISSES}) == len(OVERFLOWS + NEAR_MISSES)


def test_plain_exception_is_not_an_overflow(builtin_only):
    assert massgen_plugins.detect_overflow(ValueError("nothing to see"), model="openai/gpt-4o") is None
