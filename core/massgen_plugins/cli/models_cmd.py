"""``massgen-plugins models``: every installed provider's models, windows and output caps.

``massgen-plugins models [--provider P]... [--refresh] [--offline] [--all] [--json]`` lists;
``massgen-plugins models --clear-cache [--provider P]...`` deletes the cached lists;
``massgen-plugins models snapshot [--output PATH]`` regenerates the bundled metadata snapshot
from the live lists (the maintainers' update process, docs/models.md).
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import click

from .output import emit_json, print_table

if TYPE_CHECKING:
    from ..registry.catalog import Catalog
    from ..registry.fetch import Event


def _warn(line: str) -> None:
    click.echo(f"massgen-plugins: warning: {line}", err=True)


class _Progress:
    """A rich live display on stderr (terminal only) with one line per provider being fetched."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.fields[provider]:<11}"),
                                      TextColumn("{task.description}"), TimeElapsedColumn(),
                                      console=Console(stderr=True), transient=True)
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def event(self, provider: str, state: str, detail: str) -> None:
        if self._progress is None:
            return
        text = {"start": "fetching model list…", "retry": f"[yellow]{detail}", "done": f"[green]{detail}",
                "failed": f"[red]{detail}", "timeout": f"[red]{detail}"}.get(state, detail)
        task = self._tasks.get(provider)
        if task is None:
            self._tasks[provider] = self._progress.add_task(text, provider=provider, total=1)
        else:
            finished = state in ("done", "failed", "timeout")
            self._progress.update(task, description=text, completed=1 if finished else 0)

    @property
    def callback(self) -> Event | None:
        return self.event if self.enabled else None


def _number(value: int | None) -> str:
    return f"{value:,}" if value is not None else "?"


def _source(model: dict[str, Any]) -> str:
    listing = "stale cache" if model["stale"] and model["source"] == "cache" else (model["source"] or "")
    origin = model["provenance"].get("context_window")
    if model["unknown_window"]:
        return f"{listing} (window unknown)"
    if origin and origin != "api" and model["source"] != "bundled":
        return f"{listing} (window: {origin})"
    return listing


def _warm(providers: tuple[str, ...], include_all: bool) -> tuple[list[Any], list[Any], list[str]] | None:
    """The answer from the warm view (no plugin host, no pydantic), or ``None`` to build it."""
    from ..registry import config, view

    names = list(dict.fromkeys(p.strip().lower() for p in providers)) or None
    found = view.lookup(names, config.ttl())
    if found is None:
        return None
    order = names or sorted(found["installed"])
    models, reports = [], []
    for name in order:
        entry = found["providers"][name]
        reports.append(view.cached_report(name, entry["fetched_at"], len(entry["models"])))
        chosen = [m for m in entry["models"] if include_all or m.get("chat")]
        models.extend(sorted(chosen, key=lambda m: m["id"].lower()))
    return models, reports, []


def _table(rows: list[tuple[Any, ...]]) -> None:
    """The listing table; model ids never wrap (piped output gets full-width lines)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(header_style="bold")
    table.add_column("provider", no_wrap=True)
    table.add_column("model", no_wrap=True)
    table.add_column("window", justify="right", no_wrap=True)
    table.add_column("max output", justify="right", no_wrap=True)
    table.add_column("source")
    table.add_column("age", justify="right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    width = None if sys.stdout.isatty() else 220
    Console(file=sys.stdout, soft_wrap=False, width=width).print(table)


_quick_exit_registered = False


def _quick_exit() -> None:
    """Skip the interpreter's final garbage collection once the provider SDKs are loaded.

    Tearing down anthropic, google-genai, openai and groq costs ~1 s of GC at exit; freezing the
    heap in the last ``atexit`` handler (registered first, so it runs last) leaves every other
    handler and every flush in place and ends the process in ~0.05 s.
    """
    global _quick_exit_registered
    if not _quick_exit_registered:
        import atexit
        import gc

        atexit.register(gc.freeze)
        _quick_exit_registered = True


def _load(providers: tuple[str, ...], refresh: bool, offline: bool, include_all: bool,
          timeout: float | None, as_json: bool) -> Catalog:
    from ..registry import load_catalog

    if refresh and offline:
        from ..errors import InputError

        raise InputError("--refresh and --offline contradict each other; use one of them")
    if not offline:
        _quick_exit()
    show = not as_json and sys.stderr.isatty() and not offline
    with _Progress(show) as progress:
        catalog = load_catalog(list(providers) or None, refresh=refresh, offline=offline,
                               include_all=include_all, timeout=timeout, on_event=progress.callback)
    for line in catalog.warnings:
        _warn(line)
    return catalog


@click.group("models", invoke_without_command=True)
@click.option("--provider", "-p", "providers", multiple=True, metavar="P",
              help="Only this provider (repeatable). Default: every installed provider.")
@click.option("--refresh", is_flag=True, help="Refetch the lists now, even if the cache is fresh.")
@click.option("--offline", is_flag=True, help="No network at all: cache, bundled and cached third-party data.")
@click.option("--all", "include_all", is_flag=True,
              help="Also embeddings, TTS, transcription, moderation and image models.")
@click.option("--timeout", type=float, default=None, metavar="SECONDS",
              help="Per-provider refresh deadline (default 15, or MASSGEN_PLUGINS_MODELS_TIMEOUT).")
@click.option("--clear-cache", is_flag=True,
              help="Delete the cached model lists (of --provider P only, if given) and exit.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def models_command(ctx: click.Context, providers: tuple[str, ...], refresh: bool, offline: bool,
                   include_all: bool, timeout: float | None, clear_cache: bool, as_json: bool) -> None:
    """List models with their context window and output cap (cached 24 h; refreshed concurrently,
    a failing provider is served from its last good list with a warning)."""
    if ctx.invoked_subcommand is not None:
        return
    if clear_cache:
        _clear(providers, refresh or offline or include_all, as_json)
        return
    from ..registry.snapshot import snapshot_date
    from ..registry.view import age_text

    fast = None if refresh else _warm(providers, include_all)
    if fast is not None:
        models, reports, warnings = fast
    else:
        from ..registry.catalog import printable

        catalog = _load(providers, refresh, offline, include_all, timeout, as_json)
        models = [printable(m) for m in catalog.models]
        reports = [r.to_dict() for r in catalog.providers.values()]
        warnings = catalog.warnings
    if as_json:
        emit_json({"models": models, "providers": reports, "warnings": warnings,
                   "snapshot_date": snapshot_date()})
        return
    now = time.time()
    rows = [(m["provider"], m["id"], _number(m["context_window"]), _number(m["max_output_tokens"]), _source(m),
             age_text(m["fetched_at"], now)) for m in models]
    if rows:
        _table(rows)
    else:
        click.echo("No models to show." + ("" if include_all else " (--all shows non-chat models too)"))
    for report in reports:
        if report["note"]:
            click.echo(f"{report['provider']}: {report['note']}", err=True)
    hidden = sum(r["count"] for r in reports) - len(models)
    tail = f"; {hidden} non-chat models hidden (--all)" if hidden > 0 else ""
    click.echo(f"{len(models)} models from {len(reports)} providers{tail}. "
               f"Bundled snapshot: {snapshot_date()}.", err=True)


def _clear(providers: tuple[str, ...], other_flags: bool, as_json: bool) -> None:
    from ..errors import InputError
    from ..registry.cache import clear, models_dir
    from ..registry.lookup import clear_memo

    if other_flags:
        raise InputError("--clear-cache only takes --provider (and --json); run the listing separately")
    removed = clear(list(providers) or None)
    clear_memo()
    if as_json:
        emit_json({"removed": [str(p) for p in removed], "directory": str(models_dir())})
        return
    what = f" for {', '.join(providers)}" if providers else ""
    click.echo(f"Removed {len(removed)} cached file(s){what} from {models_dir()}. "
               "The next listing fetches the lists again.")


@models_command.command("snapshot")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Where to write the snapshot (default: the bundled data file of this installation).")
@click.option("--provider", "-p", "providers", multiple=True, metavar="P", help="Only this provider (repeatable).")
@click.option("--timeout", type=float, default=None, metavar="SECONDS", help="Per-provider refresh deadline.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def snapshot_command(output: str | None, providers: tuple[str, ...], timeout: float | None, as_json: bool) -> None:
    """Regenerate the bundled metadata snapshot from the live provider lists (for maintainers).

    Refreshes every provider (or --provider), merges API data with the current snapshot and
    third-party data, and writes the result with today's date. Providers that fail keep their
    previous entries.
    """
    from pathlib import Path

    from ..errors import MassgenError
    from ..registry.cache import atomic_write_json
    from ..registry.snapshot import build_snapshot, load_snapshot, snapshot_path

    catalog = _load(providers, True, False, True, timeout, as_json)
    live = {p: [m for m in catalog.models if m.provider == p]
            for p, r in catalog.providers.items() if r.source == "api"}
    if not live:
        raise MassgenError("no provider list could be fetched; the snapshot was left unchanged "
                           "(check the API keys and the warnings above)")
    previous = load_snapshot()
    new = build_snapshot(live, previous=previous)
    target = Path(output) if output else snapshot_path()
    try:
        atomic_write_json(target, new, indent=1)
    except OSError as exc:
        raise MassgenError(f"cannot write the snapshot to {target}: {exc.strerror or exc}; "
                           "choose another place with --output PATH") from exc
    summary = []
    for p in sorted(new["providers"]):
        before = {e["id"] for e in previous.get("providers", {}).get(p, {}).get("models", [])}
        after = {e["id"] for e in new["providers"][p].get("models", [])}
        summary.append({"provider": p, "refreshed": p in live, "models": len(after),
                        "added": len(after - before)})
    if as_json:
        emit_json({"output": str(target), "generated_at": new["generated_at"], "providers": summary})
        return
    print_table(f"snapshot {new['generated_at']} → {target}", ["provider", "refreshed", "models", "added"],
                [(s["provider"], "yes" if s["refreshed"] else "no (kept)", s["models"], s["added"])
                 for s in summary])
