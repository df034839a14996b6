"""``massgen-plugins logs tail RUN``: follow a run in the terminal as it is written.

One line per event (wrapped under its own column, never past the terminal's width; 80 columns
when piped), the last ``--lines`` events first, then new ones as they land, until the run ends
(its ``run_end`` is written and its process is gone) or Ctrl-C.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import click

SHOWN = ("run_start", "run_end", "call_end", "overflow", "compression", "retry", "fallback", "error", "note",
         "tool_call")
STYLE = {"overflow": "yellow", "compression": "magenta", "retry": "yellow", "fallback": "cyan", "error": "red",
         "run_end": "bold", "run_start": "bold"}
T_W, AGENT_W, KIND_W = 7, 10, 11


def describe(e: dict[str, Any]) -> str:
    """What the event says, without the columns already shown (time, agent, type)."""
    from ..demo.timeline import describe as timeline_describe

    kind = e.get("type")
    if kind == "call_end" and e.get("outcome", "ok") != "ok":
        return (f"{e.get('model')} attempt {e.get('attempt', 1)}: {e.get('outcome')}"
                f"{' (' + str(e['error_kind']) + ')' if e.get('error_kind') and e.get('error_kind') != e.get('outcome') else ''}"
                f" after {float(e.get('latency_ms') or 0):.0f} ms")
    if kind in ("call_end", "overflow", "compression", "retry", "fallback"):
        return timeline_describe(e)
    if kind == "error":
        return f"{e.get('kind')}: {e.get('message')}" + (" (fatal)" if e.get("fatal") else "")
    if kind == "tool_call":
        took = f" in {float(e['duration_ms']):.0f} ms" if isinstance(e.get("duration_ms"), (int, float)) else ""
        return f"{e.get('tool')} {e.get('outcome', 'ok')}{took}" + (f": {e.get('error')}" if e.get("error") else "")
    if kind == "run_start":
        return ("resumed" if e.get("resumed") else "started") + (f": {e.get('title')}" if e.get("title") else "")
    if kind == "run_end":
        took = f" after {float(e['duration_ms']) / 1000:.1f} s" if isinstance(e.get("duration_ms"), (int, float)) else ""
        return f"{e.get('status', 'ok')}{took}" + (f": {e.get('error')}" if e.get("error") else "")
    if kind in ("memory_read", "memory_write"):
        return f"{e.get('scope', 'session')} {e.get('kind') or ''} ({e.get('hits', e.get('count', 0))})".strip()
    if kind == "call_start":
        return f"{e.get('model')} attempt {e.get('attempt', 1)}" + (
            f", {e['input_tokens']:,} tokens in" if isinstance(e.get("input_tokens"), int) else "")
    return str(e.get("message") or "")


def format_event(e: dict[str, Any], width: int) -> list[str]:
    """The event's lines: time, agent, type, then the description wrapped in the last column."""
    t = f"{float(e.get('elapsed_ms') or 0) / 1000:.1f}s"
    agent = str(e.get("agent") or "")
    if len(agent) > AGENT_W:
        agent = agent[: AGENT_W - 1] + "…"
    kind = str(e.get("type"))
    if kind == "call_end":
        kind = "call" if e.get("outcome", "ok") == "ok" else "call failed"
    prefix = f"{t:>{T_W}} {agent:<{AGENT_W}} {kind[:KIND_W]:<{KIND_W}} "
    room = max(20, width - len(prefix))
    # break at spaces only: model ids, paths and run ids are never split mid-word
    body = textwrap.wrap(describe(e), room, break_long_words=False, break_on_hyphens=False) or [""]
    return [prefix + body[0]] + [" " * len(prefix) + line for line in body[1:]]


@click.command("tail")
@click.argument("run_dir")
@click.option("-n", "--lines", type=click.IntRange(min=0), default=20, show_default=True,
              help="Show this many of the events already written first.")
@click.option("--all", "show_all", is_flag=True, help="Every event type (call starts, memory reads and writes too).")
@click.option("--no-follow", is_flag=True, help="Print and exit instead of waiting for new events.")
@click.option("--json", "as_json", is_flag=True, help="One JSON event per line.")
@click.option("--interval", type=click.FloatRange(min=0.05, max=10), default=0.5, show_default=True,
              help="Seconds between looks at the run's files.")
def tail_command(run_dir: str, lines: int, show_all: bool, no_follow: bool, as_json: bool, interval: float) -> None:
    """Follow a run as it is written (ours or MassGen's), readable at 80 columns; Ctrl-C stops."""
    import json

    from ..runlog.reader import read_run
    from ..runlog.tail import RunFollower
    from .logs_cmd import _pid_alive, _resolve_run_dir

    path = _resolve_run_dir(run_dir)
    run = read_run(path)  # validates the directory (a clear error for a non-run)
    width = min(shutil.get_terminal_size((80, 24)).columns, 160) if sys.stdout.isatty() else 80
    colour = sys.stdout.isatty()

    def show(events: list[dict[str, Any]]) -> None:
        for e in events:
            if not show_all and e.get("type") not in SHOWN:
                continue
            if as_json:
                click.echo(json.dumps(e, ensure_ascii=False))
                continue
            for line in format_event(e, width):
                click.echo(click.style(line, fg=None, bold=False) if not colour else _styled(line, e))

    if not as_json:
        agents = ", ".join(a.get("id", "?") for a in run.meta.get("agents") or [] if isinstance(a, dict))
        click.echo(f"run {run.run_id} ({run.status}){' · ' + agents if agents else ''}")
    follower = RunFollower(path)
    history = [e for e in follower.poll() if show_all or e.get("type") in SHOWN]
    show(history[-lines:] if lines else [])
    if no_follow:
        return
    try:
        while True:
            if follower.ended and not _writer_alive(path, _pid_alive):
                break
            time.sleep(interval)
            show(follower.poll())
    except KeyboardInterrupt:
        return  # Ctrl-C is how one stops following: not an error
    if not as_json:
        final = read_run(path)
        click.echo(f"run {final.run_id} ended: {final.status}")


def _styled(line: str, e: dict[str, Any]) -> str:
    kind = str(e.get("type"))
    if kind == "call_end" and e.get("outcome", "ok") != "ok":
        return click.style(line, fg="red")
    style = STYLE.get(kind)
    if style == "bold":
        return click.style(line, bold=True)
    return click.style(line, fg=style) if style else line


def _writer_alive(path: Path, pid_alive: Any) -> bool:
    import json

    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return meta.get("status") == "running" and bool(pid_alive(meta.get("pid")))
