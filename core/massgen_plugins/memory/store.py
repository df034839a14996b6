"""The memory store interface every backend implements (SQLite built in, PostgreSQL as a plugin).

A store holds two kinds of memory:

**Long-term memory** -- facts and notes that outlive sessions, in a :class:`Scope` (user, agent,
session, team). :meth:`MemoryStore.add` deduplicates identical facts in the same scope,
:meth:`~MemoryStore.update` keeps the previous version in the record's history, and
:meth:`~MemoryStore.search` ranks by full-text relevance (BM25 or ``ts_rank``) blended with
recency, with a guard that keeps queries on very common terms fast.

**Short-term memory** -- a guarded conversation (``massgen_plugins.Session``) persisted turn by
turn. The contract the Session relies on:

1. after a turn is answered, call :meth:`~MemoryStore.append_turn` with the turn's new messages
   (and, if compression rewrote the history during the turn, ``snapshot=`` the full live
   conversation and ``archived=`` the removed messages); it returns a :class:`TurnReceipt` only
   once the turn, its snapshot and its archive entries are committed **in one transaction**.
   Acknowledge the turn to the caller only after that;
2. on start, :meth:`~MemoryStore.load_session` returns the live conversation exactly as of the
   last acknowledged turn (``None`` for a new session) -- a process killed at any moment resumes
   there, never half-way through a turn;
3. :meth:`~MemoryStore.recall` searches the session's compression archive, so nothing compression
   removed is lost.

Pass ``turn=`` (the number you expect to write, ``state.turn + 1``) to make a retried write
idempotent and to detect two processes writing one session (:class:`ConflictError`).

Every method is synchronous and thread-safe; it is fast enough to call from async code directly
(SQLite commits in about a millisecond), or through :func:`asyncio.to_thread`.

Errors: bad arguments raise :class:`~massgen_plugins.errors.InputError`; a damaged store raises
:class:`CorruptionError` (never silently "repaired"); a failed write raises -- it is never a
mere warning.
"""

from __future__ import annotations

import abc
import builtins
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any

from ..errors import InputError
from ..types import ArchivedMessage, Message
from .codec import parse_time
from .ranking import rerank
from .records import (
    ArchiveHit,
    CheckReport,
    ConflictError,
    CorruptionError,
    GcReport,
    ImportReport,
    Kind,
    Limits,
    MemoryRecord,
    MemoryVersion,
    SchemaTooNewError,
    Scope,
    ScopeLimit,
    SearchHit,
    SearchResults,
    SessionState,
    SessionSummary,
    StoreStats,
    TurnReceipt,
    TurnRecord,
)

__all__ = [
    "ArchiveHit",
    "CheckReport",
    "ConflictError",
    "CorruptionError",
    "GcReport",
    "ImportReport",
    "Limits",
    "MemoryInput",
    "MemoryRecord",
    "MemoryStore",
    "MemoryVersion",
    "SchemaTooNewError",
    "Scope",
    "ScopeLimit",
    "SearchHit",
    "SearchResults",
    "SessionState",
    "SessionSummary",
    "StoreStats",
    "TurnReceipt",
    "TurnRecord",
    "mem0_line_to_input",
]

IMPORT_BATCH = 500


class MemoryInput(dict):  # type: ignore[type-arg]
    """One memory to add in bulk: ``{"text", "scope", "kind", "metadata", "ttl", "id",
    "created_at", "updated_at", "expires_at"}`` (only ``text`` is required)."""


def mem0_line_to_input(line: dict[str, Any]) -> MemoryInput:
    """Map one mem0-style JSONL object to a :class:`MemoryInput`.

    Accepted keys: ``text`` (or mem0's ``memory``), ``user_id``, ``agent_id``, ``run_id`` (the
    session), ``team_id``, ``metadata``, and optionally ``id``, ``kind``, ``created_at``,
    ``updated_at``, ``expires_at`` (ISO-8601 or epoch seconds).
    """
    if not isinstance(line, dict):
        raise InputError("each line must be a JSON object")
    text = line.get("text", line.get("memory"))
    if not isinstance(text, str) or not text.strip():
        raise InputError("missing 'text' (or mem0's 'memory') string")
    metadata = line.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise InputError("'metadata' must be an object")
    scope = Scope(user=line.get("user_id"), agent=line.get("agent_id"), session=line.get("run_id"),
                  team=line.get("team_id"))
    kind = line.get("kind", "fact")
    if kind not in ("fact", "note"):
        raise InputError(f"'kind' must be 'fact' or 'note', got {kind!r}")
    out = MemoryInput(text=text, scope=scope, kind=kind, metadata=metadata)
    if line.get("id") is not None:
        out["id"] = str(line["id"])
    for key in ("created_at", "updated_at", "expires_at"):
        if line.get(key) is not None:
            out[key] = parse_time(line[key])
    return out


class MemoryStore(abc.ABC):
    """A durable memory store. Open one with :func:`massgen_plugins.memory.open_store`."""

    #: backend name shown by ``memory stats`` ("sqlite", "postgresql", ...)
    backend: str = "?"
    #: the URL the store was opened with (credentials redacted)
    url: str = ""
    limits: Limits

    # ----------------------------------------------------------------- long-term: write
    @abc.abstractmethod
    def add(self, text: str, *, scope: Scope | None = None, kind: Kind = "fact",
            metadata: dict[str, Any] | None = None, ttl: float | None = None) -> tuple[MemoryRecord, bool]:
        """Store one memory; return ``(record, created)``.

        An identical fact (same normalised text) already in the same exact scope is not stored
        twice: the existing record is returned with ``created=False`` (its expiry is extended if
        it was about to lapse). ``ttl`` (seconds) overrides the level's default TTL. The scope's
        ``max_records`` limit is enforced in the same transaction.
        """

    @abc.abstractmethod
    def add_many(self, items: Iterable[MemoryInput | dict[str, Any]]) -> tuple[int, int]:
        """Store many memories in **one** transaction; return ``(added, duplicates)``.

        Items are :class:`MemoryInput` dicts. An item whose ``id`` or whose (scope, text) is
        already stored is skipped, which makes re-running an import harmless.
        """

    @abc.abstractmethod
    def update(self, memory_id: str, *, text: str | None = None,
               metadata: dict[str, Any] | None = None) -> MemoryRecord:
        """Change a memory's text and/or metadata; the previous version goes to its history.
        Raises :class:`InputError` when no such memory exists."""

    @abc.abstractmethod
    def delete(self, memory_id: str) -> bool:
        """Delete a memory and its history; ``False`` if it did not exist."""

    # ----------------------------------------------------------------- long-term: read
    @abc.abstractmethod
    def get(self, memory_id: str, *, history: bool = False) -> MemoryRecord | None:
        """One memory by id (``None`` if absent or expired); its checksum is verified."""

    @abc.abstractmethod
    def list(self, scope: Scope | None = None, *, kind: Kind | None = None, limit: int = 50,
             offset: int = 0, include_expired: bool = False) -> builtins.list[MemoryRecord]:
        """Memories in ``scope`` (a filter: set ids must match), most recently updated first."""

    #: optional ``texts -> vectors`` function (``open_store`` wires it to the ``embed`` hook when a
    #: plugin implements it); ``None`` = full-text and recency only
    embedder: Callable[[builtins.list[str]], builtins.list[builtins.list[float]] | None] | None = None

    def search(self, query: str, *, scope: Scope | None = None, limit: int = 10,
               kind: Kind | None = None) -> SearchResults:
        """Relevance search: full-text rank blended with recency, restricted to ``scope``.

        Terms so common that ranking them would be slow are matched newest-first instead (the
        common-term guard; ``SearchResults.plan`` says what happened). With an :attr:`embedder`
        (an ``embed`` hook is installed), three times ``limit`` candidates are fetched and
        re-ranked by cosine similarity to the query (``SearchResults.reranked``).
        """
        if not isinstance(query, str):
            raise InputError("query must be a string")
        if limit < 1 or limit > 1000:
            raise InputError("limit must be between 1 and 1000")
        if self.embedder is None:
            return self._search(query, scope=scope, limit=limit, kind=kind)
        results = self._search(query, scope=scope, limit=min(limit * 3, 1000), kind=kind)
        return rerank(results, self.embedder, limit)

    @abc.abstractmethod
    def _search(self, query: str, *, scope: Scope | None, limit: int, kind: Kind | None) -> SearchResults:
        """The backend's full-text search with the common-term guard (arguments validated)."""

    # ----------------------------------------------------------------- short-term
    @abc.abstractmethod
    def append_turn(self, session_id: str, messages: Sequence[Message | dict[str, Any]], *,
                    turn: int | None = None, archived: Sequence[ArchivedMessage | dict[str, Any]] = (),
                    snapshot: Sequence[Message | dict[str, Any]] | None = None,
                    meta: dict[str, Any] | None = None, scope: Scope | None = None) -> TurnReceipt:
        """Persist one acknowledged turn atomically and return its receipt.

        :param session_id: the conversation.
        :param messages: the messages this turn added (user, assistant, tool results).
        :param turn: the turn number being written (``state.turn + 1``); ``None`` = next. Writing
            a turn that is already stored with identical content is a no-op replay
            (``created=False``); different content, or a gap, raises :class:`ConflictError`.
        :param archived: messages compression removed or replaced during this turn (kept for
            :meth:`recall`; an entry id already archived for this session is skipped).
        :param snapshot: the full live conversation after this turn when compression rewrote it;
            resume then starts from this snapshot instead of replaying earlier turns.
        :param meta: the Session's own state to restore with the turn (JSON-serialisable).
        :param scope: user/agent/team of the session (set by the first turn; ``scope.session``
            is ignored).
        """

    @abc.abstractmethod
    def load_session(self, session_id: str) -> SessionState | None:
        """The session as of its last acknowledged turn, or ``None`` if it was never written.
        Every turn read is checksum-verified."""

    @abc.abstractmethod
    def list_turns(self, session_id: str, *, start: int = 1, end: int | None = None) -> builtins.list[TurnRecord]:
        """The stored turns ``start..end`` (inclusive) of a session -- its full transcript."""

    @abc.abstractmethod
    def list_sessions(self, scope: Scope | None = None, *, limit: int = 50) -> builtins.list[SessionSummary]:
        """Sessions whose user/agent/team match ``scope``, most recently written first."""

    @abc.abstractmethod
    def delete_session(self, session_id: str) -> bool:
        """Delete a session's turns and archive."""

    @abc.abstractmethod
    def recall(self, session_id: str, query: str, *, limit: int = 5) -> builtins.list[ArchiveHit]:
        """Full-text search of the messages compression archived for ``session_id``."""

    @abc.abstractmethod
    def list_archive(self, session_id: str) -> builtins.list[ArchiveHit]:
        """Every archived message of a session, in archive order (score 0)."""

    # ----------------------------------------------------------------- hygiene
    @abc.abstractmethod
    def stats(self, scope: Scope | None = None) -> StoreStats:
        """Counts (memories by kind and scope level, sessions, turns, archive) and size."""

    @abc.abstractmethod
    def gc(self, *, dry_run: bool = False) -> GcReport:
        """Delete expired memories, memories over their scope's ``max_records`` (least recently
        updated first) and sessions idle longer than ``limits.session_ttl``."""

    @abc.abstractmethod
    def check(self) -> CheckReport:
        """Verify the whole store: the database's own integrity check, the full-text index, and
        every record's checksum. Never modifies anything."""

    @abc.abstractmethod
    def repair_index(self) -> None:
        """Rebuild the full-text indexes from the stored rows; nothing else changes. (For the
        damage :meth:`check` reports as "full-text index".)"""

    def find_ids(self, prefix: str, *, limit: int = 10) -> builtins.list[str]:
        """Memory ids that start with ``prefix``, at most ``limit`` (empty if the backend cannot
        look ids up by prefix; exact ids always work with :meth:`get`)."""
        return []

    def find_sessions(self, prefix: str, *, limit: int = 10) -> builtins.list[str]:
        """Ids of written sessions that start with ``prefix``, at most ``limit``."""
        return []

    @abc.abstractmethod
    def backup(self, destination: str) -> str:
        """Write a consistent copy of the store to ``destination`` (a new private file, ``0600``)
        while it stays in use; return where it was written. An unwritable destination is an
        :class:`InputError` naming it."""

    @abc.abstractmethod
    def restore(self, source: str) -> str | None:
        """Replace the store's content with the backup at ``source`` (verified first). Whatever
        the store held before is kept aside (returned: where), never deleted. A store too damaged
        to open is restored through :attr:`CorruptionError.restore` instead
        (:func:`massgen_plugins.memory.restore_store` does both)."""

    @abc.abstractmethod
    def iter_records(self, scope: Scope | None = None, *, include_expired: bool = False) -> Iterator[MemoryRecord]:
        """Every memory in ``scope``, oldest first (for export)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections. The store is unusable afterwards."""

    # ----------------------------------------------------------------- shared: JSONL
    def export_jsonl(self, out: IO[str], scope: Scope | None = None, *, include_expired: bool = False) -> int:
        """Write every memory in ``scope`` as mem0-compatible JSON lines; return how many."""
        count = 0
        for record in self.iter_records(scope, include_expired=include_expired):
            out.write(json.dumps(record.to_mem0(), ensure_ascii=False) + "\n")
            count += 1
        return count

    def import_jsonl(self, lines: Iterable[str], *, scope: Scope | None = None,
                     batch: int = IMPORT_BATCH, strict: bool = False) -> ImportReport:
        """Import mem0-style JSON lines (``{"text": ..., "user_id": ...}``).

        Lines are committed in batches of ``batch``, each in one transaction, so an import killed
        midway leaves every finished batch stored and nothing half-written; importing the same
        file again adds nothing (ids and identical facts in a scope are skipped). ``scope`` fills
        ids a line does not set. Malformed lines are reported (``errors``), or raise
        :class:`InputError` with ``strict=True`` before anything is written for that batch.
        """
        report = ImportReport()
        pending: builtins.list[MemoryInput] = []

        def flush() -> None:
            added, dups = self.add_many(pending)
            report.added += added
            report.duplicates += dups
            pending.clear()

        for number, raw in enumerate(lines, start=1):
            raw = raw.strip()
            if not raw:
                continue
            report.read += 1
            try:
                item = mem0_line_to_input(json.loads(raw))
            except (ValueError, InputError) as exc:
                message = f"line {number}: {exc}"
                if strict:
                    raise InputError(message) from None
                report.errors.append(message)
                continue
            if scope is not None:
                own: Scope = item["scope"]
                item["scope"] = Scope(**{k: getattr(own, k) or getattr(scope, k)
                                         for k in ("user", "agent", "session", "team")})
            pending.append(item)
            if len(pending) >= batch:
                flush()
        if pending:
            flush()
        return report

    # ----------------------------------------------------------------- context manager
    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# re-exported for ``from massgen_plugins.memory.store import ...`` convenience
_ = (CorruptionError, ConflictError, SchemaTooNewError, ScopeLimit, SearchHit, MemoryVersion)
