"""Typed errors the guarded Session raises when it cannot recover.

The conversation is never corrupted by a failed turn: the user message of a failed ``send`` is
rolled back, so the same ``send`` can simply be repeated once the cause is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import MassgenError


@dataclass
class AttemptRecord:
    """One call the guard made during a turn."""

    model: str
    attempt: int
    outcome: str  # "ok", "overflow", "rate_limit", "server", ... (an ErrorKind value)
    message: str = ""
    delay: float | None = None


class GuardError(MassgenError):
    """Base class for failures of a guarded turn; ``attempts`` lists every call made."""

    def __init__(self, message: str, attempts: list[AttemptRecord] | None = None) -> None:
        super().__init__(message)
        self.attempts = list(attempts or [])


class ContextOverflowError(GuardError):
    """The conversation does not fit any configured model even after compression."""

    def __init__(
        self,
        message: str,
        *,
        model: str,
        tokens: int | None,
        limit: int | None,
        attempts: list[AttemptRecord] | None = None,
    ) -> None:
        super().__init__(message, attempts)
        self.model = model
        self.tokens = tokens
        self.limit = limit


class AllModelsFailedError(GuardError):
    """Every model (the primary and each fallback) failed for reasons other than overflow."""


@dataclass
class PartialOutput:
    """Text, reasoning/thinking and complete tool calls a stream produced before it failed."""

    model: str
    text: str = ""
    tool_calls: list[dict] = field(default_factory=list)
    reasoning: str = ""


class StreamInterruptedError(GuardError):
    """A stream failed after producing output and could not be resumed; ``partial`` keeps it."""

    def __init__(self, message: str, partial: PartialOutput, attempts: list[AttemptRecord] | None = None) -> None:
        super().__init__(message, attempts)
        self.partial = partial
