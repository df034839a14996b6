"""Tables at 80 columns: ids and paths never wrap, words never break, long errors go below the
table, numbers are right-aligned, costs and counts read right."""

from __future__ import annotations

import io

import pytest
from massgen_plugins.cli.output import Column, money, plural, print_table
from rich.cells import cell_len
from rich.console import Console

HOOKS = "classify_error, complete, count_tokens, detect_overflow, list_models, register_providers, stream"
ERROR = ("MissingCredentialsError: the anthropic plugin needs ANTHROPIC_API_KEY to be set; export it or pass "
         "api_keys={'anthropic': ...} to Session (see docs/providers/anthropic.md for the full list of settings)")


def render(columns, rows, width: int = 80, title: str | None = None) -> list[str]:
    buffer = io.StringIO()
    out = Console(file=buffer, width=width, force_terminal=False, color_system=None)
    print_table(title, columns, rows, out=out)
    return buffer.getvalue().splitlines()


def plugin_rows():
    return [("anthropic", "0.1.0", "massgen-plugins-anthropic", "failed", HOOKS, ERROR),
            ("gemini", "0.1.0", "massgen-plugins-gemini", "loaded", HOOKS, "")]


PLUGIN_COLUMNS = [Column("plugin", "id"), Column("version", "id"), Column("distribution", "id"),
                  Column("status", "id"), Column("hooks"), Column("error", "note")]


def test_every_line_fits_and_no_word_is_broken():
    lines = render(PLUGIN_COLUMNS, plugin_rows())
    assert all(cell_len(line) <= 80 for line in lines), lines
    text = "\n".join(lines)
    for token in ("register_providers", "massgen-plugins-anthropic", "detect_overflow", "count_tokens"):
        assert token in text, f"{token} was broken: {text}"


def test_a_long_error_goes_below_the_table_as_one_paragraph():
    lines = render(PLUGIN_COLUMNS, plugin_rows())
    start = next(i for i, line in enumerate(lines) if "MissingCredentialsError" in line)
    assert start > max(i for i, line in enumerate(lines) if "gemini" in line)
    assert lines[start].startswith("anthropic: MissingCredentialsError")
    paragraph = lines[start:]
    assert len(paragraph) <= 4 and all(line.startswith("    ") for line in paragraph[1:])
    assert " ".join(line.strip() for line in paragraph) == f"anthropic: {ERROR}"


def test_short_notes_stay_in_the_cell_and_long_ones_are_numbered():
    rows = [("mask", "ok", "nothing to mask"), ("summarize", "skipped", ERROR)]
    lines = render([Column("stage", "id"), Column("status", "id"), Column("detail", "note")], rows)
    assert any("nothing to mask" in line and line.startswith("mask") for line in lines)
    assert any(line.startswith("summarize") and line.rstrip().endswith("see 1") for line in lines), lines
    assert any(line.startswith("1. summarize: MissingCredentialsError") for line in lines)


def test_ids_and_paths_never_wrap_even_when_the_table_cannot_fit():
    path = "/home/someone/projects/a-rather-long-directory-name/runs/run_20260110_150000_a1b2c3/events.jsonl"
    rows = [(path, "1,234", "ok", "a short note")]
    lines = render([Column("path", "id"), Column("events", "num"), Column("status", "id"), Column("what")], rows)
    assert path in lines, lines  # alone on its line: the record layout
    assert any(line.split() == ["events", "1,234"] for line in lines)


def test_numbers_are_right_aligned():
    lines = render([Column("model", "id"), Column("calls", "num")], [("openai/gpt-4o-mini", "7"), ("x/y", "1,234")])
    rows = [line for line in lines if line.startswith(("openai", "x/y"))]
    assert len({len(line.rstrip()) for line in rows}) == 1, rows
    assert rows[0].rstrip().endswith(" 7") and rows[1].rstrip().endswith("1,234")


def test_cells_are_literal_not_markup():
    lines = render([Column("what")], [("[Errno 2] [bold]no[/bold] such file",)])
    assert any("[Errno 2] [bold]no[/bold] such file" in line for line in lines)


def test_empty_columns_are_left_out():
    lines = render(PLUGIN_COLUMNS, [plugin_rows()[1]])
    assert "error" not in lines[0]


@pytest.mark.parametrize(("value", "shown"), [
    (None, "unknown"), (0, "$0.0000"), (0.2381, "$0.2381"), (1234.5, "$1,234.5000"),
    (0.0000123, "$0.000012"), (0.00009, "$0.000090"), (0.0000004, "$0.00000040"),
])
def test_money_shows_real_digits_for_small_costs(value, shown):
    assert money(value) == shown


def test_plural():
    assert [plural(1, "message"), plural(2, "message"), plural(0, "entry", "entries"), plural(1200, "token")] == [
        "1 message", "2 messages", "0 entries", "1,200 tokens"]


def test_optional_columns_give_way_before_the_table_does():
    rows = [("run_20260110_150000_a1b2c3", "2026-01-10 15:00", "interrupted", "massgen", "1,234",
             "researcher, critic, writer — Compare three vector databases for a 50M-document corpus")]
    columns = [Column("run", "id"), Column("started (UTC)", "id"), Column("status", "id"), Column("source", "id"),
               Column("events", "num"), Column("agents / title", optional=True)]
    narrow = render(columns, rows)
    assert narrow[0].split() == ["run", "started", "(UTC)", "status", "source", "events"]
    assert "run_20260110_150000_a1b2c3" in narrow[2] and narrow[2].rstrip().endswith("1,234")
    wide = render(columns, rows, width=200)
    assert "agents / title" in wide[0] and "50M-document corpus" in "\n".join(wide)
