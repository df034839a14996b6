"""What bounding a hook call costs: one implementation called through ``HookCall`` (deadline,
worker thread for a plain function, result check, attempt record) against pluggy's bare
``pm.hook.<name>(...)`` (no deadline, no isolation), measured in the same run.

The implementation answers at once, so every row is pure dispatch overhead. The guard calls a
handful of hooks per turn (``complete`` always; ``detect_overflow``/``classify_error`` only after
a failure; ``compress``/``count_tokens`` only when compressing), so the bar that matters is the
guard's: ≤ 1 ms and ≤ 5 % per call (``bench/overhead.py`` measures the whole turn).

    python bench/hookcall.py [--calls 5000]
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


@click.command()
@click.option("--calls", default=5000, show_default=True, help="Calls per row.")
def main(calls: int) -> None:
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


if __name__ == "__main__":
    main()
