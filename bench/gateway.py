"""Gateway overhead: streaming chat completions through ``massgen-plugins serve`` versus calling
the provider emulator directly, beside LiteLLM's proxy, in the same run.

Every server runs in its own process: the emulator (``massgen-plugins emulate``), the gateway
(``massgen-plugins serve``, one worker, a virtual key with limits so authentication, the rate
window and spend accounting are all on the path) and, when installed, LiteLLM's proxy (its own
environment: ``python -m venv /work/peer-venvs/litellm-proxy && /work/peer-venvs/litellm-proxy/bin/pip
install 'litellm[proxy]'``; pass ``--litellm PATH_TO_litellm`` or it is looked up there).

For each concurrency level, ``C`` clients each send ``--requests`` streaming requests one after the
other (a system prompt and one user message: nothing to compress) and time each from sending to
the end of the stream. The same load runs against each target in turn; the overhead at a
percentile is the target's latency minus the direct call's latency at that percentile.

On a small shared machine, 50 or 200 concurrent clients saturate the CPUs, and an end-to-end
delta then measures queueing behind the client and the emulator as much as the proxy. So a second
table reports the time each proxy says it spent on a request itself, measured inside it:

* the gateway: from the request received to the upstream request's last byte handed to the socket,
  plus, for every upstream event, from its arrival to its hand-over to the client's connection
  (the ``overhead_ms`` of each ``call_end`` in its run log; also ``Server-Timing`` and the
  ``massgen_gateway_overhead_seconds`` histogram);
* LiteLLM: its own ``x-litellm-overhead-duration-ms`` response header (LiteLLM's definition, read
  when its response headers arrive; for a stream that excludes relaying the events).

Bar: overhead p50 <= 2 ms and p99 <= 10 ms at 200 concurrent streams. LiteLLM publishes 2 / 8 / 13 ms
(p50 / p95 / p99) on four 4-CPU instances.

    python bench/gateway.py [--concurrency 1 --concurrency 50 --concurrency 200] [--requests 10] [--litellm PATH]
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import httpx
from rich.console import Console
from rich.table import Table

MASTER = "mgp-bench-master-key-000000000001"
LITELLM_KEY = "sk-litellm-bench-" + "0" * 32
DEFAULT_LITELLM = "/work/peer-venvs/litellm-proxy/bin/litellm"
BAR = {"p50": 2.0, "p99": 10.0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen, seconds: float = 120.0, headers: dict | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args[0]} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2, headers=headers).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


async def one_client(client: httpx.AsyncClient, url: str, headers: dict, model: str, requests: int,
                     index: int, out: list[float], ttfts: list[float], errors: list[str],
                     reported: list[float] | None = None) -> None:
    for n in range(requests):
        body = {"model": model, "stream": True, "max_tokens": 64,
                "messages": [{"role": "system", "content": "You are a terse assistant."},
                             {"role": "user", "content": f"client {index} request {n}: say something short"}]}
        started = time.perf_counter()
        first = None
        try:
            async with client.stream("POST", url, json=body, headers=headers) as response:
                if response.status_code != 200:
                    errors.append(f"HTTP {response.status_code}: {(await response.aread())[:200]!r}")
                    continue
                own = response.headers.get("x-litellm-overhead-duration-ms")
                if reported is not None and own not in (None, "None"):
                    reported.append(float(own))
                async for line in response.aiter_lines():
                    if first is None and line.startswith("data: {"):
                        first = time.perf_counter()
                    if line == "data: [DONE]":
                        break
        except (httpx.HTTPError, asyncio.TimeoutError) as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        out.append((time.perf_counter() - started) * 1000)
        if first is not None:
            ttfts.append((first - started) * 1000)


async def load(url: str, headers: dict, model: str, concurrency: int, requests: int, pid: int,
               run_log: Path | None = None) -> dict:
    """Run the load; ``inside`` holds the per-request time the proxy reports for itself (the
    gateway's from ``run_log``, LiteLLM's from its header)."""
    latencies: list[float] = []
    ttfts: list[float] = []
    errors: list[str] = []
    reported: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=httpx.Timeout(120.0), limits=limits) as client:
        await asyncio.gather(*(one_client(client, url, headers, model, 1, i, [], [], []) for i in range(concurrency)))
        cpu_before = tree_cpu(pid)  # after the warm-up round: one-time start-up costs are not counted
        offset = run_log.stat().st_size if run_log is not None else 0
        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(one_client(client, url, headers, model, requests, i, latencies,
                                                           ttfts, errors, reported) for i in range(concurrency))), 1800)
        wall = time.perf_counter() - started
        cpu_ms = (tree_cpu(pid) - cpu_before) * 1000 / max(1, len(latencies) + len(errors))
    inside = gateway_overheads(run_log, offset) if run_log is not None else reported
    parts = {part: gateway_overheads(run_log, offset, part) for part in ("before_upstream", "relay")} \
        if run_log is not None else {}
    return {"latencies": latencies, "ttfts": ttfts, "errors": errors, "rps": len(latencies) / wall, "cpu_ms": cpu_ms,
            "inside": inside, "parts": parts}


def gateway_overheads(run_log: Path, offset: int, part: str = "total") -> list[float]:
    """``overhead_ms[part]`` of every relayed call the gateway logged after byte ``offset``."""
    with run_log.open("rb") as handle:
        handle.seek(offset)
        lines = handle.read().splitlines()
    out: list[float] = []
    for line in lines:
        event = json.loads(line)
        spent = (event.get("data") or {}).get("overhead_ms") if event.get("type") == "call_end" else None
        if spent:
            out.append(float(spent[part]))
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` and its children that were waited for (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid`` and its live descendants (uvicorn/LiteLLM workers)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if int(entry.name) == pid or ppid == pid:
                total += cpu_seconds(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return total


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def start_litellm(binary: str, emulator_openai: str, port: int, workdir: Path) -> subprocess.Popen | None:
    config = workdir / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: openai/gpt-4o-mini\n"
        "    litellm_params:\n"
        "      model: openai/gpt-4o-mini\n"
        f"      api_base: {emulator_openai}\n"
        "      api_key: test-openai-key\n"
        "litellm_settings:\n  num_retries: 0\n  request_timeout: 60\n"
    )
    env = {**os.environ, "LITELLM_LOG": "ERROR", "LITELLM_MASTER_KEY": LITELLM_KEY}
    return subprocess.Popen([binary, "--config", str(config), "--port", str(port), "--host", "127.0.0.1",
                             "--num_workers", "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@click.command()
@click.option("--concurrency", "levels", type=int, multiple=True, default=(1, 50, 200), show_default=True)
@click.option("--requests", type=int, default=10, show_default=True, help="Requests per client per target.")
@click.option("--litellm", "litellm_bin", default=None, help=f"LiteLLM proxy binary (default: {DEFAULT_LITELLM}).")
@click.option("--json", "as_json", is_flag=True, help="Also print the results as JSON.")
def main(levels: tuple[int, ...], requests: int, litellm_bin: str | None, as_json: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="massgen-gateway-bench-"))
    python = sys.executable
    emulator = subprocess.Popen([python, "-m", "massgen_plugins", "emulate", "--json"], stdout=subprocess.PIPE,
                                text=True)
    processes: list[subprocess.Popen] = [emulator]
    try:
        info = json.loads(emulator.stdout.readline())  # type: ignore[union-attr]
        emu_env = info.get("env") or info.get("variables") or {}
        openai_base = emu_env["OPENAI_BASE_URL"]
        env = {**os.environ, **emu_env, "MASSGEN_PLUGINS_HOME": str(work / "home"),
               "MASSGEN_PLUGINS_MASTER_KEY": MASTER, "TIKTOKEN_CACHE_DIR": os.environ.get(
                   "TIKTOKEN_CACHE_DIR", "/work/shared/tiktoken")}
        store = f"sqlite:///{work / 'gateway.db'}"
        made = subprocess.run([python, "-m", "massgen_plugins", "keys", "create", "--name", "bench", "--rpm",
                               "1000000", "--tpm", "1000000000", "--store", store, "--json"], env=env,
                              capture_output=True, text=True, timeout=120, check=True)
        key = json.loads(made.stdout)["key"]
        gw_port = free_port()
        gateway = subprocess.Popen([python, "-m", "massgen_plugins", "serve", "--port", str(gw_port), "--store", store],
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        gw_runs = work / "home" / "runs"
        processes.append(gateway)
        gw_url = f"http://127.0.0.1:{gw_port}"
        wait_for(gw_url + "/health", gateway)
        targets = {
            "direct (emulator)": (openai_base + "/chat/completions", {"authorization": "Bearer test-openai-key"},
                                  "gpt-4o-mini", emulator.pid),
            "massgen gateway": (gw_url + "/v1/chat/completions", {"authorization": f"Bearer {key}"},
                                "openai/gpt-4o-mini", gateway.pid),
        }
        binary = litellm_bin or (DEFAULT_LITELLM if Path(DEFAULT_LITELLM).exists() else shutil.which("litellm"))
        note = ""
        if binary and Path(binary).exists():
            lt_port = free_port()
            litellm = start_litellm(binary, openai_base, lt_port, work)
            if litellm is not None:
                processes.append(litellm)
                wait_for(f"http://127.0.0.1:{lt_port}/health/liveliness", litellm)
                targets["LiteLLM proxy"] = (f"http://127.0.0.1:{lt_port}/v1/chat/completions",
                                            {"authorization": f"Bearer {LITELLM_KEY}"}, "openai/gpt-4o-mini",
                                            litellm.pid)
        else:
            note = f"LiteLLM proxy not found ({binary or DEFAULT_LITELLM}); its rows are missing."
        results: dict[int, dict[str, dict]] = {}
        for level in levels:
            results[level] = {}
            for name, (url, headers, model, pid) in targets.items():
                run_log = next(gw_runs.glob("*/events.jsonl")) if name == "massgen gateway" else None
                results[level][name] = asyncio.run(load(url, headers, model, level, requests, pid, run_log))
        report(results, note, os.cpu_count() or 0)
        if as_json:
            click.echo(json.dumps({str(level): {name: {"p50": pct(r["latencies"], 50), "p95": pct(r["latencies"], 95),
                                                       "p99": pct(r["latencies"], 99), "rps": r["rps"], "cpu_ms": r["cpu_ms"],
                                                       "errors": len(r["errors"]),
                                                       "inside": {f"p{q}": pct(r["inside"], q) for q in (50, 95, 99)}}
                                                for name, r in by.items()} for level, by in results.items()}))
    finally:
        for process in reversed(processes):
            stop(process)
        shutil.rmtree(work, ignore_errors=True)


def report(results: dict[int, dict[str, dict]], note: str, cpus: int) -> None:
    console = Console(width=200)
    table = Table(title=f"Streaming chat completions, {cpus} CPUs shared by client, servers and emulator (ms)")
    for column in ("clients", "target", "ok", "errors", "req/s", "CPU ms/req", "p50", "p95", "p99", "TTFT p50",
                   "overhead p50", "overhead p95", "overhead p99", "bar"):
        table.add_column(column, justify="right" if column not in ("target", "bar") else "left")
    for level, by in results.items():
        base = by["direct (emulator)"]["latencies"]
        for name, r in by.items():
            lat = r["latencies"]
            over = {q: pct(lat, q) - pct(base, q) for q in (50, 95, 99)}
            direct = name.startswith("direct")
            bar = "" if direct else (
                f"p50 <= {BAR['p50']:.0f}, p99 <= {BAR['p99']:.0f}: "
                + ("met" if over[50] <= BAR["p50"] and over[99] <= BAR["p99"] else "NOT met"))
            table.add_row(str(level), name, str(len(lat)), str(len(r["errors"])), f"{r['rps']:.0f}", f"{r['cpu_ms']:.2f}",
                          f"{pct(lat, 50):.1f}", f"{pct(lat, 95):.1f}", f"{pct(lat, 99):.1f}",
                          f"{statistics.median(r['ttfts']):.1f}" if r["ttfts"] else "-",
                          "-" if direct else f"{over[50]:+.1f}", "-" if direct else f"{over[95]:+.1f}",
                          "-" if direct else f"{over[99]:+.1f}", bar)
    console.print(table)
    inside = Table(title="Time spent inside the proxy per request, as it measures itself (ms)")
    for column in ("clients", "target", "requests", "p50", "p95", "p99", "before upstream p50", "relay p50",
                   "end-to-end overhead p50 / p99", "bar"):
        inside.add_column(column, justify="left" if column in ("target", "bar") else "right")
    for level, by in results.items():
        base = by["direct (emulator)"]["latencies"]
        for name, r in by.items():
            if name.startswith("direct"):
                continue
            own = r["inside"]
            what = "received→upstream sent + event relays" if name == "massgen gateway" else \
                "x-litellm-overhead-duration-ms"
            bar = "-" if not own or name != "massgen gateway" else (
                f"p50 <= {BAR['p50']:.0f}, p99 <= {BAR['p99']:.0f}: "
                + ("met" if pct(own, 50) <= BAR["p50"] and pct(own, 99) <= BAR["p99"] else "NOT met")
                + ("" if level == 200 else " (bar is set at 200)"))
            inside.add_row(str(level), f"{name} ({what})", str(len(own)),
                           *(f"{pct(own, q):.3f}" if own else "-" for q in (50, 95, 99)),
                           *(f"{pct(r['parts'][part], 50):.3f}" if r["parts"] else "-"
                             for part in ("before_upstream", "relay")),
                           f"{pct(r['latencies'], 50) - pct(base, 50):+.1f} / {pct(r['latencies'], 99) - pct(base, 99):+.1f}",
                           bar)
    console.print(inside)
    console.print("LiteLLM publishes 2 / 8 / 13 ms overhead (p50 / p95 / p99) on four 4-CPU instances.")
    console.print("CPU ms/req: the target's own server processes (the emulator's for the direct row); the work a "
                  "proxy adds per request, which is its latency overhead whenever the CPUs are not saturated.")
    for level, by in results.items():
        for name, r in by.items():
            if r["errors"]:
                console.print(f"{name} @ {level}: {len(r['errors'])} errors, first: {r['errors'][0]}")
    if note:
        console.print(note)


if __name__ == "__main__":
    main()
