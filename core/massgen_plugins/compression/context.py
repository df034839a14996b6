"""What every built-in stage needs to know about the conversation it is given.

:class:`StageContext` wraps a :class:`~massgen_plugins.types.CompressionRequest`: the messages,
their token counts (cached), the head, the turn units, the latest user message, the strategy,
and the *recent region* -- the newest units kept verbatim. Third-party stages may use it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..tokens import TokenCounter, counter_for
from ..types import ArchivedMessage, CompressionRequest, Message
from .conversation import Unit, head_end, latest_user_index, message_id, turn_units
from .strategy import Strategy, resolve_strategy


def strategy_of(request: CompressionRequest) -> Strategy:
    """The request's strategy with its options applied (unknown option keys ignored)."""
    opts = request.options.get("strategy")
    if isinstance(opts, dict):
        return resolve_strategy(opts)
    known = {k: v for k, v in request.options.items() if k in Strategy.model_fields and k != "name"}
    return resolve_strategy(request.strategy, known)


@dataclass
class StageContext:
    """A conversation prepared for one compression stage."""

    request: CompressionRequest
    messages: list[Message] = field(init=False)
    counter: TokenCounter = field(init=False)
    strategy: Strategy = field(init=False)
    tokens: list[int] = field(init=False)
    head: int = field(init=False)
    units: list[Unit] = field(init=False)
    latest_user: int | None = field(init=False)

    def __post_init__(self) -> None:
        r = self.request
        self.messages = list(r.messages)
        self.counter = counter_for(r.model)
        self.strategy = strategy_of(r)
        self.tokens = self.counter.per_message(self.messages)
        self.head = head_end(self.messages)
        self.units = turn_units(self.messages)
        self.latest_user = latest_user_index(self.messages)

    # -- sizes -----------------------------------------------------------------------------
    @property
    def target(self) -> int:
        """The size the stage should reach (the request's budget), in counted tokens."""
        return self.request.budget

    @property
    def fixed(self) -> int:
        """Tokens outside the messages: tool schemas + reply priming."""
        return self.counter.tools(self.request.tools) + 3

    def total(self, tokens: Sequence[int] | None = None) -> int:
        """Counted size with the tokenizer's margin applied (comparable with :attr:`target`)."""
        raw = sum(self.tokens if tokens is None else tokens) + self.fixed
        return self.counter.with_margin(raw)

    def fits(self) -> bool:
        return self.total() <= self.target

    def allowance(self) -> int:
        """Raw (margin-free) message tokens that fit in the target."""
        margin = 1.0 + self.counter.margin
        return int(self.target / margin) - self.fixed

    # -- regions ---------------------------------------------------------------------------
    def recent_start(self, reserve: int = 0) -> int:
        """Index where the verbatim recent region begins: the latest unit always, plus earlier
        units while they fit in the strategy's ``keep_recent`` (and leave ``reserve`` tokens
        of the target free for a summary or extract)."""
        if not self.units:
            return len(self.messages)
        head_tokens = sum(self.tokens[: self.head])
        room = min(self.strategy.keep_recent(self.target), self.allowance() - head_tokens - reserve)
        last = self.units[-1]
        start = last.start
        used = sum(self.tokens[last.start:last.end])
        for unit in reversed(self.units[:-1]):
            size = sum(self.tokens[unit.start:unit.end])
            if used + size > room:
                break
            used += size
            start = unit.start
        return start

    def old_end(self, output_tokens: int, *, slack: float = 1.25) -> int:
        """End of the oldest run of whole units worth condensing: the shortest prefix (from the
        head, never past :meth:`recent_start`) whose tokens exceed the excess over the target
        plus ``output_tokens`` (the size of what replaces it), times ``slack``. Condensing only
        what is needed keeps more of the conversation verbatim."""
        limit = self.recent_start(reserve=output_tokens)
        excess = sum(self.tokens) - self.allowance()
        need = (excess + output_tokens) * slack
        acc = 0
        for unit in self.units:
            if unit.start >= limit:
                break
            acc += sum(self.tokens[unit.start:unit.end])
            if acc >= need:
                return unit.end
        return limit

    @property
    def latest_unit_start(self) -> int:
        return self.units[-1].start if self.units else len(self.messages)

    # -- archive ---------------------------------------------------------------------------
    def archive(self, index: int, replaced_by: str | None, stage: str, **extra: Any) -> ArchivedMessage:
        """An archive record for ``messages[index]`` with provenance."""
        m = self.messages[index]
        return ArchivedMessage(
            id=message_id(m), message=m, replaced_by=replaced_by, stage=stage,
            position=index, tokens=self.tokens[index], **extra,
        )
