"""Model limits: caps stated in provider errors, windows learned, reactive targets sized from the
provider's numbers."""

from __future__ import annotations

import pytest
from massgen_plugins.guard import AgentConfig
from massgen_plugins.guard.limits import ModelLimits, stated_output_cap


@pytest.mark.parametrize(("message", "cap"), [
    ("max_completion_tokens is too large: 4096. This model supports at most 512 completion tokens", 512),
    ("`max_completion_tokens` must be less than or equal to `16384`, the maximum value", 16384),
    ("max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens", 64000),
    ("something else entirely", None),
])
def test_stated_output_cap(message, cap):
    assert stated_output_cap(message) == cap


def test_learned_limits_win_over_unknown_registry_entries():
    limits = ModelLimits(AgentConfig(model="openai/not-in-any-registry"))
    assert limits.window("openai/not-in-any-registry") is None
    assert limits.reserve("openai/not-in-any-registry", None) == 4096
    limits.learn_window("openai/not-in-any-registry", 8192)
    assert limits.window("openai/not-in-any-registry") == 8192
    assert limits.reserve("openai/not-in-any-registry", None) == 2048  # a quarter of the window at most
    assert limits.learn_cap("openai/not-in-any-registry", "supports at most 512 completion tokens", 2048) == 512
    assert limits.reserve("openai/not-in-any-registry", None) == 512
    assert limits.reserve("openai/not-in-any-registry", 100) == 100  # explicit max_tokens wins


def test_configured_window_and_budget():
    limits = ModelLimits(AgentConfig(model="openai/x", context_window=2048, reserve_output=256))
    assert (limits.window("openai/x"), limits.reserve("openai/x", None)) == (2048, 256)
    assert limits.input_budget(2048, 256) == 1792 and limits.input_budget(None, 256) is None


def test_reactive_target_converts_provider_tokens_to_ours():
    # the provider counted 20% more than we did: aim below its limit in our units
    assert ModelLimits.reactive_target(10_000, 8192, 12_000, 1000) == int((8192 - 1000) / 1.2 * 0.95)
    assert ModelLimits.reactive_target(10_000, 8192, None, 1000) == int(7192 * 0.9)
    assert ModelLimits.reactive_target(10_000, None, None, 1000) == 7000  # Groq states no numbers
