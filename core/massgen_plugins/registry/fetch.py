"""Fetch provider model lists concurrently, each under its own deadline.

Every provider is fetched in its own daemon thread; the caller waits at most ``timeout``
seconds in total (all providers start together), so one hanging provider never delays the
others, and a thread still stuck in a socket read cannot keep the process alive at exit.

Inside one provider's deadline, a retryable error (429, 529, 5xx, dropped connection) is
retried under the host's one :class:`~massgen_plugins.guard.retry.RetryPolicy` (see
:func:`retry_policy`): at most :data:`~.config.MAX_ATTEMPTS` calls; the delay honours what the
provider asked for (``retry-after-ms`` / ``retry-after`` / Gemini ``RetryInfo``, read by the
``classify_error`` hook through :func:`massgen_plugins.errorparts.retry_after`), otherwise
exponential backoff with jitter; a wait that would overrun the deadline (or exceed
:data:`~.config.MAX_BACKOFF`) ends the refresh instead, so the caller can serve its cache.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..redact import describe_error
from . import config

if TYPE_CHECKING:
    from ..guard.retry import RetryPolicy
    from ..hookcall import ChainResult
    from ..manager import Hooks
    from ..types import ModelInfo, ProviderSettings

Event = Callable[[str, str, str], None]
"""Progress callback: ``(provider, state, detail)``; states are ``start``, ``retry``, ``done``,
``failed``, ``timeout``."""


@dataclass
class FetchOutcome:
    """What one provider's refresh produced."""

    provider: str
    models: list[ModelInfo] | None = None
    plugin: str | None = None
    error: str | None = None  # one line, safe to print
    status: str = "ok"  # ok | error | timeout | no-plugin
    attempts: int = 0
    seconds: float = 0.0
    retries: list[float] = field(default_factory=list)  # the delays slept before each retry
    exception: BaseException | None = None


def retry_policy() -> RetryPolicy:
    """The host's retry policy, bounded for a model-list refresh: :data:`~.config.MAX_ATTEMPTS`
    calls, backoff from 0.5 s up to 4 s, and a provider's ``retry-after`` honoured up to
    :data:`~.config.MAX_BACKOFF`."""
    from ..guard.retry import RetryPolicy

    return RetryPolicy(max_attempts=config.MAX_ATTEMPTS, base_delay=0.5, max_delay=4.0, jitter=0.25,
                       max_retry_after=config.MAX_BACKOFF)


def _failure(chosen: ChainResult[list[ModelInfo]]) -> BaseException | None:
    """The last exception of a ``list_models`` call that got no answer (``None``: nobody tried)."""
    for attempt in reversed(chosen.skipped):
        if attempt.exception is not None:
            return attempt.exception
    return None


def fetch_one(hooks: Hooks, provider: str, settings: ProviderSettings, deadline: float,
              on_event: Event | None = None) -> FetchOutcome:
    """Fetch ``provider``'s list, retrying transient errors until ``deadline`` (monotonic)."""
    started = time.monotonic()
    out = FetchOutcome(provider)
    emit = on_event or (lambda *_: None)
    policy = retry_policy()
    emit(provider, "start", "")
    while True:
        out.attempts += 1
        chosen = hooks.list_models(provider, settings)
        out.seconds = time.monotonic() - started
        if chosen.value is not None:
            for model in chosen.value:
                model.provider = provider
            out.models, out.plugin = chosen.value, chosen.plugin
            emit(provider, "done", f"{len(chosen.value)} models")
            return out
        exc = _failure(chosen)
        if exc is None:
            out.status, out.error = "no-plugin", f"no installed plugin lists models for {provider!r}"
            emit(provider, "failed", out.error)
            return out
        out.exception, out.error, out.status = exc, describe_error(exc, limit=200), "error"
        info = hooks.classify_error(exc, provider).value
        retryable = bool(info and info.retryable and info.kind.value != "timeout")
        if not retryable or out.attempts >= policy.max_attempts:
            emit(provider, "failed", out.error)
            return out
        asked = info.retry_after if info is not None else None
        delay = policy.delay(out.attempts, asked)
        remaining = deadline - time.monotonic()
        if delay is None or delay >= remaining:
            wanted = asked if delay is None else delay
            out.error += f" (retry-after {wanted:.1f}s exceeds the remaining {max(remaining, 0):.1f}s budget)"
            emit(provider, "failed", out.error)
            return out
        out.retries.append(delay)
        emit(provider, "retry", f"{info.kind.value if info else 'error'}; retrying in {delay:.2f}s")
        time.sleep(delay)


def run_concurrently(tasks: dict[str, Callable[[], Any]], timeout: float,
                     on_timeout: Callable[[str], None] | None = None) -> dict[str, tuple[bool, Any]]:
    """Run each task in its own daemon thread; wait at most ``timeout`` seconds overall.

    Returns ``{key: (finished, value_or_exception)}``; unfinished tasks map to ``(False, None)``
    and keep running in the background without blocking interpreter exit.
    """
    results: dict[str, tuple[bool, Any]] = {}
    done: queue.Queue[tuple[str, Any]] = queue.Queue()

    def runner(key: str, task: Callable[[], Any]) -> None:
        try:
            value: Any = task()
        except BaseException as exc:
            value = exc
        done.put((key, value))

    for key, task in tasks.items():
        threading.Thread(target=runner, args=(key, task), name=f"massgen-models-{key}", daemon=True).start()
    deadline = time.monotonic() + timeout
    while len(results) < len(tasks):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            key, value = done.get(timeout=remaining)
        except queue.Empty:
            break
        results[key] = (True, value)
    for key in tasks:
        if key not in results:
            results[key] = (False, None)
            if on_timeout is not None:
                on_timeout(key)
    return results
