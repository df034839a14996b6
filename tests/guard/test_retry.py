"""The retry policy: exponential backoff with jitter, bounded, honouring Retry-After."""

from __future__ import annotations

import random

from massgen_plugins.guard import RetryPolicy


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
