"""``massgen-plugins memory``: inspect and maintain a memory store.

Every subcommand takes ``--store URL`` (default: ``$MASSGEN_PLUGINS_MEMORY_URL`` or the SQLite
file under ``MASSGEN_PLUGINS_HOME``); listing and reporting commands take the scope filters
``--user/--agent/--session/--team`` and ``--json``. Nothing here deletes data silently: ``gc``
deletes only what limits and TTLs say (``--dry-run`` to preview), ``restore`` keeps the replaced
store aside.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .output import Column, emit_json, plural, print_table

if TYPE_CHECKING:
    from ..errors import InputError
    from ..memory.store import MemoryRecord, MemoryStore, Scope

F = TypeVar("F", bound=Callable[..., Any])


def _store_option(func: F) -> F:
    return click.option("--store", "store_url", metavar="URL", envvar="MASSGEN_PLUGINS_MEMORY_URL",
                        help="Store URL (sqlite:////abs/path.db, postgresql://...) or a SQLite file path. "
                             "Default: $MASSGEN_PLUGINS_MEMORY_URL or <home>/memory/memory.db.")(func)


def _scope_options(func: F) -> F:
    for name, what in (("team", "team (the agents of one run)"), ("session", "session (mem0 run_id)"),
                       ("agent", "agent"), ("user", "user")):
        func = click.option(f"--{name}", metavar="ID", help=f"Only this {what}.")(func)
    return func


def _json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(func)


def _scope(user: str | None, agent: str | None, session: str | None, team: str | None) -> Scope:
    from ..memory.store import Scope

    return Scope(user=user, agent=agent, session=session, team=team)


def _open(url: str | None, *, create: bool = True) -> MemoryStore:
    """The store at ``url``; commands that only read pass ``create=False``, so a mistyped path
    is an error ("no memory store at ...") instead of a new empty store."""
    from ..memory import open_store

    return open_store(url, create=create)


def _resolve(store: MemoryStore, identifier: str) -> str:
    """``identifier`` as given when it names a memory or a session, else the one memory or
    session id it is a prefix of (as git resolves short hashes). Several matches: an error
    listing them."""
    from ..errors import InputError

    if store.get(identifier) is not None:
        return identifier
    sessions = store.find_sessions(identifier, limit=11)
    if identifier in sessions:
        return identifier
    found = [*store.find_ids(identifier, limit=11), *sessions]
    if len(found) == 1:
        return found[0]
    if not found:
        raise InputError(f"no memory or session with id {identifier!r} (find ids with: massgen-plugins memory list)")
    shown = ", ".join(found[:10]) + (", ..." if len(found) > 10 else "")
    raise InputError(f"id prefix {identifier!r} is ambiguous: it matches {shown}; give more characters")


def _cannot_write(where: str, exc: OSError) -> InputError:
    """The one message for a failed write: what could not be written, and why."""
    from ..errors import InputError

    return InputError(f"cannot write {where}: {exc.strerror or exc}")


class _MemoryGroup(click.Group):
    """Closing the reading end of a pipe (``memory export | head``) ends the command quietly,
    with no traceback and no error line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            import os

            # the reader is gone: point stdout at /dev/null so the final flush cannot fail too
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(141)  # 128 + SIGPIPE, what a command killed by the closed pipe reports


def _short(text: str, width: int = 80) -> str:
    """``text`` on one line, cut at a word boundary (never inside a word) to at most ``width``."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + " …"


def _scope_text(scope: Scope) -> str:
    parts = [f"{k}={v}" for k, v in (("user", scope.user), ("agent", scope.agent), ("session", scope.session),
                                      ("team", scope.team)) if v]
    return " ".join(parts) or "global"


def _record_json(record: MemoryRecord) -> dict[str, Any]:
    return record.model_dump(mode="json")


def _records_table(records: list[MemoryRecord], title: str | None, scores: list[float] | None = None) -> None:
    columns = [Column("id", "id"), Column("kind", "id", optional=True), Column("scope"), Column("text"),
               Column("updated", "id", optional=True)]
    rows: list[list[Any]] = []
    for i, r in enumerate(records):
        row = [r.id, r.kind, _scope_text(r.scope), _short(r.text), r.updated_at.strftime("%Y-%m-%d %H:%M")]
        if scores is not None:
            row.insert(0, f"{scores[i]:.3f}")
        rows.append(row)
    print_table(title, ([Column("score", "num")] if scores is not None else []) + columns, rows)


@click.group("memory", cls=_MemoryGroup)
def memory_group() -> None:
    """Short- and long-term memory: stats, list, search, show, export, import, backup, restore,
    gc, check."""


@memory_group.command("stats")
@_store_option
@_scope_options
@_json_option
def stats_command(store_url: str | None, user: str | None, agent: str | None, session: str | None,
                  team: str | None, as_json: bool) -> None:
    """Counts by kind and scope level, sessions, turns, archive, size."""
    scope = _scope(user, agent, session, team)
    with _open(store_url, create=False) as store:
        stats = store.stats(None if scope.is_empty() else scope)
    if as_json:
        emit_json(stats.model_dump(mode="json"))
        return
    rows = [("store", f"{stats.backend}  {stats.url}"), ("schema version", stats.schema_version),
            ("memories", stats.memories), ("expired (gc removes)", stats.expired),
            ("by kind", ", ".join(f"{k}: {v}" for k, v in sorted(stats.by_kind.items())) or "-"),
            ("by scope level", ", ".join(f"{k}: {v}" for k, v in sorted(stats.by_level.items())) or "-"),
            ("history versions", stats.history), ("sessions", stats.sessions), ("turns", stats.turns),
            ("archived messages", stats.archived),
            ("size", "-" if stats.size_bytes is None else f"{stats.size_bytes / 1e6:.1f} MB")]
    print_table("memory store", ["", "value"], rows)


@memory_group.command("list")
@_store_option
@_scope_options
@click.option("--kind", type=click.Choice(["fact", "note"]), help="Only facts or only notes.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True,
              help="At most this many memories, most recently updated first.")
@click.option("--offset", type=click.IntRange(0), default=0, help="Skip this many first (paging).")
@click.option("--expired", is_flag=True, help="Include expired memories not yet collected.")
@click.option("--sessions", is_flag=True, help="List short-term sessions instead of memories.")
@_json_option
def list_command(store_url: str | None, user: str | None, agent: str | None, session: str | None,
                 team: str | None, kind: str | None, limit: int, offset: int, expired: bool, sessions: bool,
                 as_json: bool) -> None:
    """Memories (or, with --sessions, sessions), most recently updated first."""
    scope = _scope(user, agent, session, team)
    with _open(store_url, create=False) as store:
        if sessions:
            found = store.list_sessions(scope, limit=limit)
            if as_json:
                emit_json([s.model_dump(mode="json") for s in found])
                return
            print_table("sessions", [Column("session", "id"), Column("scope"), Column("turns", "num"),
                                     Column("archived", "num"), Column("updated", "id")],
                        [(s.session_id, _scope_text(s.scope.model_copy(update={"session": None})), f"{s.turns:,}",
                          f"{s.archived:,}", s.updated_at.strftime("%Y-%m-%d %H:%M")) for s in found])
            return
        records = store.list(scope, kind=kind, limit=limit, offset=offset, include_expired=expired)  # type: ignore[arg-type]
    if as_json:
        emit_json([_record_json(r) for r in records])
    elif not records:
        click.echo("No memories match.")
    else:
        _records_table(records, None)


@memory_group.command("search")
@click.argument("query")
@_store_option
@_scope_options
@click.option("--kind", type=click.Choice(["fact", "note"]), help="Only facts or only notes.")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="At most this many results, best first.")
@_json_option
def search_command(query: str, store_url: str | None, user: str | None, agent: str | None,
                   session: str | None, team: str | None, kind: str | None, limit: int, as_json: bool) -> None:
    """Relevance search (full-text rank blended with recency) within the scope filters."""
    scope = _scope(user, agent, session, team)
    with _open(store_url, create=False) as store:
        results = store.search(query, scope=scope, limit=limit, kind=kind)  # type: ignore[arg-type]
    if as_json:
        emit_json(results.model_dump(mode="json"))
        return
    if not results.hits:
        click.echo("No memories match.")
        return
    note = ""
    if results.common_terms:
        note = f" -- very common terms matched newest-first: {', '.join(results.common_terms)}"
    _records_table(results.records(), f"{plural(len(results.hits), 'result')}, plan: {results.plan}{note}",
                   [h.score for h in results.hits])


@memory_group.command("show")
@click.argument("identifier")
@_store_option
@click.option("--turns", type=click.IntRange(1), default=5, show_default=True,
              help="For a session: how many of the last messages to show.")
@_json_option
def show_command(identifier: str, store_url: str | None, turns: int, as_json: bool) -> None:
    """One memory with its history, or a session (by id) with its latest messages. A unique
    prefix of an id is enough (``memory show 06619ee9``)."""
    with _open(store_url, create=False) as store:
        identifier = _resolve(store, identifier)
        record = store.get(identifier, history=True)
        state = None if record is not None else store.load_session(identifier)
        archive = store.list_archive(identifier) if state is not None else []
    if record is not None:
        if as_json:
            emit_json(_record_json(record))
            return
        rows = [("id", record.id), ("kind", record.kind), ("scope", _scope_text(record.scope)), ("text", record.text),
                ("metadata", record.metadata or "-"), ("created", record.created_at.isoformat()),
                ("updated", record.updated_at.isoformat()),
                ("expires", record.expires_at.isoformat() if record.expires_at else "never"),
                ("version", record.version), ("checksum", record.checksum)]
        rows += [(f"v{h.version}", f"{h.updated_at:%Y-%m-%d %H:%M}  {h.text}") for h in record.history]
        print_table("memory", ["", "value"], rows)
        return
    if state is None:
        from ..errors import InputError

        raise InputError(f"no memory or session with id {identifier!r} (find ids with: massgen-plugins memory list)")
    if as_json:
        data = state.model_dump(mode="json")
        data["archive"] = [h.entry.model_dump(mode="json") | {"turn": h.turn} for h in archive]
        emit_json(data)
        return
    print_table(f"session {state.session_id}", ["", "value"],
                [("scope", _scope_text(state.scope.model_copy(update={"session": None}))),
                 ("last acknowledged turn", state.turn), ("live messages", len(state.messages)),
                 ("archived messages", state.archived), ("meta", state.meta or "-")])
    print_table("latest messages", ["role", "content"],
                [(m.role, _short(m.text() or str(m.tool_calls or ""), 100)) for m in state.messages[-turns:]])


@memory_group.command("add")
@click.argument("text")
@_store_option
@_scope_options
@click.option("--kind", type=click.Choice(["fact", "note"]), default="fact", show_default=True,
              help="A fact (what is true) or a note (what happened).")
@click.option("--ttl", metavar="DURATION", help="Expire after this long (3600, 45m, 12h, 7d).")
@_json_option
def add_command(text: str, store_url: str | None, user: str | None, agent: str | None, session: str | None,
                team: str | None, kind: str, ttl: str | None, as_json: bool) -> None:
    """Store one memory (an identical fact in the same scope is not stored twice)."""
    from ..memory.records import parse_duration

    seconds = parse_duration(ttl) if ttl else None
    with _open(store_url) as store:
        record, created = store.add(text, scope=_scope(user, agent, session, team), kind=kind,  # type: ignore[arg-type]
                                    ttl=seconds)
    if as_json:
        emit_json({"created": created, "record": _record_json(record)})
    else:
        click.echo(f"{'added' if created else 'already stored'}: {record.id}")


@memory_group.command("delete")
@click.argument("memory_id")
@_store_option
def delete_command(memory_id: str, store_url: str | None) -> None:
    """Delete one memory and its history (a unique prefix of its id is enough)."""
    from ..errors import InputError

    with _open(store_url, create=False) as store:
        memory_id = _resolve(store, memory_id)
        if not store.delete(memory_id):
            raise InputError(f"no memory with id {memory_id!r}")
    click.echo(f"deleted: {memory_id}")


@memory_group.command("export")
@click.argument("output", type=click.Path(dir_okay=False, allow_dash=True), default="-")
@_store_option
@_scope_options
@click.option("--expired", is_flag=True, help="Include expired memories not yet collected.")
def export_command(output: str, store_url: str | None, user: str | None, agent: str | None,
                   session: str | None, team: str | None, expired: bool) -> None:
    """Write memories as mem0-compatible JSON lines to OUTPUT (default: stdout)."""
    import contextlib
    import os
    from pathlib import Path

    from ..memory.files import open_private

    scope = _scope(user, agent, session, team)
    with _open(store_url, create=False) as store:
        if output == "-":
            count = store.export_jsonl(sys.stdout, scope, include_expired=expired)
        else:
            partial = Path(output + ".partial")
            try:
                with open_private(partial) as handle:  # 0600: an export holds every memory's text
                    count = store.export_jsonl(handle, scope, include_expired=expired)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(partial, output)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    partial.unlink()
                raise _cannot_write(output, exc) from None
    click.echo(f"exported {count} memories", err=True)


@memory_group.command("import")
@click.argument("source", type=click.Path(dir_okay=False, allow_dash=True))
@_store_option
@_scope_options
@click.option("--strict", is_flag=True, help="Stop at the first malformed line (exit 2).")
@click.option("--batch", type=click.IntRange(1, 100_000), default=500, show_default=True,
              help="Lines per transaction.")
@_json_option
def import_command(source: str, store_url: str | None, user: str | None, agent: str | None,
                   session: str | None, team: str | None, strict: bool, batch: int, as_json: bool) -> None:
    """Import JSON lines ({"text": ..., "user_id": ..., "agent_id", "run_id", "metadata"}).

    Re-running an import adds nothing twice; an interrupted import can simply be run again.
    Scope options fill in ids the lines do not set.
    """
    from ..errors import InputError

    scope = _scope(user, agent, session, team)
    try:
        handle = sys.stdin if source == "-" else open(source, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror}") from None
    try:
        with _open(store_url) as store:
            report = store.import_jsonl(handle, scope=None if scope.is_empty() else scope, batch=batch,
                                        strict=strict)
    except UnicodeDecodeError:
        raise InputError(f"{source} is not UTF-8 text") from None
    finally:
        if handle is not sys.stdin:
            handle.close()
    if as_json:
        emit_json(report.model_dump(mode="json"))
    else:
        click.echo(f"read {report.read} lines: added {report.added}, already stored {report.duplicates}, "
                   f"errors {len(report.errors)}")
        for error in report.errors[:20]:
            click.echo(f"  {error}", err=True)
        if len(report.errors) > 20:
            click.echo(f"  ... and {len(report.errors) - 20} more", err=True)
    if report.errors and report.errors_only:
        raise InputError(f"no line of {source} could be imported ({len(report.errors)} malformed); "
                         "expected JSON lines such as {\"text\": \"...\", \"user_id\": \"alice\"}")


@memory_group.command("backup")
@click.argument("destination", type=click.Path(dir_okay=False))
@_store_option
def backup_command(destination: str, store_url: str | None) -> None:
    """Write a consistent copy of the store to DESTINATION (a new file, readable only by you)
    while it stays in use."""
    with _open(store_url, create=False) as store:
        where = store.backup(destination)
    click.echo(f"backup written: {where}")


@memory_group.command("restore")
@click.argument("source", type=click.Path(dir_okay=False))
@_store_option
def restore_command(source: str, store_url: str | None) -> None:
    """Replace the store with the backup SOURCE (verified first). The replaced store is kept
    aside, never deleted. Stop other processes using the store first."""
    from ..memory import restore_store

    aside = restore_store(store_url, source)
    click.echo(f"restored from {source}")
    if aside:
        click.echo(f"the previous store was kept at {aside}")


@memory_group.command("gc")
@_store_option
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@_json_option
def gc_command(store_url: str | None, dry_run: bool, as_json: bool) -> None:
    """Delete expired memories, memories over their scope's size limit and idle sessions."""
    with _open(store_url, create=False) as store:
        report = store.gc(dry_run=dry_run)
    if as_json:
        emit_json(report.model_dump(mode="json"))
        return
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb}: {report.expired} expired, {report.over_limit} over size limits, "
               f"{report.sessions} idle sessions, {report.history} orphaned history versions")


@memory_group.command("check")
@_store_option
@click.option("--repair-index", is_flag=True, help="Rebuild the full-text index from the stored rows first.")
@_json_option
def check_command(store_url: str | None, repair_index: bool, as_json: bool) -> None:
    """Verify the store: database integrity, full-text index, every record's checksum.
    Exit 1 when anything is damaged."""
    from ..errors import MassgenError

    with _open(store_url, create=False) as store:
        if repair_index:
            store.repair_index()
        report = store.check()
    if as_json:
        emit_json(report.model_dump(mode="json"))
    else:
        counted = ", ".join(f"{v} {k}" for k, v in report.checked.items())
        click.echo(f"checked {counted}: {'ok' if report.ok else 'DAMAGED'}")
        for problem in report.problems:
            click.echo(f"  {problem}")
    if not report.ok:
        if as_json:
            sys.exit(1)
        raise MassgenError("the memory store is damaged; restore a backup with: massgen-plugins memory restore "
                           "BACKUP (the damaged store is kept aside)")
