"""Calling hook implementations: one at a time, routed, bounded in time and isolated.

pluggy stops a hook call at the first exception, cannot tell which plugin returned which result
(pluggy#235, #419) and has no notion of time. The host therefore walks the implementations
itself, in pluggy's call order, and records one :class:`Attempt` per implementation: what it
returned, or why it was skipped -- it raised, returned something unacceptable, or missed its
deadline.

A :class:`HookCall` describes one call: the hook, its arguments, how results combine (the first
acceptable one, or all of them), which plugins may answer (provider routing), and the deadline.
``call.run()`` drives it from synchronous code, ``await call.arun()`` from the event loop; both
walk the implementations the same way and differ only in how one implementation is run:

* from synchronous code, the implementation runs on a worker thread (an ``async def`` one in its
  own event loop there) and the caller waits at most the deadline;
* on the event loop, a plain ``def`` implementation runs on a worker thread too (so a blocking
  plugin never freezes the loop and the other agents on it); an ``async def`` one is awaited
  under a timeout; an awaitable that a plain function returns is awaited within what is left of
  the same deadline. For ``complete`` and ``stream`` (whose result is the call itself, bounded
  by the caller's request timeout), an ``async def`` implementation or an async generator
  function is called right on the loop: creating the coroutine or generator runs none of its
  code, so there is nothing to bound and no worker-thread hop to pay.

A late implementation is abandoned and recorded as ``timeout``: its worker is a daemon thread, so
it cannot keep the process alive. One that misses its deadline :data:`QUARANTINE_AFTER` times is
not called again in this process. Every skipped implementation (raised, rejected, late) is
reported: see :mod:`massgen_plugins.hookreport`.

Deadlines (seconds) default to :data:`DEFAULT_DEADLINES` and are configured with
``MASSGEN_PLUGINS_HOOK_DEADLINES`` (``"detect_overflow=2,compress=60"``; ``"*=10"`` sets every
hook) or per call. With ``MASSGEN_PLUGINS_STRICT=1`` a plugin's failure is raised instead of
skipped.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import os
import queue
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import pluggy

from .errors import InputError
from .hookreport import report_skip
from .redact import describe_error

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")

Status = Literal["result", "none", "rejected", "error", "timeout"]

#: Seconds one implementation may take, per hook. ``complete``/``stream`` cover starting the
#: call (returning the awaitable or iterator); the call itself runs under its request timeout.
DEFAULT_DEADLINES: dict[str, float] = {
    "register_providers": 10.0,
    "list_models": 30.0,
    "model_metadata": 30.0,
    "count_tokens": 30.0,
    "detect_overflow": 5.0,
    "classify_error": 5.0,
    "compress": 300.0,
    "complete": 10.0,
    "stream": 10.0,
    "memory_store": 60.0,
    "embed": 60.0,
    "analyze_logs": 300.0,
}
FALLBACK_DEADLINE = 60.0
DEADLINES_ENV = "MASSGEN_PLUGINS_HOOK_DEADLINES"
QUARANTINE_AFTER = 3


def strict_mode() -> bool:
    """True when ``MASSGEN_PLUGINS_STRICT`` asks for plugin errors to be re-raised."""
    return os.environ.get("MASSGEN_PLUGINS_STRICT", "").strip().lower() in {"1", "true", "yes", "on"}


def _parse_deadlines(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            seconds = float(value) if sep else float("nan")
        except ValueError:
            seconds = float("nan")
        if not name.strip() or not seconds > 0:
            raise InputError(
                f"invalid {DEADLINES_ENV} entry {part!r}: use HOOK=SECONDS pairs separated by commas, "
                "e.g. detect_overflow=2,compress=60 (or *=10 for every hook)"
            )
        out[name.strip()] = seconds
    return out



async def bounded(awaitable: Awaitable[T], seconds: float) -> T:
    """``await awaitable``, cancelled after ``seconds`` (:class:`asyncio.TimeoutError`).

    On Python 3.11+ the awaitable runs in the caller's task under :func:`asyncio.timeout`;
    :func:`asyncio.wait_for` would wrap it in a new task, which costs two more turns of the event
    loop per call.
    """
    import asyncio

    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, timeout=seconds)

_parsed: list[Any] = [None, {}]  # the last (text, deadlines) parsed: the variable rarely changes


def deadline(hook: str) -> float:
    """The deadline in seconds for one implementation of ``hook`` (environment, then default).

    :raises InputError: when ``MASSGEN_PLUGINS_HOOK_DEADLINES`` is malformed.
    """
    text = os.environ.get(DEADLINES_ENV, "")
    last_text, configured = _parsed
    if text != last_text:
        configured = _parse_deadlines(text)
        _parsed[:] = [text, configured]
    if hook in configured:
        return configured[hook]
    return configured.get("*", DEFAULT_DEADLINES.get(hook, FALLBACK_DEADLINE))


@dataclass(frozen=True)
class Implementation:
    """One plugin's implementation of one hook, callable with the hook's keyword arguments."""

    plugin_name: str
    hook: str
    function: Callable[..., Any]
    argnames: tuple[str, ...]

    def __call__(self, **kwargs: Any) -> Any:
        return self.function(*(kwargs[name] for name in self.argnames))

    @functools.cached_property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.function)

    @functools.cached_property
    def makes_call_object(self) -> bool:
        """Calling it only creates a coroutine or an async generator (runs none of its code)."""
        return self.is_async or inspect.isasyncgenfunction(self.function)


@dataclass
class Attempt:
    """What one implementation did during a hook call."""

    plugin: str
    status: Status
    error: str | None = None
    seconds: float = 0.0
    hook: str = ""
    exception: BaseException | None = field(default=None, repr=False, compare=False)

    @property
    def skipped(self) -> bool:
        """It raised, returned something unacceptable, or missed its deadline."""
        return self.status in ("error", "rejected", "timeout")


@dataclass
class ChainResult(Generic[T]):
    """The outcome of a first-result call: the value, who gave it, and every attempt."""

    value: T | None
    plugin: str | None
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def skipped(self) -> list[Attempt]:
        """Attempts that raised, returned something unacceptable or were late."""
        return [a for a in self.attempts if a.skipped]


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
        return [a for a in self.attempts if a.skipped]


Acceptor = Callable[[Any], Any]
"""Turns a raw hook return value into the accepted value, or raises ``ValueError``/``TypeError``
(the attempt is then recorded as ``rejected``). Return ``None`` to treat it as "no answer"."""


class HookTimeout(Exception):
    """An implementation did not answer within its hook's deadline."""


def implementations(
    pm: pluggy.PluginManager, hook_name: str, only: Callable[[str], bool] | None = None
) -> list[Implementation]:
    """The implementations of ``hook_name`` in pluggy's call order (wrappers excluded), keeping
    only plugins for which ``only(plugin_name)`` is true when ``only`` is given."""
    caller = getattr(pm.hook, hook_name)
    impls = [i for i in caller.get_hookimpls() if not (i.wrapper or i.hookwrapper)]
    return [
        Implementation(i.plugin_name, hook_name, i.function, tuple(i.argnames))
        for i in reversed(impls)
        if only is None or only(i.plugin_name)
    ]


# --------------------------------------------------------------------------- worker threads


class _Workers:
    """Daemon threads that run plugin code off the caller's thread (or the event loop).

    A new thread starts whenever none is idle, so a plugin stuck forever holds one thread and
    never delays another call; daemon threads never keep the process alive at exit.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._idle = 0
        self._lock = threading.Lock()
        self.submitted = 0
        """Jobs handed to a worker so far (each one is a thread hop for its caller)."""

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            self.submitted += 1
            spawn = self._idle == 0
            if not spawn:
                self._idle -= 1
        if spawn:
            threading.Thread(target=self._work, name="massgen-plugins-hook", daemon=True).start()
        self._jobs.put(job)

    def _work(self) -> None:
        while True:
            self._jobs.get()()
            with self._lock:
                self._idle += 1


_WORKERS = _Workers()
_late: Counter[tuple[str, str]] = Counter()


def _quarantined(impl: Implementation) -> HookTimeout | None:
    misses = _late[(impl.hook, impl.plugin_name)]
    if misses < QUARANTINE_AFTER:
        return None
    return HookTimeout(f"not called: it missed its {impl.hook} deadline {misses} times in this process")


def _late_error(impl: Implementation, limit: float) -> HookTimeout:
    _late[(impl.hook, impl.plugin_name)] += 1
    return HookTimeout(
        f"no answer within {limit:g} s (the {impl.hook} deadline; raise it with {DEADLINES_ENV}={impl.hook}=SECONDS)"
    )


Ran = tuple[Any, "BaseException | None", float]


def _run_sync(impl: Implementation, kwargs: Mapping[str, Any], limit: float, await_result: bool = True) -> Ran:
    started = time.perf_counter()
    blocked = _quarantined(impl)
    if blocked is not None:
        return None, blocked, 0.0
    done = threading.Event()
    box: list[Any] = [None, None]
    context = contextvars.copy_context()

    def job() -> None:
        try:
            value = context.run(impl, **kwargs)
            if await_result and inspect.iscoroutine(value):  # an ``async def`` called from sync code
                import asyncio

                value = context.run(asyncio.run, value)
            box[0] = value
        except BaseException as exc:  # reported to the caller, never lost in the thread
            box[1] = exc
        done.set()

    _WORKERS.submit(job)
    if not done.wait(limit):
        return None, _late_error(impl, limit), time.perf_counter() - started
    return box[0], box[1], time.perf_counter() - started


async def _run_async(impl: Implementation, kwargs: Mapping[str, Any], limit: float, await_result: bool) -> Ran:
    import asyncio  # not at module level: ``massgen-plugins list`` never needs it

    started = time.perf_counter()
    blocked = _quarantined(impl)
    if blocked is not None:
        return None, blocked, 0.0
    try:
        if not await_result and impl.makes_call_object:
            value = impl(**kwargs)  # the coroutine (or async generator) *is* the call; the caller bounds it
        elif impl.is_async:
            value = await asyncio.wait_for(impl(**kwargs), limit)
        else:
            value = await asyncio.wait_for(_in_thread(impl, kwargs), limit)
            if await_result and inspect.isawaitable(value):
                remaining = max(limit - (time.perf_counter() - started), 0.001)
                value = await asyncio.wait_for(value, remaining)  # type: ignore[arg-type]
    except asyncio.TimeoutError as exc:
        elapsed = time.perf_counter() - started
        if elapsed >= limit:  # the deadline; a plugin's own TimeoutError (raised sooner) is its failure
            return None, _late_error(impl, limit), elapsed
        return None, exc, elapsed
    except Exception as exc:
        return None, exc, time.perf_counter() - started
    return value, None, time.perf_counter() - started


def _in_thread(impl: Implementation, kwargs: Mapping[str, Any]) -> asyncio.Future[Any]:
    import asyncio

    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    context = contextvars.copy_context()

    def settle(value: Any, error: BaseException | None) -> None:
        if future.done():  # abandoned after its deadline
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def job() -> None:
        value: Any = None
        error: BaseException | None = None
        try:
            value = context.run(impl, **kwargs)
        except BaseException as exc:
            error = exc
        try:
            loop.call_soon_threadsafe(settle, value, error)
        except RuntimeError:  # the loop closed while the plugin was running
            pass

    _WORKERS.submit(job)
    return future


def _failure(impl: Implementation, error: BaseException, seconds: float) -> Attempt:
    """The attempt record of an implementation that raised or was late."""
    if isinstance(error, HookTimeout):
        return Attempt(impl.plugin_name, "timeout", str(error), seconds, impl.hook, error)
    return Attempt(impl.plugin_name, "error", describe_error(error), seconds, impl.hook, error)


# --------------------------------------------------------------------------- one call


@dataclass
class HookCall:
    """One call of one hook across its implementations."""

    pm: pluggy.PluginManager
    hook: str
    kwargs: Mapping[str, Any]
    collect: bool = False
    """``False``: stop at the first acceptable, non-``None`` result; ``True``: gather them all."""
    accept: Acceptor | None = None
    only: Callable[[str], bool] | None = None
    """Which plugins may answer (provider routing); ``None``: every plugin."""
    await_result: bool = True
    """``arun``: await an awaitable result within the deadline (``False`` for ``complete``)."""
    propagate: tuple[type[BaseException], ...] = ()
    """Exceptions a plugin raises on purpose for the caller (re-raised, never skipped)."""
    limit: float | None = None
    """The deadline in seconds; ``None``: :func:`deadline` of the hook."""
    report_raised: bool = True
    """Report implementations that raised (``False`` when the caller reports them itself, as the
    model registry does for a provider's failed list call); late and rejected ones always are."""
    impls: list[Implementation] | None = None
    """The implementations to walk when the caller has routed them already (in call order);
    ``None``: looked up in ``pm``, filtered by ``only``."""

    def implementations(self) -> list[Implementation]:
        if self.impls is not None:
            return list(self.impls)
        return implementations(self.pm, self.hook, self.only)

    def run(self) -> Any:
        """Drive the call from synchronous code; a :class:`ChainResult` or :class:`Collected`."""
        walk = _Walk(self)
        limit = self.limit if self.limit is not None else deadline(self.hook)
        for impl in self.implementations():
            if walk.record(impl, *_run_sync(impl, self.kwargs, limit, self.await_result)):
                break
        return walk.outcome()

    async def arun(self) -> Any:
        """Drive the call on the event loop without ever blocking it."""
        walk = _Walk(self)
        limit = self.limit if self.limit is not None else deadline(self.hook)
        for impl in self.implementations():
            if walk.record(impl, *await _run_async(impl, self.kwargs, limit, self.await_result)):
                break
        return walk.outcome()


class _Walk:
    """Judges each implementation's outcome and accumulates the attempts and results."""

    def __init__(self, call: HookCall) -> None:
        self.call = call
        self.attempts: list[Attempt] = []
        self.results: list[tuple[str, Any]] = []

    def record(self, impl: Implementation, value: Any, error: BaseException | None, seconds: float) -> bool:
        """Record one implementation's outcome; True when the walk is over."""
        if error is not None:
            if isinstance(error, self.call.propagate):
                raise error
            if strict_mode():
                raise error
            return self._skip(_failure(impl, error, seconds))
        if value is None:
            self.attempts.append(Attempt(impl.plugin_name, "none", None, seconds, impl.hook))
            return False
        accepted = value
        if self.call.accept is not None:
            try:
                accepted = self.call.accept(value)
            except (ValueError, TypeError) as exc:
                if strict_mode():
                    raise
                reason = f"returned an invalid result: {describe_error(exc)}"
                return self._skip(Attempt(impl.plugin_name, "rejected", reason, seconds, impl.hook, exc))
        if accepted is None:
            self.attempts.append(Attempt(impl.plugin_name, "none", None, seconds, impl.hook))
            return False
        self.attempts.append(Attempt(impl.plugin_name, "result", None, seconds, impl.hook))
        self.results.append((impl.plugin_name, accepted))
        return not self.call.collect

    def _skip(self, attempt: Attempt) -> bool:
        self.attempts.append(attempt)
        if self.call.report_raised or attempt.status != "error":
            report_skip(attempt)
        return False

    def outcome(self) -> Any:
        if self.call.collect:
            return Collected(self.results, self.attempts)
        if self.results:
            plugin, value = self.results[0]
            return ChainResult(value, plugin, self.attempts)
        return ChainResult(None, None, self.attempts)


# --------------------------------------------------------------------------- shortcuts


def first_result(
    pm: pluggy.PluginManager, hook_name: str, kwargs: Mapping[str, Any], *, accept: Acceptor | None = None
) -> ChainResult[Any]:
    """Call implementations in order until one returns an acceptable, non-``None`` value."""
    result: ChainResult[Any] = HookCall(pm, hook_name, kwargs, accept=accept).run()
    return result


async def afirst_result(
    pm: pluggy.PluginManager, hook_name: str, kwargs: Mapping[str, Any], *, accept: Acceptor | None = None
) -> ChainResult[Any]:
    """:func:`first_result` on the event loop (awaitable results are awaited)."""
    result: ChainResult[Any] = await HookCall(pm, hook_name, kwargs, accept=accept).arun()
    return result


def collect_all(
    pm: pluggy.PluginManager, hook_name: str, kwargs: Mapping[str, Any], *, accept: Acceptor | None = None
) -> Collected[Any]:
    """Call every implementation; gather non-``None`` results; isolate failures."""
    result: Collected[Any] = HookCall(pm, hook_name, kwargs, collect=True, accept=accept).run()
    return result


async def acollect_all(
    pm: pluggy.PluginManager, hook_name: str, kwargs: Mapping[str, Any], *, accept: Acceptor | None = None
) -> Collected[Any]:
    """:func:`collect_all` on the event loop (awaitable results are awaited)."""
    result: Collected[Any] = await HookCall(pm, hook_name, kwargs, collect=True, accept=accept).arun()
    return result


async def call_one(impl: Implementation, kwargs: Mapping[str, Any], *, limit: float | None = None) -> Ran:
    """Run one implementation on the event loop under its hook's deadline, for hosts that chain
    outputs themselves (the compression chain): ``(value, exception or None, seconds)``.

    A raised exception or a missed deadline is reported like any skipped implementation (and
    raised in strict mode); judging the value is the caller's business.
    """
    value, error, seconds = await _run_async(impl, kwargs, limit if limit is not None else deadline(impl.hook), True)
    if error is not None:
        if strict_mode():
            raise error
        report_skip(_failure(impl, error, seconds))
    return value, error, seconds
