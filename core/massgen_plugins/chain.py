"""Chaining helpers: call hook implementations one by one, isolating each plugin's failures.

pluggy stops a hook call at the first exception and cannot tell which plugin returned which
result (pluggy#235, #419). The host therefore walks the implementations itself, in pluggy's call
order, and records one :class:`Attempt` per implementation: what it returned, or why it was
skipped. Three shapes cover every hook:

* :func:`first_result` / :func:`afirst_result` -- stop at the first acceptable result;
* :func:`collect_all` / :func:`acollect_all` -- every result, errors isolated;
* :func:`implementations` -- the ordered callables, for hosts that chain outputs (compression).

With ``MASSGEN_PLUGINS_STRICT=1`` a plugin's exception is re-raised instead of skipped.
"""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

import pluggy

T = TypeVar("T")

Status = Literal["result", "none", "rejected", "error"]


def strict_mode() -> bool:
    """True when ``MASSGEN_PLUGINS_STRICT`` asks for plugin errors to be re-raised."""
    return os.environ.get("MASSGEN_PLUGINS_STRICT", "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Implementation:
    """One plugin's implementation of one hook, callable with the hook's keyword arguments."""

    plugin_name: str
    hook: str
    function: Callable[..., Any]
    argnames: tuple[str, ...]

    def __call__(self, **kwargs: Any) -> Any:
        return self.function(*(kwargs[name] for name in self.argnames))


@dataclass
class Attempt:
    """What one implementation did during a chained call."""

    plugin: str
    status: Status
    error: str | None = None
    seconds: float = 0.0


@dataclass
class ChainResult(Generic[T]):
    """The outcome of a first-result call: the value, who gave it, and every attempt."""

    value: T | None
    plugin: str | None
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def skipped(self) -> list[Attempt]:
        """Attempts that raised or returned something unacceptable."""
        return [a for a in self.attempts if a.status in ("error", "rejected")]


@dataclass
class Collected(Generic[T]):
    """The outcome of a collect-all call: ``(plugin, value)`` pairs in call order, plus attempts."""

    results: list[tuple[str, T]] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def values(self) -> list[T]:
        return [value for _, value in self.results]

    @property
    def errors(self) -> list[Attempt]:
        return [a for a in self.attempts if a.status in ("error", "rejected")]


Acceptor = Callable[[Any], Any]
"""Turns a raw hook return value into the accepted value, or raises ``ValueError``/``TypeError``
(the attempt is then recorded as ``rejected``). Return ``None`` to treat it as "no answer"."""


def implementations(pm: pluggy.PluginManager, hook_name: str) -> list[Implementation]:
    """The implementations of ``hook_name`` in pluggy's call order (wrappers excluded)."""
    caller = getattr(pm.hook, hook_name)
    impls = [i for i in caller.get_hookimpls() if not (i.wrapper or i.hookwrapper)]
    return [
        Implementation(i.plugin_name, hook_name, i.function, tuple(i.argnames)) for i in reversed(impls)
    ]


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _run(impl: Implementation, kwargs: Mapping[str, Any]) -> tuple[Any, BaseException | None, float]:
    started = time.perf_counter()
    try:
        value = impl(**kwargs)
    except Exception as exc:
        if strict_mode():
            raise
        return None, exc, time.perf_counter() - started
    return value, None, time.perf_counter() - started


def _judge(impl: Implementation, value: Any, accept: Acceptor | None) -> tuple[Any, Attempt]:
    """Apply ``accept`` to a raw value and build the attempt record."""
    if value is None:
        return None, Attempt(impl.plugin_name, "none")
    if accept is None:
        return value, Attempt(impl.plugin_name, "result")
    try:
        accepted = accept(value)
    except (ValueError, TypeError) as exc:
        if strict_mode():
            raise
        return None, Attempt(impl.plugin_name, "rejected", f"returned an invalid result: {_describe(exc)}")
    if accepted is None:
        return None, Attempt(impl.plugin_name, "none")
    return accepted, Attempt(impl.plugin_name, "result")


def first_result(
    pm: pluggy.PluginManager,
    hook_name: str,
    kwargs: Mapping[str, Any],
    *,
    accept: Acceptor | None = None,
) -> ChainResult[Any]:
    """Call implementations in order until one returns an acceptable, non-``None`` value."""
    attempts: list[Attempt] = []
    for impl in implementations(pm, hook_name):
        value, error, seconds = _run(impl, kwargs)
        if error is not None:
            attempts.append(Attempt(impl.plugin_name, "error", _describe(error), seconds))
            continue
        accepted, attempt = _judge(impl, value, accept)
        attempt.seconds = seconds
        attempts.append(attempt)
        if accepted is not None:
            return ChainResult(accepted, impl.plugin_name, attempts)
    return ChainResult(None, None, attempts)


async def await_me_maybe(value: Any) -> Any:
    """Await ``value`` if it is awaitable; return it unchanged otherwise."""
    if inspect.isawaitable(value):
        return await value
    return value


async def _arun(impl: Implementation, kwargs: Mapping[str, Any]) -> tuple[Any, BaseException | None, float]:
    started = time.perf_counter()
    try:
        value = await await_me_maybe(impl(**kwargs))
    except Exception as exc:
        if strict_mode():
            raise
        return None, exc, time.perf_counter() - started
    return value, None, time.perf_counter() - started


async def afirst_result(
    pm: pluggy.PluginManager,
    hook_name: str,
    kwargs: Mapping[str, Any],
    *,
    accept: Acceptor | None = None,
) -> ChainResult[Any]:
    """:func:`first_result` for hooks whose implementations may return awaitables."""
    attempts: list[Attempt] = []
    for impl in implementations(pm, hook_name):
        value, error, seconds = await _arun(impl, kwargs)
        if error is not None:
            attempts.append(Attempt(impl.plugin_name, "error", _describe(error), seconds))
            continue
        accepted, attempt = _judge(impl, value, accept)
        attempt.seconds = seconds
        attempts.append(attempt)
        if accepted is not None:
            return ChainResult(accepted, impl.plugin_name, attempts)
    return ChainResult(None, None, attempts)


def collect_all(
    pm: pluggy.PluginManager,
    hook_name: str,
    kwargs: Mapping[str, Any],
    *,
    accept: Acceptor | None = None,
) -> Collected[Any]:
    """Call every implementation; gather non-``None`` results; isolate failures."""
    out: Collected[Any] = Collected()
    for impl in implementations(pm, hook_name):
        value, error, seconds = _run(impl, kwargs)
        if error is not None:
            out.attempts.append(Attempt(impl.plugin_name, "error", _describe(error), seconds))
            continue
        accepted, attempt = _judge(impl, value, accept)
        attempt.seconds = seconds
        out.attempts.append(attempt)
        if accepted is not None:
            out.results.append((impl.plugin_name, accepted))
    return out


async def acollect_all(
    pm: pluggy.PluginManager,
    hook_name: str,
    kwargs: Mapping[str, Any],
    *,
    accept: Acceptor | None = None,
) -> Collected[Any]:
    """:func:`collect_all` for hooks whose implementations may return awaitables."""
    out: Collected[Any] = Collected()
    for impl in implementations(pm, hook_name):
        value, error, seconds = await _arun(impl, kwargs)
        if error is not None:
            out.attempts.append(Attempt(impl.plugin_name, "error", _describe(error), seconds))
            continue
        accepted, attempt = _judge(impl, value, accept)
        attempt.seconds = seconds
        out.attempts.append(attempt)
        if accepted is not None:
            out.results.append((impl.plugin_name, accepted))
    return out
