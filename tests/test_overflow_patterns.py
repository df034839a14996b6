"""The overflow wording rules: tiers, counts, the scan cap, and patterns added by plugins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import massgen_plugins
import pytest
from massgen_plugins.errorparts import error_parts
from massgen_plugins.manager import Hooks, create_manager, reset_host
from massgen_plugins.overflow_patterns import SCAN_HEAD, SCAN_TAIL, OverflowPattern, classify_text, match_overflow
from massgen_plugins.testing.hooks import register_functions

ROOT = Path(__file__).resolve().parents[1]


def test_hook_overflow_patterns():
    hooks = Hooks(create_manager())
    mine = OverflowPattern(name="acme", pattern=r"acme window (?P<limit>\d+) exceeded")
    register_functions(hooks, "acme", overflow_patterns=lambda: [mine])
    register_functions(hooks, "nothing", overflow_patterns=lambda: None)
    register_functions(hooks, "wrong-type", overflow_patterns=lambda: ["not a pattern"])
    register_functions(hooks, "bad", overflow_patterns=lambda: 1 / 0)
    assert hooks.overflow_patterns() == (mine,)  # the broken and wrong ones are isolated


@pytest.mark.parametrize("text, limit, requested", [
    ("This model's maximum context length is 8192 tokens. However, your messages resulted in 8227 tokens.",
     8192, 8227),
    ("input length and `max_tokens` exceed context limit: 199759 + 8192 > 200000", 200000, 207951),
    ("Input validation error: `inputs` tokens + `max_new_tokens` must be <= 2048. Given: 3474 `inputs` tokens "
     "and 60 `max_new_tokens`", 2048, 3534),
    ("'max_tokens' or 'max_completion_tokens' is too large: 64000. This model's maximum context length is 64001 "
     "tokens and your request has 24235 input tokens (64000 > 64001 - 24235). None", 64001, 88235),
    ("too many tokens: size limit exceeded by 11326 tokens. The limit for this model is 288000 tokens.", 288000, 299326),
    ("request (8283 tokens) exceeds the available context size (2048 tokens), try increasing it", 2048, 8283),
])
def test_counts_in_any_wording(text, limit, requested):
    name, counts = match_overflow(text)
    assert counts == (limit, requested), name


@pytest.mark.parametrize("text", [
    "Too many tokens, please wait before trying again.",  # Bedrock throttle
    "Request too large for model `llama-3.1-8b-instant` on tokens per minute (TPM): Limit 6000, Requested 12328",
    "This request would exceed the rate limit for your organization of 20,000 input tokens per minute. Please reduce "
    "the prompt length or the maximum tokens requested, or try again later.",
    "max_tokens is too large: 8192. This model supports at most 4096 completion tokens, whereas you provided 8192.",
    "Input validation error: `max_new_tokens` must be <= 192",
    "too many tokens: max tokens must be less than or equal to 4096, the maximum output length for this model",
    "This request requires more credits, or fewer max_tokens. You requested up to 32000 tokens, but can only afford 0.",
    "Prompt tokens limit exceeded: 230799 > 91442. To increase, create a key with a higher monthly limit",
])
def test_lookalikes_are_not_overflow(text):
    assert match_overflow(text) is None


def test_a_strong_wording_wins_over_a_lookalike_in_the_same_text():
    # vLLM names max_tokens, yet it is the window that was exceeded
    assert match_overflow("max_tokens must be at least 1, got -160") is not None


def test_behind_413_or_5xx_only_unambiguous_wordings_count():
    assert classify_text("too many tokens", strong_only=True) is None
    assert classify_text("prompt is too long", strong_only=True) is not None


def test_a_huge_error_body_is_scanned_only_at_its_head_and_tail():
    body = "This model's maximum context length is 8192 tokens. " + "x" * 50_000_000
    parts = error_parts(Exception(body))
    assert len(parts.text) <= SCAN_HEAD + SCAN_TAIL + 1
    found = massgen_plugins.detect_overflow(Exception(body))
    assert found is not None and found.limit == 8192
    assert len(found.message) <= 4000


PLUGIN = textwrap.dedent('''
    from massgen_plugins import hookimpl
    from massgen_plugins.overflow_patterns import OverflowPattern

    @hookimpl
    def overflow_patterns():
        return [
            OverflowPattern(name="acme window",
                            pattern=r"acme window of (?P<limit>[\\d,]+) tokens exceeded by (?P<over>[\\d,]+)"),
            OverflowPattern(name="acme throttle", pattern=r"too many tokens in flight", tier="not_overflow"),
        ]
''')

PROBE = textwrap.dedent('''
    import json, massgen_plugins
    out = {}
    for text in ("acme window of 4,096 tokens exceeded by 10", "too many tokens in flight",
                 "prompt is too long: 208310 tokens > 200000 maximum"):
        found = massgen_plugins.detect_overflow(Exception(text))
        out[text] = None if found is None else [found.limit, found.requested, found.matched_by]
    print(json.dumps(out))
''')


def test_a_third_party_plugin_adds_patterns_through_its_entry_point(tmp_path):
    """An installed distribution (a dist-info with an entry point, as pip leaves it) adds a wording
    and a lookalike exclusion; the built-in rules stay in force."""
    site = tmp_path / "site"
    (site / "acme_overflow_words").mkdir(parents=True)
    (site / "acme_overflow_words" / "__init__.py").write_text(PLUGIN)
    info = site / "acme_overflow_words-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-overflow-words\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[massgen_plugins]\nacme_words = acme_overflow_words\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
           "MASSGEN_PLUGINS_HOME": str(tmp_path / "home")}
    env.pop("MASSGEN_PLUGINS_LOAD", None)
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["acme window of 4,096 tokens exceeded by 10"] == [4096, 4106, "message:acme window"]
    assert out["too many tokens in flight"] is None
    assert out["prompt is too long: 208310 tokens > 200000 maximum"][:2] == [200000, 208310]


def test_plugin_patterns_reach_the_provider_plugins_detectors(monkeypatch):
    """A pattern registered on the live host is used by match_overflow, which every provider
    plugin's detector calls."""
    reset_host()
    from massgen_plugins.manager import get_hooks

    hooks = get_hooks()
    register_functions(hooks, "acme-live", overflow_patterns=lambda: [
        OverflowPattern(name="acme live", pattern=r"acme live window (?P<limit>\d+)")])
    hooks._overflow_patterns = None  # the registration happened after the first collection
    try:
        assert match_overflow("acme live window 512") == ("acme live", (512, None))
    finally:
        reset_host()
