"""The retry policy: exponential backoff with jitter, bounded, honouring Retry-After."""

from __future__ import annotations

import random

import pytest
from massgen_plugins.guard import RetryPolicy

pytestmark = pytest.mark.plugins("openai", "anthropic")  # drives provider plugins end to end


def test_backoff_doubles_and_is_capped():
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0, jitter=0.0)
    assert [policy.backoff(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_jitter_only_shortens_within_its_fraction():
    policy = RetryPolicy(base_delay=1.0, max_delay=10.0, jitter=0.25)
    rng = random.Random(7)
    samples = [policy.backoff(3, rng) for _ in range(200)]
    assert all(3.0 <= s <= 4.0 for s in samples)
    assert len({round(s, 6) for s in samples}) > 100  # actually random, not a constant


def test_retry_after_wins_and_too_long_means_give_up():
    policy = RetryPolicy(max_retry_after=30)
    assert policy.delay(1, retry_after=2.5) == 2.5
    assert policy.delay(1, retry_after=0.0) == 0.0
    assert policy.delay(1, retry_after=31) is None
    assert 0 < policy.delay(1, retry_after=None) <= policy.base_delay


def test_a_non_finite_retry_after_means_the_backoff():
    policy = RetryPolicy(base_delay=0.5, jitter=0.0)
    assert policy.delay(1, retry_after=float("inf")) == 0.5
    assert policy.delay(1, retry_after=float("nan")) == 0.5


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("header", ["abc", "0.5, 3", "inf", ""])
async def test_an_unparseable_retry_after_falls_back_to_the_backoff(emulator_env, tmp_path, provider, header):
    from massgen_plugins.guard import Session
    from massgen_plugins.runlog import read_run
    from massgen_plugins.testing import Fault

    models = {"openai": "openai/gpt-4o-mini", "anthropic": "anthropic/claude-haiku-4-5-20251001"}
    # no wait stated anywhere else (message, other headers): only the broken header
    emulator_env.inject(Fault(kind="rate_limit", provider=provider, times=1, retry_after=None,
                              headers={"retry-after": header}, message="Rate limit reached; slow down."))
    session = Session(models[provider], memory=False, run_log=str(tmp_path / "run"),
                      retry={"base_delay": 0.01, "max_delay": 0.05, "max_attempts": 3, "max_retry_after": 1.0})
    reply = await session.send("hi")
    session.close()
    assert reply.message.content
    retries = [e for e in read_run(tmp_path / "run").events if e["type"] == "retry"]
    assert len(retries) == 1 and retries[0]["kind"] == "rate_limit" and retries[0]["delay_s"] <= 0.05
