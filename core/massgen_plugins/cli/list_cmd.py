"""``massgen-plugins list``: the installed plugins, their hooks, versions and load status."""

from __future__ import annotations

import click

from .output import Column, emit_json, print_table


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--all", "show_all", is_flag=True, help="Include the built-in default plugins.")
@click.option("--hook", "hooks", multiple=True, metavar="NAME",
              help="Only plugins implementing this hook (repeatable).")
def list_command(as_json: bool, show_all: bool, hooks: tuple[str, ...]) -> None:
    """List installed plugins (also the broken and disabled ones, with why)."""
    from .. import hookspecs
    from ..errors import InputError
    from ..manager import get_host

    known = {name for name in dir(hookspecs) if getattr(getattr(hookspecs, name), "massgen_plugins_spec", None)}
    unknown = sorted(set(hooks) - known)
    if unknown:
        raise InputError(f"unknown hook {', '.join(unknown)}; hooks are: {', '.join(sorted(known))}")
    records = [r for r in get_host().records if show_all or not r.builtin]
    if hooks:
        records = [r for r in records if set(hooks) & set(r.hooks)]
    records.sort(key=lambda r: (r.builtin, r.name.lower()))
    if as_json:
        emit_json([{k: v for k, v in r.to_dict().items()} for r in records])
        return
    if not records:
        click.echo("No plugins installed. For a provider: pip install massgen-plugins-openai")
        return
    rows = [
        (r.name.rsplit(".", 1)[-1] if r.builtin else r.name, r.version or "", r.distribution or ("built-in" if r.builtin else ""), r.status,
         ", ".join(r.hooks), r.error or "")
        for r in records
    ]
    print_table(None, [Column("plugin", "id"), Column("version", "id"), Column("distribution", "id"),
                       Column("status", "id"), Column("hooks"), Column("error", "note")], rows)
