"""A readable timeline of a run, for the terminal."""

from __future__ import annotations

from typing import Any

from ..formatting import plural

SHOWN = ("overflow", "compression", "retry", "fallback", "note", "error")


def describe(event: dict[str, Any]) -> str:
    """One line saying what an event means."""
    kind = event["type"]
    if kind == "call_end":
        usage = event.get("usage") or {}
        return (f"{event['model']} attempt {event.get('attempt', 1)}: {event.get('outcome')} in "
                f"{event.get('latency_ms', 0):.0f} ms ({usage.get('input_tokens', 0):,} in / "
                f"{usage.get('output_tokens', 0):,} out)")
    if kind == "overflow":
        tokens = event.get("requested") or event.get("counted")
        shown = f"{tokens:,}" if isinstance(tokens, int) else "?"
        if event["mode"] == "proactive" and isinstance(event.get("budget"), int):
            window = f" of the {event['limit']:,} window" if isinstance(event.get("limit"), int) else ""
            return (f"proactive overflow on {event['model']}: {shown} tokens > the {event['budget']:,}-token "
                    f"input budget{window}")
        limit = f"{event['limit']:,}" if isinstance(event.get("limit"), int) else "?"
        return f"{event['mode']} overflow on {event['model']}: {shown} tokens > {limit}"
    if kind == "compression":
        return (f"{event['stage']}: {event['tokens_before']:,} → {event['tokens_after']:,} tokens, "
                f"{plural(len(event.get('archived_ids') or []), 'message')} archived")
    if kind == "retry":
        return f"{event['model']}: {event['kind']}, retrying in {event['delay_s']:.2f} s"
    if kind == "fallback":
        return f"{event['from_model']} → {event['to_model']} ({event['why']})"
    return str(event.get("message") or event.get("title") or "")


def render(events: list[dict[str, Any]], *, calls: bool = False) -> None:
    """Print the run as a table: when, who, what (readable at 80 columns)."""
    from ..cli.output import Column, print_table

    shown = SHOWN + (("call_end",) if calls else ())
    rows = [(f"{event.get('elapsed_ms', 0) / 1000:.1f}", event.get("agent") or "", event["type"], describe(event))
            for event in events if event["type"] in shown]
    print_table("run timeline", [Column("t (s)", "num"), Column("agent", "id"), Column("event", "id"),
                                 Column("what happened")], rows)
