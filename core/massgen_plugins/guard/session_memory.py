"""The memory side of a guarded session: the store it persists to, the archive of what
compression removed, recall, long-term memories and their injection before the first turn.

:class:`SessionMemory` is the only part of the guard that talks to a
:class:`~massgen_plugins.memory.store.MemoryStore`; with ``memory=False`` it keeps the archive in
RAM and recall searches that.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ..compression.conversation import readable_text
from ..errors import InputError
from ..redact import redact
from ..types import ArchivedMessage, Message

if TYPE_CHECKING:
    from ..memory.store import MemoryStore
    from .config import AgentConfig

Emit = Callable[..., None]


def open_store(memory: Any) -> tuple[MemoryStore | None, bool]:
    """The store ``memory`` names and whether it was opened here (so is closed here)."""
    if memory is False:
        return None, False
    if memory is None or memory is True or isinstance(memory, str):
        from ..memory import open_store as _open

        return _open(memory if isinstance(memory, str) else None), True
    return memory, False


def store_url(store: Any) -> str | None:
    """The store's URL with any credentials masked (for the run log)."""
    url = getattr(store, "url", None)
    return redact(str(url)) if url else None


class SessionMemory:
    """Persistence, archive and recall for one session."""

    def __init__(self, store: MemoryStore | None, *, owned: bool, session_id: str, agent: str,
                 team: str | None, config: AgentConfig, emit: Emit) -> None:
        self.store = store
        self.owned = owned
        self.session_id = session_id
        self.agent = agent
        self.team = team
        self.config = config
        self.archive: list[ArchivedMessage] = []
        self._emit = emit

    @property
    def url(self) -> str | None:
        return store_url(self.store)

    # ------------------------------------------------------------------ reading
    def load(self) -> Any:
        """The persisted state of this session (``None`` when there is none)."""
        if self.store is None:
            raise InputError("Session.resume needs a memory store (memory=False has nothing to resume)")
        state = self.store.load_session(self.session_id)
        if state is not None:
            self.archive = [hit.entry for hit in self.store.list_archive(self.session_id)]
        return state

    async def recall(self, query: str, *, limit: int = 5) -> list[dict[str, Any]]:
        """Archive hits of this session plus long-term memories of its user, agent and team scopes."""
        from ..memory.records import Scope

        started = time.perf_counter()
        found: list[dict[str, Any]] = []
        if self.store is not None:
            for hit in self.store.recall(self.session_id, query, limit=limit):
                found.append({"source": "archive", "id": hit.entry.id, "turn": hit.turn, "score": hit.score,
                              "text": readable_text(hit.entry.message), "replaced_by": hit.entry.replaced_by})
            scopes = [Scope(user=self.config.user)] if self.config.user else []
            scopes += [Scope(agent=self.agent)] + ([Scope(team=self.team)] if self.team else [])
            for scope in scopes:
                for mem in self.store.search(query, scope=scope, limit=limit).hits:
                    found.append({"source": "memory", "id": mem.record.id, "score": mem.score,
                                  "text": mem.record.text})
        else:
            needle = query.lower()
            found = [{"source": "archive", "id": e.id, "score": 1.0, "text": readable_text(e.message),
                      "replaced_by": e.replaced_by}
                     for e in self.archive if needle in readable_text(e.message).lower()]
        found.sort(key=lambda item: item["score"], reverse=True)
        found = found[: limit * 2]
        self._emit("memory_read", scope="session", query=redact(query), hits=len(found),
                   ids=[str(f["id"]) for f in found], store=self.url,
                   duration_ms=(time.perf_counter() - started) * 1000)
        return found

    async def memories_for(self, added: Sequence[Message], budget: int, count: Callable[[str], int]) -> str | None:
        """A system note with the long-term memories relevant to the first user turn, within
        ``budget`` tokens (``count`` measures one memory), or ``None``."""
        if not budget or self.store is None:
            return None
        query = " ".join(m.text() for m in added if m.role == "user")[:500]
        if not query.strip():
            return None
        hits = [h for h in await self.recall(query, limit=10) if h["source"] == "memory"]
        lines, used = [], 0
        for hit in hits:
            cost = count(hit["text"])
            if used + cost > budget:
                break
            lines.append(f"- {hit['text']}")
            used += cost
        return "Relevant long-term memories:\n" + "\n".join(lines) if lines else None

    # ------------------------------------------------------------------ writing
    async def remember(self, text: str, *, scope: str = "agent", kind: Literal["fact", "note"] = "fact") -> str:
        """Store a long-term memory in the session's ``user``/``agent``/``team`` scope."""
        from ..memory.records import Scope

        if self.store is None:
            raise InputError("this session has no memory store (memory=False)")
        user = self.config.user
        scopes = {"user": Scope(user=user), "agent": Scope(agent=self.agent, user=user), "team": Scope(team=self.team)}
        if scope not in scopes or (scope == "team" and not self.team) or (scope == "user" and not user):
            raise InputError(f"cannot remember in scope {scope!r} for this session (user={user}, team={self.team}); "
                             "scope is 'agent', 'user' (with a user) or 'team' (with a team)")
        if kind not in ("fact", "note"):
            raise InputError(f"kind must be 'fact' or 'note', not {kind!r}")
        record, created = await asyncio.to_thread(self.store.add, text, scope=scopes[scope], kind=kind)
        self._emit("memory_write", scope=scope, kind=kind, ids=[record.id], count=int(created), store=self.url)
        return str(record.id)

    def keep(self, entries: Sequence[ArchivedMessage]) -> None:
        """Add archived messages to the session's archive (persisted with the next turn)."""
        self.archive.extend(entries)

    async def persist_turn(self, *, turn: int, new: list[Message], archived: list[ArchivedMessage],
                           snapshot: list[Message] | None, meta: dict[str, Any]) -> None:
        """Durably store one acknowledged turn (in a worker thread: other agents keep running)."""
        if self.store is None:
            return
        from ..memory.records import Scope

        started = time.perf_counter()
        await asyncio.to_thread(
            self.store.append_turn, self.session_id, new, turn=turn, archived=archived, snapshot=snapshot,
            meta=meta, scope=Scope(user=self.config.user, agent=self.agent, team=self.team),
        )
        self._emit("memory_write", scope="session", kind="turn", count=len(new), store=self.url,
                   ids=[a.id for a in archived], duration_ms=(time.perf_counter() - started) * 1000)

    def close(self) -> None:
        """Close the store if this session opened it."""
        if self.store is not None and self.owned:
            self.store.close()
            self.owned = False
