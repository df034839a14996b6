"""The archive tools a guarded session offers its model: ``recall(query)`` and ``expand(gist_id)``.

Compression replaces older turns by gists (``[gist g-...: N message(s) ...]`` headers with their
key lines) and archives the originals. With ``recall_tool=True`` the model gets two tools:

* ``recall(query)`` -- full-text search over what was archived and over long-term memory;
* ``expand(gist_id)`` -- the archived originals of one gist, in order (a gist of gists shows the
  older gists' headers, which can be expanded in turn); offered once a gist exists.

The guard answers these calls itself (they never reach the provider) and re-calls the model.
**It budgets for what it brings back**: an answer is cut to a share of the room left in the
model's input budget (what the conversation does not already use, minus the reserved output), so
an expansion can never push the next call over the window; what is cut says so, and that
``recall`` finds the rest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..types import ArchivedMessage, CompletionResponse, ToolCall

if TYPE_CHECKING:
    from .session import Session

EXPAND_TOOL = {
    "type": "function",
    "function": {
        "name": "expand",
        "description": "Bring back the original messages behind a [gist g-...] of the earlier conversation.",
        "parameters": {"type": "object", "properties": {"gist_id": {"type": "string"}}, "required": ["gist_id"]},
    },
}
ARCHIVE_TOOLS = frozenset({"recall", "expand"})
ANSWER_SHARE = 0.5  # an answer may use at most this share of the room left in the input budget
MIN_ANSWER_TOKENS = 256


def has_gists(archive: Sequence[ArchivedMessage]) -> bool:
    """Whether compression has made any gist yet (``expand`` is offered only then)."""
    return any((record.model_extra or {}).get("gist") for record in archive)


def only_archive_calls(response: CompletionResponse) -> bool:
    """True when the model called only ``recall``/``expand`` (the guard answers those itself)."""
    calls = response.message.tool_calls or []
    return bool(calls) and all(c.function.get("name") in ARCHIVE_TOOLS for c in calls)


def answer_budget(session: Session, model: str, messages: list[Any]) -> int | None:
    """Tokens an archive-tool answer may take: :data:`ANSWER_SHARE` of the room left in
    ``model``'s input budget (``None`` when the window is unknown)."""
    limits = session.limits
    budget = limits.input_budget(limits.window(model), limits.reserve(model, None))
    if budget is None:
        return None
    used = session._count(model, messages)
    return max(MIN_ANSWER_TOKENS, int((budget - used) * ANSWER_SHARE))


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


async def answer(session: Session, call: ToolCall, model: str, messages: list[Any]) -> str:
    """The text answering one ``recall``/``expand`` call, within the answer budget."""
    from ..compression.gists import render_expansion
    from ..tokens import counter_for

    raw = call.function.get("arguments") or "{}"
    try:
        args = json.loads(raw)
    except ValueError:
        args = {}
    if call.function.get("name") == "expand":
        gid = str(args.get("gist_id", "") if isinstance(args, dict) else "").strip()
        text = render_expansion(session._archive, gid) if gid else "expand needs a gist_id (g-...)."
        session._emit("memory_read", scope="session", query=f"expand {gid}", hits=int(text.startswith("[expanded")),
                      ids=[gid])
    else:
        text = await session._recall_tool_result(raw)
    return fit(text, answer_budget(session, model, messages), counter_for(model).text)
