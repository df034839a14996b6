"""Start-up cost of the CLI with every installed plugin loaded.

Median wall time over repeated runs of:
  * ``massgen-plugins list`` (console script; every installed plugin discovered and registered),
  * ``massgen-plugins list --json``,
  * ``python -c "import massgen_plugins"`` (the package alone),
  * ``python -c pass`` (the interpreter's own floor, the baseline).

Bar: ``massgen-plugins list`` ≤ 0.35 s wall and no provider SDK imported.

    python bench/cli_startup.py [--runs 21]
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import click
from rich.console import Console
from rich.table import Table

BAR_SECONDS = 0.35


def _time(command: list[str], runs: int) -> float:
    env = dict(os.environ)
    subprocess.run(command, capture_output=True, env=env, check=True)  # warm the OS file cache
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, env=env, check=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


@click.command()
@click.option("--runs", default=21, show_default=True, help="Timed runs per command.")
def main(runs: int) -> None:
    script = shutil.which("massgen-plugins") or ""
    cli = [script] if script else [sys.executable, "-m", "massgen_plugins"]
    listed = json.loads(subprocess.run([*cli, "list", "--json"], capture_output=True, text=True, check=True).stdout)
    loaded = [p["name"] for p in listed if p["status"] == "loaded"]
    rows = [
        ("python -c pass (baseline)", _time([sys.executable, "-c", "pass"], runs), None),
        ("python -c 'import massgen_plugins'", _time([sys.executable, "-c", "import massgen_plugins"], runs), None),
        ("massgen-plugins list --json", _time([*cli, "list", "--json"], runs), BAR_SECONDS),
        ("massgen-plugins list", _time([*cli, "list"], runs), BAR_SECONDS),
    ]
    table = Table(title=f"CLI start-up, median of {runs} runs, {len(loaded)} third-party plugins loaded")
    for column in ("command", "median wall (s)", "bar (s)", "verdict"):
        table.add_column(column)
    for name, seconds, bar in rows:
        verdict = "" if bar is None else ("meets bar" if seconds <= bar else "MISSES bar")
        table.add_row(name, f"{seconds:.3f}", "" if bar is None else f"≤ {bar:.2f}", verdict)
    Console().print(table)
    Console().print(f"plugins loaded: {', '.join(loaded) or 'none'}")


if __name__ == "__main__":
    main()
