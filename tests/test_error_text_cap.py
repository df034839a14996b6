"""Overflow detection and error classification read a bounded part of an error's text: its start
and its end. A provider echoing a 50 MB request back in its error must not keep the event loop
busy matching patterns over all of it, and the stated numbers (at the start) are still found."""

from __future__ import annotations

import massgen_plugins
from massgen_plugins.errorparts import SCAN_HEAD, SCAN_TAIL, bounded, error_parts

STATED = "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. "


def test_a_huge_error_text_is_cut_to_its_start_and_end():
    huge = STATED + "x" * 50_000_000 + " request id abc"
    parts = error_parts(RuntimeError(huge))
    assert len(parts.message) <= SCAN_HEAD + SCAN_TAIL + 3
    assert parts.message.startswith(STATED) and parts.message.endswith("request id abc")
    assert bounded("short") == "short"


def test_the_stated_numbers_are_still_read_from_a_huge_error():
    overflow = massgen_plugins.detect_overflow(RuntimeError(STATED + "y" * 50_000_000), model="openai/gpt-4o")
    assert overflow is not None and overflow.limit == 8192 and overflow.requested == 9000
