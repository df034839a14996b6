"""What a session knows about each model's size limits.

Three sources, most specific first: the session's configuration (``context_window``,
``reserve_output``), what providers *stated* in their errors during this session (a window in an
overflow error, an output cap in an output-cap error), and the model registry (cache and bundled
data; a model it does not know refreshes its provider's list first, a stale list is refreshed in
the background -- see :mod:`massgen_plugins.registry.freshness`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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
        if self.config.context_window and model == self.config.model:
            return self.config.context_window
        if model in self._windows:
            return self._windows[model]
        info = self.info(model)
        return info.context_window if info is not None else None

    def reserve(self, model: str, max_tokens: int | None) -> int:
        """Output tokens kept free: explicit, configured, or min(model cap, 4096, window / 4)."""
        if max_tokens:
            return max_tokens
        if self.config.reserve_output:
            return self.config.reserve_output
        info = self.info(model)
        cap = info.max_output_tokens if info is not None and info.max_output_tokens else DEFAULT_RESERVE
        cap = min(cap, self._caps.get(model, cap))
        window = self.window(model)
        if window:
            cap = min(cap, max(64, window // 4))
        return max(64, min(cap, DEFAULT_RESERVE))

    @staticmethod
    def input_budget(window: int | None, reserve: int) -> int | None:
        """Input tokens that fit next to the reserved output (counts carry the margin)."""
        return max(1, window - reserve) if window else None

    def learn_window(self, model: str, limit: int | None) -> None:
        if limit:
            self._windows[model] = limit

    def learn_cap(self, model: str, error_message: str, reserve: int) -> int:
        """Remember the output cap an error stated (or a quarter of what was asked); return it."""
        cap = stated_output_cap(error_message) or max(256, reserve // 4)
        self._caps[model] = cap
        return cap

    @staticmethod
    def reactive_target(counted: int, limit: int | None, requested: int | None, reserve: int) -> int:
        """Size a compression from the provider's own numbers, converted to *our* token units."""
        if limit and requested and requested > 0:
            scale = requested / max(1, counted)  # provider tokens per counted token
            return max(1, int((limit - reserve) / scale * 0.95))
        if limit:
            return max(1, int((limit - reserve) * 0.9))
        return max(1, int(counted * 0.7))
