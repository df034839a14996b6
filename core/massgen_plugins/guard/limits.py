"""What a session knows about each model's size limits.

Three sources, most specific first: the session's configuration (``context_window``,
``reserve_output``), what providers *stated* in their errors during this session (a window in an
overflow error, an output cap in an output-cap error), and the model registry (cache and bundled
data; a model it does not know refreshes its provider's list first, a stale list is refreshed in
the background -- see :mod:`massgen_plugins.registry.freshness`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..tokens import TokenCounter
    from ..types import Message
    from .config import AgentConfig

DEFAULT_RESERVE = 4096

_CAP_PATTERNS = (
    r"at most (\d+) (?:completion|output) tokens",
    r"less than or equal to `?(\d+)`?",
    r"max_tokens: \d+ > (\d+)",
    r"maximum (?:allowed )?(?:number of )?output tokens(?: is| for [^,.]+ is)? (\d+)",
)


def stated_output_cap(message: str) -> int | None:
    """The output-token cap an output-cap error states, if any."""
    for pattern in _CAP_PATTERNS:
        found = re.search(pattern, message or "", re.IGNORECASE)
        if found:
            return int(found.group(1))
    return None


def registry_info(model: str) -> Any:
    """The registry's view of ``model`` (cache and bundled data; an unknown model or a stale cache
    refreshes its provider's list, see :mod:`massgen_plugins.registry.freshness`), or ``None``."""
    from ..registry.freshness import lookup

    return lookup(model)


class ModelLimits:
    """Windows, output reserves and token counts for the models one session uses."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self._infos: dict[str, Any] = {}
        self._windows: dict[str, int] = {}  # stated by providers in overflow errors
        self._caps: dict[str, int] = {}  # stated by providers in output-cap errors
        self._counters: dict[str, TokenCounter] = {}

    def count(self, model: str, messages: Sequence[Message], tools: list[dict[str, Any]]) -> int:
        """Input tokens as the compression chain counts them: incremental, margin included.

        One counter per session and model, so agents of a team taking turns on the same model
        each keep the incremental path.
        """
        counter = self._counters.get(model)
        if counter is None:
            from ..tokens import TokenCounter

            counter = self._counters[model] = TokenCounter(model)
        return counter.with_margin(counter.count(messages, tools))

    def info(self, model: str) -> Any:
        if self._infos.get(model) is None:  # an unknown model is looked up again next time
            self._infos[model] = registry_info(model)
        return self._infos[model]

    def window(self, model: str) -> int | None:
        """The window to plan with: the smaller of a configured and a learned one, else the
        registry's."""
        configured = self.config.context_window if model == self.config.model else None
        learned = self._windows.get(model)
        if configured or learned:
            return min(w for w in (configured, learned) if w)
        info = self.info(model)
        return info.context_window if info is not None else None

    def reserve(self, model: str, max_tokens: int | None, window: int | None = None) -> int:
        """Output tokens kept free: explicit, configured, or min(model cap, 4096, window / 4);
        never above an output cap a provider stated. ``window`` saves a second lookup."""
        learned_cap = self._caps.get(model)
        explicit = max_tokens or self.config.reserve_output
        if explicit:
            return min(explicit, learned_cap) if learned_cap else explicit
        info = self.info(model)
        cap = info.max_output_tokens if info is not None and info.max_output_tokens else DEFAULT_RESERVE
        cap = min(cap, learned_cap or cap)
        window = window if window is not None else self.window(model)
        if window:
            cap = min(cap, max(64, window // 4))
        return max(64, min(cap, DEFAULT_RESERVE))

    def plan(self, model: str, max_tokens: int | None, messages: Sequence[Message],
             tools: list[dict[str, Any]]) -> AttemptPlan:
        """Everything one attempt needs, from one window lookup and one count."""
        window = self.window(model)
        reserve = self.reserve(model, max_tokens, window)
        return AttemptPlan(window=window, reserve=reserve, budget=self.input_budget(window, reserve),
                           tokens=self.count(model, messages, tools))

    @staticmethod
    def input_budget(window: int | None, reserve: int) -> int | None:
        """Input tokens that fit next to the reserved output (counts carry the margin)."""
        return max(1, window - reserve) if window else None

    def learn_window(self, model: str, limit: int | None) -> None:
        """Remember the window a provider stated; later attempts (this turn included) plan with it."""
        if limit:
            self._windows[model] = min(limit, self._windows.get(model, limit))

    def learn_cap(self, model: str, error_message: str, reserve: int) -> int:
        """Remember the output cap an error stated (or a quarter of what was asked); return it."""
        cap = stated_output_cap(error_message) or max(256, reserve // 4)
        self._caps[model] = cap
        return cap

    @staticmethod
    def provider_input(counted: int, requested: int | None, sent_max_tokens: int,
                       stated_input: int | None = None) -> int | None:
        """The provider's count of the request's *input*.

        Providers state either the input alone ("prompt is too long: N tokens") or input plus
        the requested output ("you requested N tokens (a in the messages, b in the
        completion)"). Unless the input is stated on its own, ``requested`` is read as input plus
        output only when it is well above our own count (by a quarter) and ``requested -
        max_tokens`` is closer to it; otherwise as input (the reading that compresses more).
        """
        if stated_input:
            return stated_input
        if not requested or requested <= 0:
            return None
        without = requested - sent_max_tokens
        ours = max(1, counted)
        if without > 0 and requested > ours * 1.25 and abs(math.log(without / ours)) < abs(math.log(requested / ours)):
            return without
        return requested

    @staticmethod
    def reactive_target(counted: int, limit: int | None, provider_input: int | None, reserve: int) -> int:
        """Size a compression from the provider's own numbers, converted to *our* token units.

        ``provider_input`` is the provider's count of the same input we counted as ``counted``
        (see :meth:`provider_input`); ``reserve`` is the output the next attempt keeps free.
        """
        if limit and provider_input and provider_input > 0:
            scale = provider_input / max(1, counted)  # provider tokens per counted token
            return max(1, int((limit - reserve) / scale * 0.95))
        if limit:
            return max(1, int((limit - reserve) * 0.9))
        return max(1, int(counted * 0.7))


@dataclass(frozen=True)
class AttemptPlan:
    """One attempt's numbers: the window, the output reserve, the input budget and the count."""

    window: int | None
    reserve: int
    budget: int | None
    tokens: int
