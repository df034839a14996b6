"""Explorer: ``GET /api/runs`` at 1,000 runs and 100,000 events, over HTTP, against the bar.

Writes N run directories through ``RunLog`` (a team of three agents per run, with calls,
overflows, compressions, retries, fallbacks, memory events: E events each), then serves them
with ``massgen-plugins explore``'s app on a background uvicorn server and measures, in the same
process and run:

* **cold**: the first ``/api/runs`` of a new explorer with no cache file (every run read once);
* **warm**: ``/api/runs`` repeated (the index answers from fingerprints: ``stat`` calls only);
* **one run changed**: ``/api/runs`` right after one run got a new event (one run re-read);
* **restart with the cache file**: the first ``/api/runs`` of a second explorer;
* **baseline, no index**: what answering ``/api/runs`` costs when every run is read and
  summarised per request (what the index avoids), timed in-process without HTTP;
* **live update**: from an event appended to a run to its arrival over server-sent events
  (``/api/runs/<id>/events?follow=1``), bar 2 s.

Bar: ``/api/runs`` ≤ 200 ms at 1,000 runs / 100k events (warm, p95).

    python bench/explorer.py [--runs 1000] [--events 100] [--dir DIR] [--repeat 30]
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import click
import httpx
from rich.console import Console
from rich.table import Table

AGENTS = [("researcher", "openai/gpt-4o-mini"), ("analyst", "anthropic/claude-haiku-4-5"),
          ("reviewer", "gemini/gemini-2.5-flash")]


def write_run(directory: Path, number: int, events: int) -> None:
    """One realistic run of about ``events`` events (pinned clock: deterministic)."""
    from massgen_plugins.runlog import RunLog

    now = [1_768_000_000.0 + number * 600]

    def clock() -> float:
        return now[0]

    log = RunLog.create(directory, clock=clock, title=f"bench run {number}",
                        agents=[{"id": a, "model": m} for a, m in AGENTS])
    i = 0
    while log._seq < events - 1:
        agent, model = AGENTS[i % 3]
        now[0] += 0.4
        call = f"c{number}-{i}"
        tokens = 2_000 + 700 * (i % 11)
        log.event("call_start", agent=agent, call_id=call, model=model, input_tokens=tokens, max_tokens=1024)
        if i % 17 == 16:
            log.event("call_end", agent=agent, call_id=call, model=model, outcome="overflow", latency_ms=120.0,
                      error_kind="overflow")
            log.event("overflow", agent=agent, mode="reactive", model=model, limit=8_192, requested=tokens + 1024)
            log.event("compression", agent=agent, stage="summarize", model=model, tokens_before=tokens,
                      tokens_after=tokens // 2, archived_ids=[f"m-{number:04x}{i:012x}"], stages_tried=["mask", "summarize"])
        elif i % 13 == 12:
            log.event("call_end", agent=agent, call_id=call, model=model, outcome="error", latency_ms=30.0,
                      error_kind="rate_limit")
            log.event("retry", agent=agent, model=model, attempt=1, kind="rate_limit", reason="429", delay_s=0.5)
        else:
            log.event("call_end", agent=agent, call_id=call, model=model, latency_ms=700.0 + 10 * (i % 7),
                      usage={"input_tokens": tokens, "output_tokens": 120})
            log.event("memory_write", agent=agent, scope="session", kind="turn", count=2)
        if i % 41 == 40:
            log.event("fallback", agent=agent, from_model=model, to_model=AGENTS[(i + 1) % 3][1], why="overflow")
        i += 1
    log.close()


def generate(root: Path, runs: int, events: int, say) -> None:
    existing = sum(1 for p in root.iterdir() if (p / "meta.json").exists()) if root.exists() else 0
    if existing >= runs:
        say(f"reusing {existing} runs in {root}")
        return
    root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for n in range(existing, runs):
        write_run(root / f"run_bench_{n:05d}", n, events)
    say(f"wrote {runs - existing} runs in {time.perf_counter() - started:.1f} s")


def timed_get(client: httpx.Client, url: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.get(url)
    return (time.perf_counter() - started) * 1000, response


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@click.command()
@click.option("--runs", default=1000, show_default=True)
@click.option("--events", default=100, show_default=True, help="Events per run.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Where the runs go (reused when already there); default: a temporary directory.")
@click.option("--repeat", default=30, show_default=True, help="Warm requests timed.")
def main(runs: int, events: int, directory: Path | None, repeat: int) -> None:
    from massgen_plugins.explorer.app import create_app
    from massgen_plugins.explorer.index import summarize_path
    from massgen_plugins.runlog import RunLog
    from massgen_plugins.web import BackgroundServer

    console = Console()
    tmp = tempfile.TemporaryDirectory(prefix="explorer-bench-")
    os.environ.setdefault("MASSGEN_PLUGINS_HOME", str(Path(tmp.name) / "home"))
    root = directory or Path(tmp.name) / "runs"
    generate(root, runs, events, console.print)
    total_events = sum(json.loads((p / "meta.json").read_text())["events"] for p in root.iterdir()
                       if (p / "meta.json").exists())
    cache = Path(tmp.name) / "index.json"
    rows: list[tuple[str, str, str]] = []

    with BackgroundServer(create_app([root], cache_file=cache)) as server, httpx.Client(timeout=600) as client:
        cold, response = timed_get(client, server.url + "/api/runs")
        listed = response.json()["total"]
        warm = [timed_get(client, server.url + "/api/runs")[0] for _ in range(repeat)]
        victim = sorted(root.iterdir())[0]
        changed = []
        for k in range(5):
            log = RunLog.open(victim)
            log.event("note", message=f"bench touch {k}")
            log.close()
            changed.append(timed_get(client, server.url + "/api/runs")[0])
        # live: event appended -> delivered by server-sent events
        live_dir = root.parent / "live-bench-run"
        live_log = RunLog.create(live_dir) if not (live_dir / "meta.json").exists() else RunLog.open(live_dir)
        delays: list[float] = []
        with BackgroundServer(create_app([live_dir], cache_file=False)) as live:
            run_id = live_dir.name
            client.get(live.url + "/api/runs")
            with client.stream("GET", live.url + f"/api/runs/{run_id}/events",
                               params={"follow": "1", "after": live_log._seq - 1}) as stream:
                lines = stream.iter_lines()
                for k in range(10):
                    sent = [0.0]

                    def write(k: int = k, sent: list[float] = sent) -> None:
                        time.sleep(0.05)
                        sent[0] = time.perf_counter()
                        live_log.event("note", message=f"live {k}")

                    threading.Thread(target=write).start()
                    for line in lines:
                        if line.startswith("data: "):
                            delays.append((time.perf_counter() - sent[0]) * 1000)
                            break
        live_log.close()
    with BackgroundServer(create_app([root], cache_file=cache)) as server, httpx.Client(timeout=600) as client:
        restart, _ = timed_get(client, server.url + "/api/runs")

    started = time.perf_counter()
    for p in sorted(root.iterdir()):
        if (p / "meta.json").exists():
            summarize_path(p)
    baseline = (time.perf_counter() - started) * 1000

    table = Table(title=f"explorer /api/runs — {listed} runs, {total_events:,} events", header_style="bold")
    for column in ("measure", "measured", "bar"):
        table.add_column(column, justify="right" if column != "measure" else "left")
    rows = [
        ("warm p50", f"{statistics.median(warm):.1f} ms", ""),
        ("warm p95", f"{pct(warm, 95):.1f} ms", "≤ 200 ms " + ("✔" if pct(warm, 95) <= 200 else "✘")),
        ("one run changed, p50 of 5", f"{statistics.median(changed):.1f} ms", ""),
        ("cold (first request, no cache)", f"{cold:.0f} ms", ""),
        ("restart with the cache file", f"{restart:.1f} ms", ""),
        ("baseline: no index (read every run per request)", f"{baseline:.0f} ms", ""),
        ("live: event written → SSE delivered, p50", f"{statistics.median(delays):.0f} ms", ""),
        ("live: event written → SSE delivered, max", f"{max(delays):.0f} ms", "≤ 2000 ms " + ("✔" if max(delays) <= 2000 else "✘")),
    ]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    tmp.cleanup()


if __name__ == "__main__":
    main()
