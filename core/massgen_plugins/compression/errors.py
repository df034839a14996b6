"""Errors of the compression chain."""

from __future__ import annotations

from typing import Any

from ..errors import InputError, MassgenError


class InvalidConversationError(InputError):
    """A conversation breaks a rule the target provider enforces (orphaned tool result, wrong
    first turn, ...). The message names the message index and the rule."""

    def __init__(self, reason: str, *, index: int | None = None) -> None:
        self.reason = reason
        self.index = index
        where = f"message {index}: " if index is not None else ""
        super().__init__(f"invalid conversation: {where}{reason}")


class InvariantViolation(MassgenError):
    """A compression result lost something it must keep (system prompt, latest user turn)."""


class CannotFitError(MassgenError):
    """The conversation cannot be made to fit the budget without breaking an invariant.

    ``needed`` is the smallest size reached (tokens, margin included), ``budget`` the limit,
    ``over_by = needed - budget``. ``report`` holds the chain's report when one ran.
    """

    def __init__(self, message: str, *, needed: int, budget: int, report: Any = None) -> None:
        self.needed = needed
        self.budget = budget
        self.over_by = needed - budget
        self.report = report
        super().__init__(message)


class CompressionReentryError(MassgenError):
    """``compress_conversation`` was called from inside a compression stage (for example by a
    summarizer call that overflowed): a summarizer call never triggers compression of itself."""
