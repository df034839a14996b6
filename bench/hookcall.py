"""What bounding a hook call costs: one implementation called through ``HookCall`` (deadline,
worker thread for a plain function, result check, attempt record) against pluggy's bare
``pm.hook.<name>(...)`` (no deadline, no isolation), measured in the same run.

The implementation answers at once, so every row is pure dispatch overhead. The guard calls a
handful of hooks per turn (``complete`` always; ``detect_overflow``/``classify_error`` only after
a failure; ``compress``/``count_tokens`` only when compressing), so the bar that matters is the
guard's: ≤ 1 ms and ≤ 5 % per call (``bench/overhead.py`` measures the whole turn).

A second table runs whole turns: ``Session.send`` against a provider plugin that answers at once
(no HTTP), with the hooks bounded as shipped and with the same hooks called inline on the event
loop (the unbounded way), interleaved.

    python bench/hookcall.py [--calls 5000] [--turns 300]
"""

from __future__ import annotations

import asyncio
import statistics
import time

import click
from massgen_plugins import hookimpl
from massgen_plugins.hookcall import HookCall
from massgen_plugins.manager import create_manager
from rich.console import Console
from rich.table import Table


class Plain:
    @hookimpl
    def classify_error(self, error, provider):
        return {"kind": "rate_limit", "retryable": True}


class Async:
    @hookimpl
    async def classify_error(self, error, provider):
        return {"kind": "rate_limit", "retryable": True}


def _median_us(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e6, ordered[int(len(ordered) * 0.95)] * 1e6


class Instant:
    """A provider plugin that answers at once: a turn against it is the guard's own work."""

    @hookimpl
    def register_providers(self):
        return {"name": "instant", "api_key_env": []}

    @hookimpl
    def complete(self, request, settings):
        from massgen_plugins.types import CompletionResponse, Message

        async def answer():
            return CompletionResponse(model=request.model, message=Message(role="assistant", content="ok"))

        return answer()


async def _inline(impl, kwargs, limit, await_result):
    """The unbounded way: call the implementation on the event loop, no thread, no timeout."""
    started = time.perf_counter()
    try:
        value = impl(**kwargs)
        if impl.is_async or (await_result and asyncio.iscoroutine(value)):
            value = await value
    except Exception as exc:
        return None, exc, time.perf_counter() - started
    return value, None, time.perf_counter() - started


def _turns(turns: int) -> dict[str, list[float]]:
    from massgen_plugins import hookcall
    from massgen_plugins.guard import Session
    from massgen_plugins.manager import get_host

    get_host().pm.register(Instant(), name="bench-instant")
    bounded = hookcall._run_async
    rows: dict[str, list[float]] = {"bounded": [], "inline": []}

    async def run() -> None:
        session = Session("instant/m", memory=False, run_log=False)
        for i in range(turns):
            for key, runner in (("bounded", bounded), ("inline", _inline)):
                hookcall._run_async = runner  # type: ignore[assignment]
                t = time.perf_counter()
                await session.send(f"turn {i}")
                rows[key].append(time.perf_counter() - t)
                session.messages = session.messages[-2:]
        hookcall._run_async = bounded

    asyncio.run(run())
    return rows


@click.command()
@click.option("--calls", default=5000, show_default=True, help="Calls per row.")
@click.option("--turns", default=300, show_default=True, help="Session.send turns per row.")
def main(calls: int, turns: int) -> None:
    """Print the cost of one bounded hook call next to pluggy's bare call."""
    plain, asynchronous = create_manager(), create_manager()
    plain.register(Plain(), name="plain")
    asynchronous.register(Async(), name="async")
    kwargs = {"error": RuntimeError("429"), "provider": "acme"}
    rows: dict[str, list[float]] = {k: [] for k in ("bare", "sync", "thread", "coroutine")}

    async def measure() -> None:
        for _ in range(calls):  # interleaved, so load changes hit every row alike
            t = time.perf_counter()
            plain.hook.classify_error(**kwargs)
            rows["bare"].append(time.perf_counter() - t)
            t = time.perf_counter()
            HookCall(plain, "classify_error", kwargs).run()
            rows["sync"].append(time.perf_counter() - t)
            t = time.perf_counter()
            await HookCall(plain, "classify_error", kwargs).arun()
            rows["thread"].append(time.perf_counter() - t)
            t = time.perf_counter()
            await HookCall(asynchronous, "classify_error", kwargs).arun()
            rows["coroutine"].append(time.perf_counter() - t)

    asyncio.run(measure())
    labels = {
        "bare": "pluggy pm.hook call (baseline: unbounded, not isolated)",
        "sync": "HookCall.run(): plain def on a worker thread, caller waits ≤ deadline",
        "thread": "HookCall.arun(): plain def on a worker thread, loop never blocked",
        "coroutine": "HookCall.arun(): async def under asyncio timeout",
    }
    base = statistics.median(rows["bare"]) * 1e6
    table = Table(title=f"one hook call, {calls} calls per row (µs)")
    for column in ("path", "median", "p95", "over baseline", "bar (whole guard call)"):
        table.add_column(column)
    for key, label in labels.items():
        median, p95 = _median_us(rows[key])
        extra = "—" if key == "bare" else f"+{median - base:.0f} µs"
        table.add_row(label, f"{median:.0f}", f"{p95:.0f}", extra, "≤ 1 ms ✓" if median < 1000 else "≤ 1 ms ✗")
    Console().print(table)

    whole = _turns(turns)
    inline_ms = statistics.median(whole["inline"]) * 1e3
    table = Table(title=f"Session.send against an instant provider, {turns} turns per row (ms)")
    for column in ("path", "median", "p95", "difference", "bar (guard overhead per call)"):
        table.add_column(column)
    for key, label in (("inline", "hooks called inline on the loop (unbounded)"), ("bounded", "hooks bounded (shipped)")):
        median, p95 = (v / 1000 for v in _median_us(whole[key]))
        diff = "—" if key == "inline" else f"{(median - inline_ms) * 1000:+.0f} µs"
        table.add_row(label, f"{median:.3f}", f"{p95:.3f}", diff, "≤ 1 ms ✓" if median < 1 else "≤ 1 ms ✗")
    Console().print(table)


if __name__ == "__main__":
    main()
