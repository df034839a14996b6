"""The Memory page's data: long-term memories and compression archives searched by scope, and a
session's stored turns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import InputError
from .diff import message_view
from .models import MemoryHit, MemorySearch, SessionView, TurnView

if TYPE_CHECKING:
    from ..memory.store import MemoryStore

__all__ = ["list_sessions", "search_memory", "session_view"]

MAX_ARCHIVE_SESSIONS = 200
"""Archives of at most this many sessions (most recent first) are searched per query."""


def _scope(user: str | None, agent: str | None, session: str | None, team: str | None) -> Any:
    from ..memory.records import Scope

    return Scope(user=user or None, agent=agent or None, session=session or None, team=team or None)


def search_memory(store: MemoryStore, store_key: str, query: str, *, user: str | None = None,
                  agent: str | None = None, session: str | None = None, team: str | None = None,
                  include: tuple[str, ...] = ("memory", "archive"), limit: int = 20) -> MemorySearch:
    """Long-term memories matching ``query`` in the scope, then archived messages of the scope's
    sessions (each found by the session's own recall). An empty query lists the newest memories."""
    if not 1 <= limit <= 200:
        raise InputError("limit must be between 1 and 200")
    unknown = set(include) - {"memory", "archive"}
    if unknown:
        raise InputError(f"include must name 'memory' and/or 'archive', not {', '.join(sorted(unknown))}")
    scope = _scope(user, agent, session, team)
    hits: list[MemoryHit] = []
    plan = None
    if "memory" in include:
        if query.strip():
            found = store.search(query, scope=scope, limit=limit)
            plan = found.plan
            records = [(h.record, h.score) for h in found.hits]
        else:
            records = [(r, 0.0) for r in store.list(scope, limit=limit)]
        hits += [MemoryHit(kind="memory", id=r.id, text=r.text, score=round(score, 4),
                           scope=r.scope.model_dump(), memory_kind=r.kind, updated_at=r.updated_at.isoformat())
                 for r, score in records]
    searched = 0
    if "archive" in include and query.strip():
        sessions = [session] if session else [
            s.session_id for s in store.list_sessions(_scope(user, agent, None, team), limit=MAX_ARCHIVE_SESSIONS)
            if s.archived]
        found_archive: list[Any] = []
        for sid in sessions:
            searched += 1
            found_archive += store.recall(sid, query, limit=limit)
        found_archive.sort(key=lambda h: -h.score)
        for h in found_archive[:limit]:
            view = message_view(h.entry.message, mid=h.entry.id)
            hits.append(MemoryHit(kind="archive", id=h.entry.id, text=view.text, score=round(h.score, 4),
                                  scope={"session": h.session_id}, session_id=h.session_id, turn=h.turn,
                                  stage=h.entry.stage, replaced_by=h.entry.replaced_by))
    return MemorySearch(query=query, store=store_key, hits=hits, sessions_searched=searched, plan=plan)


def list_sessions(store: MemoryStore, *, user: str | None = None, agent: str | None = None,
                  team: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    return [s.model_dump(mode="json") for s in store.list_sessions(_scope(user, agent, None, team), limit=limit)]


def session_view(store: MemoryStore, store_key: str, session_id: str) -> SessionView:
    """Every stored turn of a session (with its snapshot when compression rewrote it) and its archive."""
    state = store.load_session(session_id)
    if state is None:
        raise InputError(f"no session {session_id!r} in this store")
    turns = [TurnView(turn=t.turn, created_at=t.created_at.isoformat(),
                      messages=[message_view(m) for m in t.messages],
                      snapshot=[message_view(m) for m in t.snapshot] if t.snapshot is not None else None)
             for t in store.list_turns(session_id)]
    archive = [message_view(h.entry.message, mid=h.entry.id, stage=h.entry.stage, replaced_by=h.entry.replaced_by)
               for h in store.list_archive(session_id)]
    return SessionView(session_id=session_id, store=store_key, scope=state.scope.model_dump(), turns=turns,
                       archive=archive)
