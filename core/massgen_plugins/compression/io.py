"""Reading and writing conversation files for ``tokens`` and ``compress``.

A conversation file is JSON: either a list of messages or ``{"messages": [...]}``, optionally
with ``"tools": [...]``, in the OpenAI Chat Completions message format. Anything else is an
:class:`~massgen_plugins.errors.InputError` that says what is wrong and where.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..types import Message


@dataclass
class ConversationFile:
    messages: list[Message]
    tools: list[dict[str, Any]] = field(default_factory=list)
    shape: str = "list"  # "list" or "object": written back in the same shape
    extra: dict[str, Any] = field(default_factory=dict)  # other top-level keys, kept on write

    def dump(self, messages: list[Message] | None = None) -> Any:
        """JSON data in the file's own shape, with ``messages`` (default: its own)."""
        from .conversation import dump_messages

        data = dump_messages(self.messages if messages is None else messages)
        if self.shape == "list":
            return data
        out = dict(self.extra)
        out["messages"] = data
        if self.tools or "tools" in self.extra:
            out["tools"] = self.tools
        return out


def _first_error(exc: Any) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    return f"{loc}: {err.get('msg')}" if loc else str(err.get("msg"))


def parse_conversation(data: Any, *, source: str = "conversation") -> ConversationFile:
    """Validate already-parsed JSON ``data`` into a :class:`ConversationFile`."""
    from pydantic import ValidationError

    shape = "list"
    tools: Any = []
    extra: dict[str, Any] = {}
    if isinstance(data, dict):
        if "messages" not in data:
            raise InputError(f"{source}: a JSON object must have a \"messages\" list "
                             f"(found keys: {', '.join(sorted(data)) or 'none'})")
        shape = "object"
        raw = data["messages"]
        tools = data.get("tools") or []
        extra = {k: v for k, v in data.items() if k not in ("messages", "tools")}
    elif isinstance(data, list):
        raw = data
    else:
        raise InputError(f"{source}: expected a list of messages or an object with \"messages\", "
                         f"not a JSON {type(data).__name__}")
    if not isinstance(raw, list):
        raise InputError(f"{source}: \"messages\" must be a list, not a JSON {type(raw).__name__}")
    if not raw:
        raise InputError(f"{source}: the conversation has no messages")
    if not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools):
        raise InputError(f"{source}: \"tools\" must be a list of tool schema objects")
    messages: list[Message] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InputError(f"{source}: message {i} is a JSON {type(item).__name__}, not an object")
        try:
            messages.append(Message.model_validate(item))
        except ValidationError as exc:
            raise InputError(f"{source}: message {i} is not a valid chat message ({_first_error(exc)})") from None
    return ConversationFile(messages=messages, tools=list(tools), shape=shape, extra=extra)


def load_conversation(path: str | os.PathLike[str]) -> ConversationFile:
    """Read and validate a conversation file.

    :raises InputError: unreadable file, invalid JSON (with line and column), wrong shape, or a
        message that is not a valid chat message (with its index).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read it ({exc.__class__.__name__}: {exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    return parse_conversation(data, source=str(p))


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as JSON atomically (see :func:`massgen_plugins.atomicfile.atomic_write_text`)."""
    from ..atomicfile import atomic_write_text

    p = Path(path)
    try:
        atomic_write_text(p, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    except OSError as exc:
        raise InputError(f"cannot write {p}: {exc.strerror or exc}; check that the directory exists and is "
                         "writable") from None
