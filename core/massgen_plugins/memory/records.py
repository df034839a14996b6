"""The records a memory store keeps, as pydantic models, plus the backend-neutral helpers every
backend shares: scope keys and tokens, text normalisation, checksums, limits and query terms.

Nothing here touches a database; :mod:`massgen_plugins.memory.sqlite` and the PostgreSQL plugin
both build on these so that a record written by one backend has the same id, dedup key and
checksum as the same record written by the other (export from one, import into the other).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import InputError, MassgenError
from ..types import ArchivedMessage, Message

__all__ = [
    "ArchiveHit",
    "CheckReport",
    "ConflictError",
    "CorruptionError",
    "GcReport",
    "ImportReport",
    "Limits",
    "MemoryRecord",
    "MemoryVersion",
    "Scope",
    "ScopeLevel",
    "ScopeLimit",
    "SearchHit",
    "SearchResults",
    "SessionState",
    "SessionSummary",
    "StoreStats",
    "TurnReceipt",
    "TurnRecord",
]

ScopeLevel = Literal["session", "agent", "team", "user", "global"]
LEVELS: tuple[str, ...] = ("session", "agent", "team", "user", "global")
Kind = Literal["fact", "note"]

MAX_ID_CHARS = 200


class CorruptionError(MassgenError):
    """The store's file or a record in it is damaged (failed checksum or integrity check).

    The message names the store and what to do (``massgen-plugins memory check`` /
    ``restore``). Nothing is deleted or repaired automatically.
    """


class ConflictError(MassgenError):
    """A write raced another writer of the same session (the turn number was already taken by
    different content, or a turn was skipped)."""


class SchemaTooNewError(MassgenError):
    """The store was written by a newer massgen-plugins whose schema this version cannot read."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


# --------------------------------------------------------------------------- scopes

_BAD_ID = re.compile(r"[\x00-\x1f\x7f]")


def _check_id(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{what} must be a string, got {type(value).__name__}")
    value = value.strip()
    if not value:
        return None
    if len(value) > MAX_ID_CHARS or _BAD_ID.search(value):
        raise InputError(f"{what} {value[:40]!r} is not a valid id (at most {MAX_ID_CHARS} printable characters)")
    return value


class Scope(BaseModel):
    """Who a memory belongs to. Any combination of the four ids may be set.

    * ``user`` -- the human the agents work for (outlives every session);
    * ``agent`` -- one agent (its own notes and lessons);
    * ``team`` -- shared by the agents of one run (what the team agreed on);
    * ``session`` -- one conversation (mem0's ``run_id``).

    Used as a **filter**, every id that is set must match exactly; ids left unset match
    anything. So ``Scope(user="alice")`` finds all of Alice's memories, whatever the agent, and
    never one of Bob's.
    """

    model_config = ConfigDict(frozen=True)

    user: str | None = None
    agent: str | None = None
    session: str | None = None
    team: str | None = None

    def __init__(self, **data: Any) -> None:
        from pydantic import ValidationError

        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise InputError("; ".join(str(e.get("msg", e)).removeprefix("Value error, ")
                                       for e in exc.errors())) from None

    @field_validator("user", "agent", "session", "team", mode="before")
    @classmethod
    def _valid(cls, value: Any, info: Any) -> str | None:
        return _check_id(value, info.field_name)

    @property
    def level(self) -> ScopeLevel:
        """The most specific id that is set: session > agent > team > user > global. Limits and
        TTLs are configured per level."""
        for level in ("session", "agent", "team", "user"):
            if getattr(self, level):
                return level  # type: ignore[return-value]
        return "global"

    def key(self) -> str:
        """The exact scope as one string (part of the dedup key)."""
        cached = self.__dict__.get("_key")
        if cached is None:
            cached = json.dumps([self.user, self.agent, self.session, self.team], separators=(",", ":"))
            self.__dict__["_key"] = cached
        return cached

    def tokens(self) -> str:
        """Full-text tokens standing for each set id (hashed, so any id is one safe token)."""
        cached = self.__dict__.get("_tokens")
        if cached is None:
            cached = " ".join(scope_token(level, getattr(self, level))
                              for level in ("user", "agent", "session", "team") if getattr(self, level))
            self.__dict__["_tokens"] = cached
        return cached

    def is_empty(self) -> bool:
        return self.level == "global"

    def as_mem0(self) -> dict[str, str]:
        """The mem0-style fields (``run_id`` is the session)."""
        out = {"user_id": self.user, "agent_id": self.agent, "run_id": self.session, "team_id": self.team}
        return {k: v for k, v in out.items() if v}


def scope_token(level: str, value: str) -> str:
    """The full-text token of one scope id: ``z`` + level letter + 20 hex digits of its hash."""
    return "z" + level[0] + hashlib.sha256(value.encode()).hexdigest()[:20]


# --------------------------------------------------------------------------- text, hashing

_WS = re.compile(r"\s+")
_TERM = re.compile(r"\w+", re.UNICODE)


def normalize_text(text: str) -> str:
    """What "identical fact" means for deduplication: NFKC, case-folded, whitespace collapsed."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def text_hash(text: str) -> str:
    return hashlib.sha256(normalize_text(text).encode()).hexdigest()


def fold_words(text: str) -> list[str]:
    """The words of ``text`` as the full-text index sees them: case-folded, accents removed (as
    SQLite's ``unicode61 remove_diacritics 2`` tokenizer does)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _TERM.findall(folded)


def query_terms(query: str, limit: int = 16) -> list[str]:
    """The distinct search terms of ``query`` (see :func:`fold_words`), at most ``limit``."""
    seen: list[str] = []
    for term in fold_words(query):
        if term not in seen:
            seen.append(term)
        if len(seen) >= limit:
            break
    return seen


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """Stable JSON text (sorted keys, no spaces) -- what is stored and checksummed."""
    if value == {}:
        return "{}"
    return _ENCODER.encode(value)


def checksum(*fields: Any) -> str:
    """sha256 over the canonical JSON of ``fields`` (32 hex digits are stored)."""
    return hashlib.sha256(canonical_json(list(fields)).encode()).hexdigest()[:32]


def memory_checksum(row: dict[str, Any]) -> str:
    """The checksum of a memory row (every column that carries meaning)."""
    return checksum(row["id"], row["kind"], row["text"], row["user_id"], row["agent_id"], row["session_id"],
                    row["team_id"], row["metadata"], row["created_at"], row["updated_at"], row["expires_at"],
                    row["version"])


def new_id(at: float | None = None) -> str:
    """A new memory id: 32 hex digits, time-ordered (microseconds, then 72 random bits), so the
    id index grows at its end instead of at random places."""
    return f"{int((at if at is not None else time.time()) * 1e6):014x}{os.urandom(9).hex()}"


def now() -> float:
    return time.time()


def to_datetime(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=timezone.utc)


def parse_time(value: Any) -> float | None:
    """Accept epoch seconds or an ISO-8601 string (mem0 exports use ISO strings)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InputError(f"not a timestamp: {value!r} (use ISO-8601 or epoch seconds)") from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()
    raise InputError(f"not a timestamp: {value!r}")


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: str | float | int | None) -> float | None:
    """``"90"``, ``"45m"``, ``"12h"``, ``"7d"``, ``"2w"`` -> seconds; ``None``/``"none"`` -> None."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        if value <= 0:
            raise InputError(f"a duration must be positive, got {value}")
        return float(value)
    if value.strip().lower() in {"", "none", "never", "0"}:
        return None
    match = _DURATION.match(value.lower())
    if not match:
        raise InputError(f"not a duration: {value!r} (examples: 3600, 45m, 12h, 7d, 2w)")
    return float(match.group(1)) * _UNITS[match.group(2)]


# --------------------------------------------------------------------------- limits


class ScopeLimit(_Model):
    """Limits for the memories of one scope level."""

    max_records: int | None = Field(default=None, ge=1, description="Per distinct scope; oldest evicted.")
    ttl: float | None = Field(default=None, gt=0, description="Seconds a new memory lives unless given its own.")


_NO_LIMIT = ScopeLimit()


class Limits(_Model):
    """Size limits and TTLs per scope level, plus the largest text a memory may hold.

    ``max_records`` is enforced on every write (the least recently updated memories of that exact
    scope are evicted) and again by :meth:`MemoryStore.gc`; ``ttl`` sets ``expires_at`` on new
    memories. Expired memories are invisible at once and deleted by ``gc``. ``session_ttl`` lets
    ``gc`` delete short-term sessions not written for that long.
    """

    levels: dict[str, ScopeLimit] = Field(default_factory=dict)
    max_text_chars: int = 32_000
    session_ttl: float | None = None

    def for_level(self, level: str) -> ScopeLimit:
        return self.levels.get(level) or _NO_LIMIT

    @classmethod
    def from_query(cls, params: dict[str, str]) -> Limits:
        """Build limits from URL query parameters: ``ttl_<level>=7d``, ``max_<level>=N``,
        ``max_text_chars=N``, ``session_ttl=30d``. Unknown ``ttl_``/``max_`` levels are errors."""
        levels: dict[str, dict[str, Any]] = {}
        out: dict[str, Any] = {}
        for name, value in params.items():
            if name.startswith("ttl_") or (name.startswith("max_") and name != "max_text_chars"):
                kind, level = name.split("_", 1)
                if level not in LEVELS:
                    raise InputError(f"unknown scope level {level!r} in {name}= (use one of {', '.join(LEVELS)})")
                if kind == "ttl":
                    levels.setdefault(level, {})["ttl"] = parse_duration(value)
                else:
                    levels.setdefault(level, {})["max_records"] = _positive_int(name, value)
            elif name == "max_text_chars":
                out["max_text_chars"] = _positive_int(name, value)
            elif name == "session_ttl":
                out["session_ttl"] = parse_duration(value)
        return cls(levels={k: ScopeLimit(**v) for k, v in levels.items()}, **out)


def _positive_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise InputError(f"{name} must be a whole number, got {value!r}") from None
    if number < 1:
        raise InputError(f"{name} must be at least 1, got {number}")
    return number


# --------------------------------------------------------------------------- long-term records


class MemoryVersion(_Model):
    """A previous version of a memory, kept when it was updated."""

    version: int
    text: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    updated_at: datetime


class MemoryRecord(_Model):
    """One long-term memory: a fact or a note, in a scope.

    ``checksum`` is verified every time the record is read; ``history`` (filled by ``get(...,
    history=True)``) lists earlier versions, oldest first.
    """

    id: str
    kind: Kind = "fact"
    text: str
    scope: Scope = Field(default_factory=Scope)
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = None
    version: int = 1
    checksum: str = ""
    history: list[MemoryVersion] = Field(default_factory=list)

    def to_mem0(self) -> dict[str, Any]:
        """One JSONL export line, readable by mem0-style tools (``text`` + ``memory``, scope ids,
        ``run_id`` for the session)."""
        line: dict[str, Any] = {"id": self.id, "text": self.text, "memory": self.text, **self.scope.as_mem0()}
        line.update(kind=self.kind, metadata=self.metadata, hash=text_hash(self.text),
                    created_at=self.created_at.isoformat(), updated_at=self.updated_at.isoformat())
        if self.expires_at is not None:
            line["expires_at"] = self.expires_at.isoformat()
        return line


class SearchHit(_Model):
    """One search result: the record, its final score and the parts of it."""

    record: MemoryRecord
    score: float = Field(description="Final score, higher is better (relevance blended with recency).")
    relevance: float = Field(default=0.0, description="Full-text relevance (BM25 / ts_rank), 0 on the recency path.")
    recency: float = Field(default=0.0, description="0..1, halves every `half_life` days.")


class SearchResults(_Model):
    """The hits of one search and how they were found.

    ``plan`` is ``"ranked"`` (full BM25 over every candidate), ``"guarded"`` (some query terms were
    too common to rank cheaply: they were matched newest-first instead, see ``common_terms``),
    ``"recency"`` (every term was common) or ``"empty"`` (no usable term).
    """

    query: str
    hits: list[SearchHit] = Field(default_factory=list)
    plan: Literal["ranked", "guarded", "recency", "empty"] = "ranked"
    reranked: bool = Field(default=False, description="Re-ranked by embedding similarity (an embed hook).")
    common_terms: list[str] = Field(default_factory=list)
    candidates: int = 0

    def __len__(self) -> int:
        return len(self.hits)

    def __iter__(self) -> Iterator[SearchHit]:  # type: ignore[override]
        return iter(self.hits)

    def __getitem__(self, index: int) -> SearchHit:
        return self.hits[index]

    def records(self) -> list[MemoryRecord]:
        return [hit.record for hit in self.hits]

    def texts(self) -> list[str]:
        return [hit.record.text for hit in self.hits]


# --------------------------------------------------------------------------- short-term records


class TurnReceipt(_Model):
    """Proof that a turn is durable: returned only after the transaction committed."""

    session_id: str
    turn: int
    archived: int = Field(default=0, description="Archive entries newly stored with this turn.")
    created: bool = Field(default=True, description="False when this exact turn was already stored (a replay).")


class TurnRecord(_Model):
    """One acknowledged turn as stored."""

    session_id: str
    turn: int
    messages: list[Message]
    snapshot: list[Message] | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime


class SessionState(_Model):
    """Everything needed to resume a session exactly at its last acknowledged turn.

    ``messages`` is the live conversation (the last snapshot written with a turn, followed by the
    messages of every later turn); ``turn`` is the last acknowledged turn number (0 = none);
    ``meta`` is the ``meta`` of the last turn that carried one (put the Session's own state there:
    model, token counts, compression counters, ...).
    """

    session_id: str
    scope: Scope = Field(default_factory=Scope)
    turn: int = 0
    messages: list[Message] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)
    archived: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None


class SessionSummary(_Model):
    session_id: str
    scope: Scope = Field(default_factory=Scope)
    turns: int = 0
    archived: int = 0
    created_at: datetime
    updated_at: datetime


class ArchiveHit(_Model):
    """An archived message found by :meth:`MemoryStore.recall`."""

    session_id: str
    turn: int
    entry: ArchivedMessage
    score: float


# --------------------------------------------------------------------------- reports


class StoreStats(_Model):
    backend: str
    url: str
    schema_version: int
    memories: int = 0
    expired: int = 0
    by_kind: dict[str, int] = Field(default_factory=dict)
    by_level: dict[str, int] = Field(default_factory=dict)
    history: int = 0
    sessions: int = 0
    turns: int = 0
    archived: int = 0
    size_bytes: int | None = None


class GcReport(_Model):
    expired: int = 0
    over_limit: int = 0
    sessions: int = 0
    history: int = 0
    dry_run: bool = False


class CheckReport(_Model):
    """Result of :meth:`MemoryStore.check`: ``ok`` is false when anything is damaged."""

    ok: bool
    problems: list[str] = Field(default_factory=list)
    checked: dict[str, int] = Field(default_factory=dict)


class ImportReport(_Model):
    read: int = 0
    added: int = 0
    duplicates: int = 0
    errors: list[str] = Field(default_factory=list)


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
    return "\n".join(p for p in parts if p)


def turn_checksum(session_id: str, turn: int, messages: str, snapshot: str | None, meta: str | None,
                  created_at: float) -> str:
    return checksum(session_id, turn, messages, snapshot, meta, created_at)


def archive_checksum(session_id: str, turn: int, entry_id: str, message: str, replaced_by: str | None,
                     stage: str, created_at: float) -> str:
    return checksum(session_id, turn, entry_id, message, replaced_by, stage, created_at)


def prepare_memory(item: dict[str, Any], at: float, limits: Limits) -> dict[str, Any]:
    """Validate one memory to insert and compute its columns (shared by every backend): the
    stored fields, ``checksum``, ``scope_key``, ``scope_tokens``, ``text_hash`` and ``_scope``."""
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InputError("a memory needs non-empty 'text'")
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
    if turn is not None and (not isinstance(turn, int) or turn < 1):
        raise InputError(f"turn must be a positive integer, got {turn!r}")
    return PreparedTurn(messages_json, snapshot_json, entries, meta_json)
