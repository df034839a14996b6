"""The one retry loop's policy: bounded exponential backoff with jitter, honouring Retry-After.

SDK retries are off in every provider plugin (``max_retries=0``); this is the only place that
decides to wait and try again. A provider's ``retry-after`` / ``retry-after-ms`` /
``RetryInfo`` is honoured up to ``max_retry_after``; above that the model is given up on (the
next fallback is tried) rather than stalling the run.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from ..types import ErrorInfo

T = TypeVar("T")


class RetryPolicy(BaseModel):
    """How transient failures are retried on one model before moving to the next fallback."""

    max_attempts: int = Field(default=4, ge=1, le=20, description="Calls per model, the first one included.")
    base_delay: float = Field(default=0.5, ge=0, description="Delay before the first retry, seconds.")
    max_delay: float = Field(default=20.0, ge=0, description="Cap for the exponential backoff, seconds.")
    jitter: float = Field(default=0.25, ge=0, le=1, description="Fraction of the delay randomised downwards.")
    max_retry_after: float = Field(
        default=60.0, ge=0, description="Longest provider-requested wait honoured; longer → fall back."
    )
    timeout: float | None = Field(default=None, gt=0, description="Per-call timeout (seconds); None = plugin default.")

    def backoff(self, retry_number: int, rng: random.Random | None = None) -> float:
        """Delay before retry ``retry_number`` (1 = the first retry), with jitter."""
        raw = min(self.max_delay, self.base_delay * (2 ** max(0, retry_number - 1)))
        spread = (rng or random).uniform(1.0 - self.jitter, 1.0) if self.jitter else 1.0
        return raw * spread

    def delay(self, retry_number: int, retry_after: float | None, rng: random.Random | None = None) -> float | None:
        """The wait before the next attempt, or ``None`` when the provider asks for longer than
        ``max_retry_after`` (give up on this model). A missing or non-finite ``retry_after``
        means the backoff."""
        if retry_after is not None and math.isfinite(retry_after):
            if retry_after > self.max_retry_after:
                return None
            return max(retry_after, 0.0)
        return self.backoff(retry_number, rng)


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    classify: Callable[[BaseException], Awaitable[ErrorInfo | None]],
    on_retry: Callable[[int, ErrorInfo, float], None] | None = None,
) -> T:
    """Await ``call()`` under ``policy``: a retryable failure (as ``classify`` sees it) waits
    :meth:`RetryPolicy.delay` and tries again, up to ``policy.max_attempts`` calls; anything
    else, the last failure, or a provider asking to wait longer than ``max_retry_after`` is
    raised. For calls that need no overflow or fallback handling (the summarizer's); the
    guarded turn's own loop (:mod:`.turn`) applies the same policy.
    """
    retry_number = 0
    while True:
        try:
            return await call()
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception as exc:
            info = await classify(exc)
            retry_number += 1
            if info is None or not info.retryable or retry_number >= policy.max_attempts:
                raise
            delay = policy.delay(retry_number, info.retry_after)
            if delay is None:
                raise
            if on_retry is not None:
                on_retry(retry_number, info, delay)
            await asyncio.sleep(delay)
