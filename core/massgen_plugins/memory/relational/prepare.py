"""Validation and serialisation shared by every relational backend, done once before a
transaction opens: a memory to insert, a turn to append."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import InputError
from ...types import ArchivedMessage, Message
from ..codec import canonical_json, memory_checksum, new_id, storable_text, text_hash
from ..records import Limits, Scope

#: the largest turn number (PostgreSQL's INTEGER; the same bound on every backend)
MAX_TURN = 2**31 - 1


def coerce_messages(messages: Any, what: str = "messages") -> list[Message]:
    """Validate a list of messages (dicts or :class:`Message`) into ``Message`` objects."""
    if messages is None:
        return []
    if not isinstance(messages, (list, tuple)):
        raise InputError(f"{what} must be a list of messages, got {type(messages).__name__}")
    out = []
    for i, m in enumerate(messages):
        try:
            out.append(m if isinstance(m, Message) else Message.model_validate(m))
        except Exception as exc:  # pydantic ValidationError
            raise InputError(f"{what}[{i}] is not a valid message: {exc}") from None
    return out


def coerce_archived(entries: Any) -> list[ArchivedMessage]:
    if not entries:
        return []
    out = []
    for i, e in enumerate(entries):
        try:
            out.append(e if isinstance(e, ArchivedMessage) else ArchivedMessage.model_validate(e))
        except Exception as exc:
            raise InputError(f"archived[{i}] is not a valid archive entry: {exc}") from None
    return out


def message_json(messages: list[Message]) -> str:
    return canonical_json([m.model_dump(mode="json", exclude_none=True) for m in messages])


def archive_text(message: Message) -> str:
    """The searchable text of an archived message: its text plus tool names and arguments."""
    parts = [message.text()]
    for call in message.tool_calls or []:
        parts.append(str(call.function.get("name", "")))
        parts.append(str(call.function.get("arguments", "")))
    return storable_text("\n".join(p for p in parts if p))


def archive_extra(entry: ArchivedMessage) -> str | None:
    """The entry's fields beyond id, message, replaced_by and stage (a compression stage's
    ``position``, ``kept``, ``tokens``, ...) as canonical JSON, ``None`` when it has none."""
    extra = entry.model_extra
    return canonical_json(extra) if extra else None


def prepare_memory(item: dict[str, Any], at: float, limits: Limits) -> dict[str, Any]:
    """Validate one memory to insert and compute its columns (shared by every backend): the
    stored fields, ``checksum``, ``scope_key``, ``scope_tokens``, ``text_hash`` and ``_scope``."""
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InputError("a memory needs non-empty 'text'")
    text = storable_text(text)
    if len(text) > limits.max_text_chars:
        raise InputError(f"memory text has {len(text)} characters; the limit is "
                         f"{limits.max_text_chars} (max_text_chars)")
    scope = item.get("scope") or Scope()
    if isinstance(scope, dict):
        scope = Scope(**scope)
    kind = item.get("kind") or "fact"
    if kind not in ("fact", "note"):
        raise InputError(f"kind must be 'fact' or 'note', got {kind!r}")
    metadata = item.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise InputError("metadata must be a JSON object")
    try:
        meta_json = canonical_json(metadata)
    except (TypeError, ValueError) as exc:
        raise InputError(f"metadata is not JSON-serialisable: {exc}") from None
    created = float(item.get("created_at") or at)
    updated = float(item.get("updated_at") or created)
    expires = item.get("expires_at")
    if expires is None:
        ttl = item.get("ttl")
        if ttl is None:
            ttl = limits.for_level(scope.level).ttl
        if ttl is not None:
            if ttl <= 0:
                raise InputError(f"ttl must be positive, got {ttl}")
            expires = at + float(ttl)
    row = {"id": str(item.get("id") or new_id(at)), "kind": kind, "text": text,
           "user_id": scope.user, "agent_id": scope.agent, "session_id": scope.session,
           "team_id": scope.team, "metadata": meta_json, "created_at": created, "updated_at": updated,
           "expires_at": None if expires is None else float(expires), "version": 1}
    row["checksum"] = memory_checksum(row)
    row["scope_key"] = scope.key()
    row["scope_tokens"] = scope.tokens()
    row["text_hash"] = text_hash(text)
    row["_scope"] = scope
    return row


def turn_range(start: int, end: int | None) -> tuple[int, int]:
    """``start..end`` of :meth:`MemoryStore.list_turns` validated, ``end=None`` meaning the last."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise InputError(f"{name} must be a non-negative integer, got {value!r}")
    return start, MAX_TURN if end is None else min(end, MAX_TURN)


def check_session_id(session_id: str) -> str:
    """``session_id`` if usable as a session key, else a clear :class:`InputError`."""
    if not isinstance(session_id, str) or not session_id.strip() or len(session_id) > 200:
        raise InputError("session_id must be a non-empty string of at most 200 characters")
    return session_id


@dataclass(frozen=True)
class PreparedTurn:
    """A turn validated and serialised once, before any backend opens a transaction."""

    messages_json: str
    snapshot_json: str | None
    archived: list[ArchivedMessage]
    meta_json: str | None


def prepare_turn(session_id: str, messages: Any, *, turn: int | None, archived: Any, snapshot: Any,
                 meta: dict[str, Any] | None) -> PreparedTurn:
    """Validate and serialise :meth:`MemoryStore.append_turn`'s arguments (shared by every backend)."""
    check_session_id(session_id)
    messages_json = message_json(coerce_messages(list(messages)))
    snapshot_json = None if snapshot is None else message_json(coerce_messages(list(snapshot), "snapshot"))
    entries = coerce_archived(archived)
    try:
        meta_json = None if meta is None else canonical_json(meta)
    except (TypeError, ValueError) as exc:
        raise InputError(f"meta is not JSON-serialisable: {exc}") from None
    if turn is not None and (not isinstance(turn, int) or isinstance(turn, bool) or not 1 <= turn <= MAX_TURN):
        raise InputError(f"turn must be an integer from 1 to {MAX_TURN}, got {turn!r}")
    return PreparedTurn(messages_json, snapshot_json, entries, meta_json)
