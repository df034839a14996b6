"""Shared output helpers for CLI commands: JSON (plain, stable) and tables that read well at 80
columns, in a terminal or piped.

Table rules (rich is imported only when a table is printed, so ``--json`` paths stay fast):

* ``id`` columns (ids, names, paths, model strings) never wrap and are never cropped;
* ``num`` columns are right-aligned and never wrap;
* ``text`` columns wrap between words, never inside one (no ``register_provider/s``);
* ``note`` columns (errors, details) keep short values in the cell; a long value is replaced by
  ``see N`` and printed in full below the table as a wrapped paragraph, so an error never
  spreads over forty narrow table rows;
* columns with nothing in them are left out, and so are ``optional`` ones when the table would
  not fit otherwise (``--json`` has everything);
* when even the narrowest layout is wider than the terminal, each row is printed as a block of
  ``header  value`` lines instead of a crushed table;
* cell text is shown literally (``[Errno 2]`` is not rich markup).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import click

from ..formatting import money, plural

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["Column", "console", "emit_json", "money", "plural", "print_line", "print_table", "print_wrapped"]

Kind = Literal["id", "num", "text", "note"]

#: A ``note`` value longer than this goes below the table.
NOTE_INLINE = 24


@dataclass(frozen=True)
class Column:
    """One table column: its header and how its cells behave when space is short."""

    header: str
    kind: Kind = "text"
    #: left out of a table too wide for the terminal (still shown in the one-block-per-row layout)
    optional: bool = False


def emit_json(data: Any) -> None:
    """Write ``data`` as indented JSON to stdout."""
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def console(*, stderr: bool = False) -> Console:
    """The console every command prints through: plain when piped, width from the terminal
    (or ``COLUMNS``), no automatic highlighting of numbers and paths."""
    from rich.console import Console

    return Console(file=sys.stderr if stderr else sys.stdout, soft_wrap=False, highlight=False)


def print_line(text: str, *, style: str | None = None, out: Console | None = None) -> None:
    """One logical line that is never broken by us (a command to copy, a path): the terminal may
    wrap it visually, a pipe gets it whole."""
    from rich.text import Text

    (out or console()).print(Text(text, style=style or ""), soft_wrap=True)


def print_table(title: str | None, columns: Sequence[str | Column], rows: Sequence[Sequence[Any]],
                *, out: Console | None = None) -> None:
    """Render ``rows`` under ``columns`` (plain strings are ``text`` columns), following the
    module's 80-column rules."""
    cols = [c if isinstance(c, Column) else Column(c) for c in columns]
    cells = [[" ".join(("" if v is None else str(v)).split()) if c.kind == "note" else ("" if v is None else str(v))
              for c, v in zip(cols, row, strict=True)] for row in rows]
    out = out or console()
    if title:
        print_wrapped(title, out=out, style="bold")
    original = [list(row) for row in cells]
    notes = _move_notes(cols, cells, lambda value: len(value) > NOTE_INLINE, refer=True)
    shown, shown_cells = _drop_empty(cols, cells)
    if not _fits(shown, shown_cells, out.width):  # second try: every note below, keyed by its row
        cells = original
        notes = _move_notes(cols, cells, lambda value: True, refer=False)
        shown, shown_cells = _drop_empty(cols, cells)
    narrow = [i for i, c in enumerate(shown) if not c.optional]
    if not _fits(shown, shown_cells, out.width) and len(narrow) < len(shown):  # third try: the essentials only
        essential = [shown[i] for i in narrow], [[row[i] for i in narrow] for row in shown_cells]
        if _fits(*essential, out.width):
            shown, shown_cells = essential
    if _fits(shown, shown_cells, out.width):
        widths = [_min_width(c, [row[i] for row in shown_cells]) for i, c in enumerate(shown)]
        out.print(_table(shown, shown_cells, widths))
    else:
        _print_records(shown, shown_cells, out)
    for note in notes:
        print_wrapped(note, out=out)


def print_wrapped(text: str, *, indent: int = 4, out: Console | None = None, style: str | None = None) -> None:
    """A paragraph wrapped to the terminal between words (a path or id longer than the line stays
    whole), continuation lines indented."""
    import textwrap

    out = out or console()
    lines = textwrap.wrap(text, width=out.width, subsequent_indent=" " * indent, break_long_words=False,
                          break_on_hyphens=False) or [""]
    for line in lines:
        print_line(line, out=out, style=style)


def _move_notes(cols: list[Column], cells: list[list[str]], moved: Any, *, refer: bool) -> list[str]:
    """Move the ``note`` values that ``moved`` selects below the table; with ``refer`` the cell
    says ``see N`` and the line is numbered."""
    notes: list[str] = []
    for row in cells:
        for i, col in enumerate(cols):
            value = row[i]
            if col.kind != "note" or not value or not moved(value):
                continue
            line = f"{row[0]}: {value}" if i else value
            if refer:
                notes.append(f"{len(notes) + 1}. {line}")
                row[i] = f"see {len(notes)}"
            else:
                notes.append(line)
                row[i] = ""
    return notes


def _drop_empty(cols: list[Column], cells: list[list[str]]) -> tuple[list[Column], list[list[str]]]:
    keep = [i for i, col in enumerate(cols) if i == 0 or col.kind in ("id", "num") or any(row[i] for row in cells)]
    return [cols[i] for i in keep], [[row[i] for i in keep] for row in cells]


def _fits(cols: list[Column], cells: list[list[str]], width: int) -> bool:
    widths = [_min_width(col, [row[i] for row in cells]) for i, col in enumerate(cols)]
    return sum(widths) + 2 * (len(cols) - 1) <= width


def _min_width(col: Column, values: list[str]) -> int:
    from rich.cells import cell_len

    if col.kind in ("id", "num"):
        return max([cell_len(col.header), *(cell_len(line) for v in values for line in v.splitlines() or [""])])
    words = [w for v in [col.header, *values] for w in v.split()]
    return max([1, *(cell_len(w) for w in words)])


def _table(cols: list[Column], cells: list[list[str]], widths: list[int]) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    # no outer border and no vertical rules: two cells of space between columns, none at the edges
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
    for col, width in zip(cols, widths, strict=True):
        fixed = col.kind in ("id", "num")
        table.add_column(col.header, justify="right" if col.kind == "num" else "left", no_wrap=fixed,
                         min_width=width, overflow="fold")
    for row in cells:
        table.add_row(*(Text(v) for v in row))
    return table


def _print_records(cols: list[Column], cells: list[list[str]], out: Console) -> None:
    import textwrap

    label = max(len(c.header) for c in cols[1:]) if len(cols) > 1 else 0
    indent = " " * (label + 4)
    for row in cells:
        print_line(row[0], style="bold", out=out)
        for col, value in zip(cols[1:], row[1:], strict=True):
            if not value:
                continue
            head = f"  {col.header:<{label}}  "
            if col.kind in ("id", "num"):
                print_line(head + value, out=out)
                continue
            lines = textwrap.wrap(" ".join(value.split()), width=max(20, out.width - len(indent)),
                                  break_long_words=False, break_on_hyphens=False) or [""]
            print_line(head + lines[0], out=out)
            for line in lines[1:]:
                print_line(indent + line, out=out)
