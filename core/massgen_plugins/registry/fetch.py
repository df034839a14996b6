"""Fetch provider model lists concurrently, each under its own deadline.

Every provider is fetched in its own daemon thread; the caller waits at most ``timeout``
seconds in total (all providers start together), so one hanging provider never delays the
others, and a thread still stuck in a socket read cannot keep the process alive at exit.

Inside one provider's deadline, a retryable error (429, 529, 5xx, dropped connection) is
retried at most :data:`~.config.MAX_ATTEMPTS` times. The delay honours what the provider asked
for (``retry-after-ms`` / ``retry-after`` / Gemini ``RetryInfo``, read by the ``classify_error``
hook through :func:`massgen_plugins.errorparts.retry_after`), otherwise exponential backoff with
jitter; a wait that would overrun the deadline (or exceed :data:`~.config.MAX_BACKOFF`) ends the
refresh instead, so the caller can serve its cache.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import config

if TYPE_CHECKING:
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


def _describe(exc: BaseException) -> str:
    from ..redact import redact

    text = " ".join(str(exc).split())
    if len(text) > 200:
        text = text[:197] + "..."
    return redact(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def _call_plugins(hooks: Hooks, provider: str, settings: ProviderSettings) -> tuple[Any, str | None, BaseException | None]:
    """First-result call of ``list_models`` that keeps the exception object (for retry decisions).

    Returns ``(models, plugin, last_exception)``; ``models`` is ``None`` when no plugin answered.
    """
    from ..chain import implementations, strict_mode
    from ..types import ModelInfo

    last: BaseException | None = None
    for impl in implementations(hooks.pm, "list_models"):
        try:
            value = impl(provider=provider, settings=settings)
        except Exception as exc:
            if strict_mode():
                raise
            last = exc
            continue
        if value is None:
            continue
        if not isinstance(value, (list, tuple)):
            last = TypeError(f"plugin {impl.plugin_name!r} returned {type(value).__name__}, not a list")
            continue
        try:
            models = [v if isinstance(v, ModelInfo) else ModelInfo.model_validate(v) for v in value]
        except (TypeError, ValueError) as exc:
            last = TypeError(f"plugin {impl.plugin_name!r} returned an invalid model list: {exc}")
            continue
        for m in models:
            m.provider = provider
        return models, impl.plugin_name, None
    return None, None, last


def fetch_one(hooks: Hooks, provider: str, settings: ProviderSettings, deadline: float,
              on_event: Event | None = None) -> FetchOutcome:
    """Fetch ``provider``'s list, retrying transient errors until ``deadline`` (monotonic)."""
    started = time.monotonic()
    out = FetchOutcome(provider)
    emit = on_event or (lambda *_: None)
    emit(provider, "start", "")
    while True:
        out.attempts += 1
        models, plugin, exc = _call_plugins(hooks, provider, settings)
        out.seconds = time.monotonic() - started
        if models is not None:
            out.models, out.plugin = models, plugin
            emit(provider, "done", f"{len(models)} models")
            return out
        if exc is None:
            out.status, out.error = "no-plugin", f"no installed plugin lists models for {provider!r}"
            emit(provider, "failed", out.error)
            return out
        out.exception, out.error, out.status = exc, _describe(exc), "error"
        info = hooks.classify_error(exc, provider).value
        retryable = bool(info and info.retryable and info.kind.value != "timeout")
        if not retryable or out.attempts >= config.MAX_ATTEMPTS:
            emit(provider, "failed", out.error)
            return out
        asked = info.retry_after if info is not None else None
        delay = asked if asked is not None else min(0.5 * 2 ** (out.attempts - 1), 4.0) * random.uniform(0.75, 1.0)
        remaining = deadline - time.monotonic()
        if delay > config.MAX_BACKOFF or delay >= remaining:
            out.error += f" (retry-after {delay:.1f}s exceeds the remaining {max(remaining, 0):.1f}s budget)"
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
