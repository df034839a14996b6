"""``massgen-plugins demo``: the main job -- a multi-agent run that overflows, compresses,
survives faults, falls back, is killed and resumed, and analyses itself. Offline by default."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import click


@click.command("demo")
@click.option("--run-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the run (default: a new directory under the data home).")
@click.option("--live", is_flag=True,
              help="Use real providers with your API keys (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY) "
                   "on real models, windows capped at 8,192 tokens for the run.")
@click.option("--calls", is_flag=True, help="Also show every model call in the timeline.")
@click.option("--json", "as_json", is_flag=True, help="Print the stage results as JSON.")
def demo_command(run_dir: Path | None, live: bool, calls: bool, as_json: bool) -> None:
    """Run the offline demo: a guarded multi-agent team through every failure mode."""
    from rich.console import Console

    from ..errors import InputError
    from .output import print_line, print_wrapped

    if run_dir is not None and (run_dir / "events.jsonl").is_file() and (run_dir / "events.jsonl").stat().st_size:
        raise InputError(f"{run_dir} already holds a run; pass a new --run-dir, or omit it for a fresh directory "
                         f"(`massgen-plugins logs summary {shlex.quote(str(run_dir))}` shows the old one)")

    from ..demo import run_demo
    from ..demo.timeline import render
    from ..runlog.reader import read_run

    console = Console(stderr=as_json)
    with console.status("running the demo…") as status:
        def say(message: str) -> None:
            status.update(message)
            if message[:1] in ("✔", "✘") or message.startswith(("run directory", "providers")):
                print_wrapped(message, indent=2, out=console)  # between words; paths stay whole

        result = run_demo(run_dir, live=live, say=say)
    stages = {s.name: {"ok": s.ok, "detail": s.detail} for s in result.stages}
    if as_json:
        click.echo(json.dumps({"run_dir": str(result.run_dir), "ok": result.ok, "stages": stages,
                               "report": str(result.report), "html": str(result.html)}, indent=2))
    else:
        render(read_run(result.run_dir).events, calls=calls)
        console.print()
        print_line(f"report: {result.report}")
        print_line(f"html report: {result.html}")
        print_line(f"analyse again: massgen-plugins logs analyze {shlex.quote(str(result.run_dir))}")
        console.print("[bold green]all stages passed[/]" if result.ok else "[bold red]some stages failed[/]")
    if not result.ok:
        raise SystemExit(1)
