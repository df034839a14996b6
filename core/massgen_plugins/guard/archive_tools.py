"""The ``expand(gist_id)`` tool a guarded session offers its model, next to ``recall(query)``.

Compression replaces older turns by gists (``[gist g-...: N message(s) ...]`` headers with their
key lines) and archives the originals. With ``recall_tool=True``, once a gist exists, the model
also gets ``expand(gist_id)``: the archived originals of one gist, in order (masked tool results
whole; a gist of gists shows the older gists' headers, which can be expanded in turn). The guard
answers the call itself (:mod:`.tools`) and **budgets for what it brings back**: the answer is
cut to half the room left in the model's input budget (what the conversation does not already
use, minus the reserved output), saying so and that ``recall`` finds the rest -- an expansion
never pushes the next call over the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..types import ArchivedMessage
from .tools import BuiltinTool

if TYPE_CHECKING:
    from .session import Session

EXPAND_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "expand",
        "description": "Bring back the original messages behind a [gist g-...] of the earlier conversation.",
        "parameters": {"type": "object", "properties": {"gist_id": {"type": "string"}}, "required": ["gist_id"]},
    },
}
ANSWER_SHARE = 0.5  # an answer may use at most this share of the room left in the input budget
MIN_ANSWER_TOKENS = 256


def has_gists(archive: Sequence[ArchivedMessage]) -> bool:
    """Whether compression has made any gist yet (``expand`` is offered only then)."""
    return any((record.model_extra or {}).get("gist") for record in archive)


def answer_budget(session: Session) -> int | None:
    """Tokens an ``expand`` answer may take: :data:`ANSWER_SHARE` of the room left in the primary
    model's input budget (``None`` when its window is unknown)."""
    model = session.config.model
    limits = session.limits
    budget = limits.input_budget(limits.window(model), limits.reserve(model, None))
    if budget is None:
        return None
    return max(MIN_ANSWER_TOKENS, int((budget - session.count_tokens()) * ANSWER_SHARE))


def fit(text: str, tokens: int | None, count: Any) -> str:
    """``text`` cut (at its end) to ``tokens``, saying so."""
    if tokens is None:
        return text
    size = count(text)
    if size <= tokens:
        return text
    note = f"\n[... cut to fit the context window ({size:,} tokens in all); recall(query) finds the rest]"
    keep = max(0, int(len(text) * (tokens - count(note)) / size * 0.95))
    return text[:keep] + note


def expand_tool(session: Session) -> BuiltinTool:
    """The ``expand`` tool over ``session``'s archive."""
    from ..compression.gists import render_expansion
    from ..tokens import counter_for

    async def answer(arguments: dict[str, Any]) -> str:
        gid = str(arguments.get("gist_id") or arguments.get("query") or "").strip()
        text = render_expansion(session._archive, gid) if gid else "expand needs a gist_id (g-...)."
        session._emit("memory_read", scope="session", query=f"expand {gid}", hits=int(text.startswith("[expanded")),
                      ids=[gid])
        return fit(text, answer_budget(session), counter_for(session.config.model).text)

    return BuiltinTool(EXPAND_TOOL, answer)
