"""The records a memory store keeps, as pydantic models: scopes, limits, long-term memories,
search results, short-term turns and sessions, and the reports of the hygiene commands.

Nothing here touches a database. How text becomes stored bytes (checksums, canonical JSON, ids)
is in :mod:`massgen_plugins.memory.codec`; the SQL every relational backend shares is in
:mod:`massgen_plugins.memory.relational`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import InputError, MassgenError
from ..types import ArchivedMessage, Message
from .codec import parse_duration, parse_time, scope_token, text_hash

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
    "parse_duration",
    "parse_time",
]

ScopeLevel = Literal["session", "agent", "team", "user", "global"]
LEVELS: tuple[str, ...] = ("session", "agent", "team", "user", "global")
Kind = Literal["fact", "note"]

MAX_ID_CHARS = 200


class CorruptionError(MassgenError):
    """The store's file or a record in it is damaged (failed checksum or integrity check).

    The message names the store and what to do (``massgen-plugins memory check`` /
    ``restore``). Nothing is deleted or repaired automatically. ``restore``, when the backend
    can, replaces the damaged store with a backup without opening it (``restore(source)``
    returns where the damaged files were kept); :func:`massgen_plugins.memory.restore_store`
    uses it.
    """

    def __init__(self, message: str, *, restore: Callable[[str], str | None] | None = None) -> None:
        super().__init__(message)
        self.restore = restore


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

    @property
    def errors_only(self) -> bool:
        """Every line read was malformed: nothing could be imported."""
        return self.read > 0 and len(self.errors) == self.read
