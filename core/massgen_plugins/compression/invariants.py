"""The invariants every compressed conversation must satisfy, checked on every output.

* :func:`validate_conversation` -- a conversation the target provider accepts: every tool call
  answered by exactly one result right after it, no result without its call, the first
  non-system turn from the user, Anthropic's "final assistant content may not end in
  whitespace" and "no empty text", provider-specific parts (an OpenAI compaction item) only for
  that provider, and optionally within a token budget.
* :func:`check_preserved` -- the system prompt (leading system/developer messages) and the
  latest user message are byte-for-byte those of the original.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..types import Message
from .conversation import HEAD_ROLES, as_messages, canonical, head_end, latest_user_index
from .errors import InvalidConversationError, InvariantViolation

# providers whose APIs reject empty text content and a trailing-whitespace final assistant turn
_STRICT_TEXT = ("anthropic",)
_NATIVE_PARTS = {"compaction": ("openai",)}


def _provider(model_or_provider: str | None) -> str:
    text = (model_or_provider or "").strip().lower()
    return text.split("/", 1)[0]


def validate_conversation(
    messages: Sequence[Message | dict[str, Any]],
    provider: str | None = None,
    *,
    budget: int | None = None,
    tokens: int | None = None,
) -> None:
    """Raise :class:`InvalidConversationError` naming the first rule ``messages`` breaks.

    :param provider: ``"anthropic"`` or a model string ``"anthropic/claude-haiku-4-5"``; ``None``
        checks only the rules every provider shares.
    :param budget: with ``tokens`` (the count, margin included): fail when over budget.
    """
    msgs = as_messages(messages)
    prov = _provider(provider)
    if not msgs:
        raise InvalidConversationError("the conversation is empty")
    start = head_end(msgs)
    if start == len(msgs):
        raise InvalidConversationError("there is no user message (only system/developer messages)")
    if msgs[start].role != "user":
        raise InvalidConversationError(
            f"the first non-system message must come from the user, not {msgs[start].role!r}", index=start)

    pending: dict[str, int] = {}  # unanswered call id -> index of the assistant message
    for i, m in enumerate(msgs):
        if m.role == "tool":
            cid = m.tool_call_id
            if not cid:
                raise InvalidConversationError("a tool message without tool_call_id", index=i)
            if cid not in pending:
                raise InvalidConversationError(
                    f"tool result {cid!r} does not follow an assistant tool call with that id "
                    "(a result without its call)", index=i)
            del pending[cid]
            continue
        if pending:
            ids = ", ".join(sorted(pending))
            raise InvalidConversationError(
                f"tool call(s) {ids} of message {min(pending.values())} have no result before this "
                f"{m.role} message (a call without its result)", index=i)
        if m.role == "assistant" and m.tool_calls:
            for call in m.tool_calls:
                if call.id in pending:
                    raise InvalidConversationError(f"duplicate tool call id {call.id!r}", index=i)
                pending[call.id] = i
        _check_parts(m, i, prov)
        if prov in _STRICT_TEXT and m.role in ("user", "assistant") and i < len(msgs) - 1:
            if not m.tool_calls and _is_empty(m):
                raise InvalidConversationError(f"{m.role} message has empty content ({prov} rejects it)", index=i)
    if pending:
        ids = ", ".join(sorted(pending))
        raise InvalidConversationError(
            f"tool call(s) {ids} have no result (a call without its result)", index=min(pending.values()))
    last = msgs[-1]
    if prov in _STRICT_TEXT and last.role == "assistant":
        text = last.content if isinstance(last.content, str) else (
            str(last.content[-1].get("text", "")) if last.content and isinstance(last.content[-1], dict) else "")
        if text and text != text.rstrip():
            raise InvalidConversationError(
                "the final assistant content ends with whitespace (Anthropic rejects it)", index=len(msgs) - 1)
    if budget is not None and tokens is not None and tokens > budget:
        raise InvalidConversationError(f"{tokens} tokens exceed the budget of {budget} by {tokens - budget}")


def _is_empty(m: Message) -> bool:
    if m.content is None:
        return True
    if isinstance(m.content, str):
        return not m.content.strip()
    return not m.content


def _check_parts(m: Message, i: int, provider: str) -> None:
    if not isinstance(m.content, list):
        return
    for part in m.content:
        kind = part.get("type") if isinstance(part, dict) else None
        allowed = _NATIVE_PARTS.get(kind or "")
        if allowed and provider and provider not in allowed:
            raise InvalidConversationError(
                f"a {kind!r} part is only understood by {', '.join(allowed)}, not {provider!r}; "
                "regenerate a portable summary before switching providers", index=i)


def check_preserved(original: Sequence[Message], result: Sequence[Message]) -> None:
    """Raise :class:`InvariantViolation` when ``result`` changed the system prompt or the latest
    user message of ``original``."""
    h0 = head_end(original)
    h1 = head_end(result)
    if h0 != h1 or any(canonical(a) != canonical(b) for a, b in zip(original[:h0], result[:h1], strict=True)):
        raise InvariantViolation("the system prompt (leading system/developer messages) was changed")
    u0 = latest_user_index(original)
    if u0 is None:
        return
    u1 = latest_user_index(result)
    if u1 is None or canonical(original[u0]) != canonical(result[u1]):
        raise InvariantViolation("the latest user message was not kept verbatim as the last user message")


__all__ = ["HEAD_ROLES", "check_preserved", "validate_conversation"]
