"""Conversation structure for compression: message ids, turn units, and text rendering.

A **turn unit** is a user message with everything the assistant did in reply -- its text, its
tool calls and their results -- up to the next user message. Compression only ever cuts between
units (or replaces a message's content in place), so a tool call and its result always travel
together. The **head** is the leading run of system/developer messages; it is never touched.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..types import Message

HEAD_ROLES = ("system", "developer")


def as_messages(messages: Iterable[Any]) -> list[Message]:
    """Validate dicts (or :class:`Message` objects) into :class:`Message` objects."""
    return [m if isinstance(m, Message) else Message.model_validate(m) for m in messages]


def dump_messages(messages: Iterable[Message]) -> list[dict[str, Any]]:
    """Messages as plain dicts in the input format (only the fields that were set)."""
    return [m.model_dump(mode="json", exclude_unset=True) for m in messages]


def canonical(message: Message) -> str:
    """A canonical JSON text of a message (for hashing and comparison)."""
    return json.dumps(message.model_dump(mode="json", exclude_unset=True), sort_keys=True, ensure_ascii=False)


def message_id(message: Message) -> str:
    """A stable id derived from the message's content: ``m-`` + 16 hex digits."""
    return "m-" + hashlib.blake2b(canonical(message).encode(), digest_size=8).hexdigest()


def head_end(messages: Sequence[Message]) -> int:
    """Index just past the leading system/developer messages."""
    i = 0
    while i < len(messages) and messages[i].role in HEAD_ROLES:
        i += 1
    return i


def latest_user_index(messages: Sequence[Message]) -> int | None:
    """Index of the last user message, or ``None`` when there is none."""
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].role == "user":
            return i
    return None


@dataclass(frozen=True)
class Unit:
    """Messages ``[start, end)`` forming one turn unit."""

    start: int
    end: int

    def __len__(self) -> int:
        return self.end - self.start


def turn_units(messages: Sequence[Message]) -> list[Unit]:
    """Split the messages after the head into turn units (each starts at a user message; anything
    before the first user message forms a unit of its own)."""
    start = head_end(messages)
    units: list[Unit] = []
    i = start
    for j in range(start + 1, len(messages)):
        if messages[j].role == "user":
            units.append(Unit(i, j))
            i = j
    if i < len(messages):
        units.append(Unit(i, len(messages)))
    return units


def tool_names(messages: Sequence[Message]) -> dict[str, tuple[str, str]]:
    """``tool_call_id -> (function name, arguments JSON)`` for every call in ``messages``."""
    out: dict[str, tuple[str, str]] = {}
    for m in messages:
        for call in m.tool_calls or ():
            fn = call.function or {}
            out[call.id] = (str(fn.get("name", "")), str(fn.get("arguments", "")))
    return out


def part_text(part: Any) -> str:
    """The readable text of one content part ('' for opaque parts, '[image]' for images)."""
    if not isinstance(part, dict):
        return str(part)
    kind = part.get("type")
    if "text" in part and kind in (None, "text", "input_text", "output_text"):
        return str(part.get("text", ""))
    if kind in ("image_url", "input_image", "image"):
        return "[image]"
    if kind == "compaction":
        return "[compacted context (opaque)]"
    return ""


def message_text(message: Message) -> str:
    """All readable text of a message (content parts joined by newlines)."""
    content = message.content
    if isinstance(content, str):
        return content
    if not content:
        return ""
    return "\n".join(t for t in (part_text(p) for p in content) if t)


def readable_text(message: Message) -> str:
    """A message's text followed by its tool calls, one ``called NAME(ARGUMENTS)`` line each: what
    an archived message said *and did* (an assistant turn that only called ``submit`` or ``edit``
    has no text of its own)."""
    lines = [message_text(message)] if message_text(message) else []
    for call in message.tool_calls or ():
        fn = call.function or {}
        lines.append(f"called {fn.get('name', '')}({fn.get('arguments', '')})")
    return "\n".join(lines)


def render(messages: Sequence[Message], *, names: dict[str, tuple[str, str]] | None = None) -> list[str]:
    """Each message rendered as a labelled block for a summarizer (tool calls and results kept)."""
    names = names if names is not None else tool_names(messages)
    blocks = []
    for m in messages:
        if m.role == "tool":
            name = names.get(m.tool_call_id or "", ("tool", ""))[0]
            blocks.append(f"[tool result: {name} ({m.tool_call_id})]\n{message_text(m)}")
            continue
        lines = [f"[{m.role}]"]
        text = message_text(m)
        if text:
            lines.append(text)
        for call in m.tool_calls or ():
            fn = call.function or {}
            lines.append(f"[tool call: {fn.get('name', '')}({fn.get('arguments', '')}) id={call.id}]")
        blocks.append("\n".join(lines))
    return blocks


def replace_text(message: Message, text: str) -> Message:
    """A copy of ``message`` whose readable text is ``text`` (non-text parts dropped from a
    parts list; tool calls and ids kept)."""
    copy = message.model_copy(deep=False)
    copy.content = text
    return copy
