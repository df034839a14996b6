"""How numbers read in human output: counts with the right plural, costs with real digits."""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 message``, ``2 messages``, ``0 entries`` (with ``plural_form``), counts with thousands commas."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


def money(value: float | None) -> str:
    """A cost in dollars: 4 decimals, or the first significant digits for a small non-zero cost
    (``$0.000012``, never ``$0.0000``); ``unknown`` for ``None``."""
    if value is None:
        return "unknown"
    if value == 0 or abs(value) >= 0.0001:
        return f"${value:,.4f}"
    digits = 4
    while abs(value) < 10 ** -digits and digits < 12:
        digits += 1
    return f"${value:.{digits + 1}f}"
