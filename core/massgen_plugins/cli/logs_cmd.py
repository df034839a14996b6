"""``massgen-plugins logs``: list, summarize and analyze run logs (ours and MassGen's).

* ``logs list`` -- runs under ``<MASSGEN_PLUGINS_HOME>/runs`` and MassGen log directories
  (``$MASSGEN_LOG_BASE_DIR``, ``./.massgen/massgen_logs``, ``~/.massgen/massgen_logs``);
* ``logs summary RUN`` -- the deterministic summary and findings;
* ``logs tail RUN`` -- follow a run as it is written (:mod:`.logs_tail`);
* ``logs analyze RUN [--model provider/model] [--json] [--output FILE] [--html FILE]`` -- every
  ``analyze_logs`` implementation (the deterministic one, the LLM self-analysis when a model is
  chosen, third-party analyzers), as a terminal report, JSON, Markdown and/or an HTML page.

``RUN`` is a directory or a run id under ``<MASSGEN_PLUGINS_HOME>/runs``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .output import Column, emit_json, money, print_table, print_wrapped


@click.group("logs")
def logs_group() -> None:
    """Inspect and analyze run logs (massgen-plugins runs and MassGen log directories)."""


def _resolve_run_dir(value: str) -> Path:
    from ..errors import InputError
    from ..runlog.writer import runs_root

    path = Path(value).expanduser()
    if path.exists():
        return path
    candidate = runs_root() / value
    if candidate.exists():
        return candidate
    looked = [str(path.absolute())]
    if not path.is_absolute() and len(path.parts) == 1:  # a bare run id may also name a run under the home
        looked.append(str(candidate))
    raise InputError(f"no run at {' or '.join(looked)}; `massgen-plugins logs list` shows the runs")


# --------------------------------------------------------------------------- list


def _massgen_bases() -> list[Path]:
    from ..runlog.massgen_format import massgen_log_bases

    return massgen_log_bases()


def _pid_alive(pid: Any) -> bool:
    from ..runlog.lifecycle import pid_alive

    return pid_alive(pid)


def _our_runs(root: Path) -> list[dict[str, Any]]:
    import json

    out: list[dict[str, Any]] = []
    if not root.is_dir():
        return out
    for child in root.iterdir():
        meta_path = child / "meta.json"
        if not meta_path.is_file():
            continue
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        status = meta.get("status") or "unknown"
        events = meta.get("events")
        if status == "running":
            if not _pid_alive(meta.get("pid")):
                status = "incomplete"
            events = _count_lines(child / "events.jsonl")  # meta.json's count is final only at close
        out.append({
            "run_id": meta.get("run_id") or child.name, "source": "massgen-plugins", "path": str(child),
            "started_at": meta.get("started_at"), "status": status, "title": meta.get("title"),
            "agents": [a.get("id") for a in meta.get("agents") or [] if isinstance(a, dict)],
            "events": events,
        })
    return out


def _count_lines(path: Path) -> int | None:
    try:
        with open(path, "rb") as fh:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    except OSError:
        return None


def _massgen_runs(base: Path) -> list[dict[str, Any]]:
    from ..runlog.massgen_format import find_massgen_log_dirs, read_massgen_run

    out: list[dict[str, Any]] = []
    for log_dir in find_massgen_log_dirs(base):
        name = log_dir.name
        stamp = name[4:19] if len(name) >= 19 else ""
        started = (f"{stamp[0:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}"
                   if len(stamp) == 15 else None)
        analyzed = any(log_dir.glob("turn_*/ANALYSIS_REPORT.md"))
        try:  # the honest status: errors and restarts make a 'completed' MassGen run 'recovered'
            run = read_massgen_run(log_dir)
            status, detail, agents, events = run.status, run.meta.get("status_detail"), \
                [a.get("id") for a in run.meta.get("agents") or []], len(run.events)
        except OSError as exc:
            status, detail, agents, events = "unreadable", str(exc), [], None
        out.append({"run_id": name, "source": "massgen", "path": str(log_dir), "started_at": started,
                    "status": status, "status_detail": detail, "analyzed": analyzed, "title": None,
                    "agents": agents, "events": events})
    return out


@logs_group.command("list")
@click.option("--dir", "dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="Also list runs in this directory (repeatable).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Newest N runs.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_command(dirs: tuple[Path, ...], limit: int, as_json: bool) -> None:
    """List recent runs, newest first."""
    from ..runlog.writer import runs_root

    runs = _our_runs(runs_root())
    for base in _massgen_bases():
        runs += _massgen_runs(base)
    for extra in dirs:
        runs += _our_runs(extra) + _massgen_runs(extra)
    unique = {r["path"]: r for r in runs}
    ordered = sorted(unique.values(), key=lambda r: (r.get("started_at") or "", r["run_id"]), reverse=True)[:limit]
    if as_json:
        emit_json(ordered)
        return
    if not ordered:
        click.echo(f"No runs yet. Runs are written under {runs_root()} (set MASSGEN_PLUGINS_HOME to move it).")
        return
    rows = []
    for r in ordered:
        detail = ", ".join(a for a in r["agents"] if a)
        if r.get("title"):
            detail = f"{detail} — {r['title']}" if detail else r["title"]
        rows.append((r["run_id"], (r.get("started_at") or "").replace("T", " ")[:16], r["status"],
                     "ours" if r["source"] == "massgen-plugins" else r["source"],
                     "" if r.get("events") is None else f"{r['events']:,}", detail))
    print_table(None, [Column("run", "id"), Column("started (UTC)", "id"), Column("status", "id"),
                       Column("source", "id"), Column("events", "num"),
                       Column("agents / title", optional=True)], rows)


# --------------------------------------------------------------------------- summary


def _print_summary(summary: dict[str, Any], findings: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.panel import Panel

    console = Console(file=sys.stdout, soft_wrap=False)
    run = summary["run"]
    dur = run.get("duration_ms")
    cost = summary["cost"]["usd"]
    lines = [
        f"[bold]status[/] {run.get('status')}   [bold]source[/] {run.get('source')}   "
        f"[bold]duration[/] {dur / 1000:.1f} s" if isinstance(dur, (int, float)) else f"[bold]status[/] {run.get('status')}",
        f"[bold]agents[/] {', '.join(run.get('agents') or []) or '-'}   [bold]turns[/] {run.get('turns')}   "
        f"[bold]events[/] {run.get('events')}",
        f"[bold]calls[/] {summary['calls']['total']} ({summary['calls']['failed']} failed)   [bold]tokens[/] "
        f"{summary['tokens']['input']:,} in / {summary['tokens']['output']:,} out   [bold]cost[/] "
        + money(cost) + ("" if cost is None or summary["cost"]["complete"] else " (incomplete)"),
        f"[bold]overflows[/] {summary['overflows']['total']} ({summary['overflows']['proactive']} proactive, "
        f"{summary['overflows']['reactive']} reactive)   [bold]compressions[/] {summary['compressions']['total']} "
        f"(saved {summary['compressions']['tokens_saved']:,} tokens)   [bold]retries[/] {summary['retries']['total']}   "
        f"[bold]fallbacks[/] {sum(f['count'] for f in summary['fallbacks'])}   [bold]errors[/] {summary['errors']['total']}",
    ]
    title = f"run {run.get('id')}" + (f" — {run['title']}" if run.get("title") else "")
    print_wrapped(title, style="bold", out=console)  # a long title wraps between words, never cropped
    console.print(Panel("\n".join(lines), expand=False))
    lat = summary["latency_ms"]["by_model"]
    if summary["calls"]["by_model"]:
        numbers = [Column(h, "num") for h in ("calls", "failed", "input", "output", "cost")]
        latency = [Column("p50 ms", "num", optional=True), Column("p95 ms", "num", optional=True)]
        print_table("per model", [Column("model", "id"), *numbers, *latency],
                    [(m, f"{b['calls']:,}", f"{b['failed']:,}", f"{b['input_tokens']:,}", f"{b['output_tokens']:,}",
                      money(b["cost_usd"]), f"{lat.get(m, {}).get('p50', 0):,.0f}",
                      f"{lat.get(m, {}).get('p95', 0):,.0f}") for m, b in summary["calls"]["by_model"].items()])
        print_table("per agent", [Column("agent", "id"), *numbers],
                    [(a, f"{b['calls']:,}", f"{b['failed']:,}", f"{b['input_tokens']:,}", f"{b['output_tokens']:,}",
                      money(b["cost_usd"])) for a, b in summary["calls"]["by_agent"].items()])
    if findings:
        style = {"error": "bold red", "warning": "yellow", "info": "cyan"}
        console.print("[bold]Findings[/]")
        for f in findings:
            detail = f" — {f['detail']}" if f.get("detail") else ""
            print_wrapped(f"{f['severity']:>9} {f['title']}{detail}", indent=10, out=console,
                          style=style.get(f["severity"]))


@logs_group.command("summary")
@click.argument("run_dir")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def summary_command(run_dir: str, as_json: bool) -> None:
    """The deterministic summary of one run: tokens, cost, latency, overflows, compressions,
    retries, fallbacks, failures and findings."""
    from ..runlog.analysis import find_issues, summarize_run
    from ..runlog.reader import read_run

    run = read_run(_resolve_run_dir(run_dir))
    summary = summarize_run(run.events, run.meta, source=run.source, skipped_lines=len(run.skipped),
                            status=run.status)
    findings = find_issues(summary, run.events)
    if as_json:
        emit_json({"summary": summary, "findings": findings,
                   "skipped_lines": [s.to_dict() for s in run.skipped]})
        return
    _print_summary(summary, findings)


# --------------------------------------------------------------------------- analyze


def _choose_model(model: str | None, no_model: bool) -> tuple[str | None, str]:
    from ..runlog.modelchoice import configured_model, validate_model

    if no_model:
        return None, "--no-model"
    if model is not None:
        return validate_model(model, source="--model"), "--model"
    value, source = configured_model()
    if value is None:
        return None, source
    return validate_model(value, source=source), source


@logs_group.command("analyze")
@click.argument("run_dir")
@click.option("--model", "model", metavar="PROVIDER/MODEL",
              help="Model for the LLM self-analysis (default: $MASSGEN_LOG_ANALYSIS_MODEL or "
                   "logs.analysis_model in <MASSGEN_PLUGINS_HOME>/config.toml; none: deterministic only).")
@click.option("--no-model", is_flag=True, help="Ignore the configured default model: deterministic analysis only.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the Markdown report to FILE.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a self-contained HTML report (timeline and charts) to FILE.")
def analyze_command(run_dir: str, model: str | None, no_model: bool, as_json: bool,
                    output: Path | None, html_path: Path | None) -> None:
    """Analyze one run with every installed analyzer (deterministic; LLM self-analysis with a model)."""
    from ..errors import MassgenError
    from ..runlog.analyze import analyze_run_sync

    if model is not None and no_model:
        from ..errors import InputError

        raise InputError("--model and --no-model contradict each other; give one")
    chosen, source = _choose_model(model, no_model)
    outcome = analyze_run_sync(_resolve_run_dir(run_dir), model=chosen)
    run, results, failures = outcome.run, outcome.results, outcome.errors
    deterministic, self_report = outcome.deterministic, outcome.self_analysis

    from ..runlog.writer import write_private_text

    if output is not None:  # reports quote the transcript: owner-only files
        write_private_text(output, outcome.markdown())
    if html_path is not None:
        write_private_text(html_path, outcome.html())

    if as_json:
        emit_json({
            "run_dir": str(run.path), "run_id": run.run_id, "source": run.source, "model": chosen,
            "model_source": source,
            "analyses": [{"plugin": p, **r.model_dump(mode="json")} for p, r in results],
            "errors": failures, "skipped_lines": [s.to_dict() for s in run.skipped],
            "outputs": {"markdown": str(output) if output else None, "html": str(html_path) if html_path else None},
        })
    else:
        if deterministic is not None:
            _print_summary(deterministic.summary, [f.model_dump() for f in deterministic.findings])
        from rich.console import Console
        from rich.markdown import Markdown

        console = Console(file=sys.stdout)
        for plugin, result in results:
            if result.analyzer == "deterministic" or not result.markdown:
                continue
            console.rule(f"{result.analyzer} ({plugin})")
            console.print(Markdown(result.markdown))
        for path, what in ((output, "Markdown report"), (html_path, "HTML report")):
            if path is not None:
                click.echo(f"{what} written to {path}")
        if chosen is None and source == "none":
            click.echo("(deterministic analysis only; add --model provider/model for an LLM self-analysis)", err=True)
    for failure in failures:
        click.echo(f"Warning: analyzer {failure['plugin']} failed: {failure['error']}", err=True)
    if chosen is not None and self_report is None:
        reason = next((f["error"] for f in failures if "selfanalysis" in f["plugin"]), "no analyzer answered")
        raise MassgenError(f"the self-analysis with {chosen} did not produce a report: {reason}")


def _register_tail() -> None:
    from .logs_tail import tail_command

    logs_group.add_command(tail_command)


_register_tail()
