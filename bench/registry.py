"""Model registry: cold refresh with one provider hanging, and the warm ``models --json``.

Against the built-in emulator (a real HTTP server; every provider plugin and its official SDK):

* **cold refresh** -- a fresh ``MASSGEN_PLUGINS_HOME``, every installed provider refreshed at
  once while one provider (``--hang``, default ``xai``) never answers. Measured in a fresh child
  process: the wall time of the refresh itself (``load_catalog(refresh=True)``, SDK imports
  included; plugin discovery, a once-per-process cost, is timed separately) and of the whole
  ``massgen-plugins models --refresh --json`` command. Bar: the refresh ≤ the
  per-provider timeout + 0.5 s. Baseline, same run and same per-request timeout: the providers
  fetched one after another (MassGen's ``model_catalog`` style), where the hanging provider
  blocks everything behind it.
* **warm listing** -- ``massgen-plugins models --json`` from a fresh cache, as a subprocess
  (interpreter start included), median and p90 of ``--runs``. Bar: ≤ 0.5 s wall. Baseline, same
  run: the same command with the warm view deleted before each run (the full build: plugin host,
  pydantic, metadata merge, from the same cache).

    python bench/registry.py [--timeout 10] [--hang xai] [--runs 15]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

WARM_BAR = 0.5
COLD_SLACK = 0.5

_COLD = textwrap.dedent("""
    import json, sys, time
    started = time.perf_counter()
    from massgen_plugins.providers import installed_providers
    from massgen_plugins.registry import load_catalog
    installed_providers()  # plugin discovery: once per process, not part of a refresh
    host = time.perf_counter() - started
    timeout = float(sys.argv[1])
    started = time.perf_counter()
    catalog = load_catalog(refresh=True, include_all=True, timeout=timeout)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "host": host,
                      "providers": {p: [r.source, r.count, r.error] for p, r in catalog.providers.items()}}))
""")

_SEQUENTIAL = textwrap.dedent("""
    import json, sys, time
    from massgen_plugins.manager import get_hooks
    from massgen_plugins.providers import installed_providers, resolve_settings
    timeout = float(sys.argv[1])
    hooks = get_hooks()
    started = time.perf_counter()
    result = {}
    for provider in sorted(installed_providers()):
        settings = resolve_settings(provider, timeout=timeout)
        t = time.perf_counter()
        chained = hooks.list_models(provider, settings)
        result[provider] = [len(chained.value or []), round(time.perf_counter() - t, 3)]
    print(json.dumps({"seconds": time.perf_counter() - started, "providers": result}))
""")


def _env(emu, home: Path) -> dict[str, str]:
    env = dict(os.environ, **emu.env())
    env["MASSGEN_PLUGINS_HOME"] = str(home)
    env.setdefault("TIKTOKEN_CACHE_DIR", "/work/shared/tiktoken")
    for name in ("MASSGEN_PLUGINS_MODELS_TTL", "MASSGEN_PLUGINS_MODELS_TIMEOUT"):
        env.pop(name, None)
    return env


def _child(code: str, args: list[str], env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                          timeout=600)
    if done.returncode != 0:
        raise click.ClickException(f"child failed: {done.stderr[-800:]}")
    return json.loads(done.stdout)


def _wall(command: list[str], env: dict[str, str], before=None) -> float:
    if before is not None:
        before()
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise click.ClickException(f"{' '.join(command)} failed: {done.stderr[-800:]}")
    return seconds


def _p90(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]


@click.command()
@click.option("--timeout", default=10.0, show_default=True, help="Per-provider refresh timeout (s).")
@click.option("--hang", default="xai", show_default=True, help="The provider that never answers.")
@click.option("--runs", default=15, show_default=True, help="Timed runs of the warm listing.")
def main(timeout: float, hang: str, runs: int) -> None:
    from massgen_plugins.testing import Emulator, Fault

    console = Console()
    cli = [sys.executable, "-m", "massgen_plugins"]
    with Emulator() as emu, tempfile.TemporaryDirectory() as tmp:
        # ---- cold: everything refreshed at once, one provider hanging
        emu.inject(Fault(kind="hang", provider=hang, times=None, seconds=3600))
        cold = _child(_COLD, [str(timeout)], _env(emu, Path(tmp) / "cold"))
        cold_cli = _wall([*cli, "models", "--refresh", "--json", "--timeout", str(timeout)],
                         _env(emu, Path(tmp) / "cold-cli"))
        sequential = _child(_SEQUENTIAL, [str(timeout)], _env(emu, Path(tmp) / "seq"))
        emu.clear()

        # ---- warm: a fresh cache, then repeated listings
        warm_env = _env(emu, Path(tmp) / "warm")
        _wall([*cli, "models", "--json"], warm_env)
        view = Path(tmp) / "warm" / "cache" / "models" / "_view.json"
        _wall([*cli, "models", "--json"], warm_env)  # OS file cache warm
        emu.clear()
        warm = [_wall([*cli, "models", "--json"], warm_env) for _ in range(runs)]
        warm_requests = len(emu.requests)
        full = [_wall([*cli, "models", "--json"], warm_env, before=lambda: view.unlink(missing_ok=True))
                for _ in range(max(3, runs // 3))]
        pass_floor = statistics.median(_wall([sys.executable, "-c", "pass"], warm_env) for _ in range(5))

    answered = sorted(p for p, (source, _, _) in cold["providers"].items() if source == "api")
    missing = {p: err for p, (source, _, err) in cold["providers"].items() if source != "api"}
    table = Table(title=f"Model registry against the emulator (per-provider timeout {timeout:g} s, "
                        f"{hang} hanging)")
    for column in ("scenario", "measured (s)", "bar (s)", "verdict", "notes"):
        table.add_column(column, overflow="fold")

    def verdict(value: float, bar: float | None) -> str:
        return "" if bar is None else ("meets bar" if value <= bar else "MISSES bar")

    cold_bar = timeout + COLD_SLACK
    table.add_row("cold refresh, all providers (load_catalog)", f"{cold['seconds']:.2f}", f"≤ {cold_bar:.1f}",
                  verdict(cold["seconds"], cold_bar),
                  f"answered: {', '.join(answered)}; not: " + "; ".join(f"{p} ({e})" for p, e in missing.items())
                  + f"; before it, plugin discovery took {cold['host']:.2f} s (once per process)")
    table.add_row("cold `models --refresh --json` (whole process)", f"{cold_cli:.2f}", "", "",
                  "interpreter start, plugin discovery and SDK imports included")
    table.add_row("baseline: sequential fetch, same timeout", f"{sequential['seconds']:.2f}", "", "",
                  "; ".join(f"{p} {n} models {s:.1f}s" for p, (n, s) in sequential["providers"].items()))
    table.add_row(f"warm `models --json`, median of {runs}", f"{statistics.median(warm):.3f}", f"≤ {WARM_BAR}",
                  verdict(statistics.median(warm), WARM_BAR), f"p90 {_p90(warm):.3f} s; {warm_requests} requests made")
    table.add_row("baseline: same, full build from cache (view removed)", f"{statistics.median(full):.3f}", "", "",
                  f"median of {len(full)}")
    table.add_row("floor: python -c pass", f"{pass_floor:.3f}", "", "", "interpreter start alone")
    console.print(table)


if __name__ == "__main__":
    main()
