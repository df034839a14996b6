"""Running a gateway request through the guard (:class:`massgen_plugins.Session`).

Stateless requests get a fresh session without persistence, primed with the longest compressed
prefix the gateway already holds for that history (:mod:`.prefix`). Requests with
``X-Session-Id`` continue a persisted session: the gateway keeps a cursor (how many of the
client's messages are already in it, and their digest) in its store, sends only the messages that
follow, and offers the ``recall`` tool over the session's archive. A client that rewrites its
history (edits, its own compaction) starts a new generation of the session under ``ID~N``.

Every session writes into the gateway's one run log; the key of the request is attached to each
event's metrics through a context variable.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from massgen_plugins.errors import InputError
from massgen_plugins.guard import RequestOptions, Session
from massgen_plugins.guard.limits import ModelLimits
from massgen_plugins.runlog import RunLog
from massgen_plugins.types import CompletionResponse, Message, StreamEvent

from .calls import ChatCall
from .metrics import Metrics
from .options import for_target
from .prefix import PrefixCache, chain
from .records import SessionCursor
from .settings import GatewaySettings, Route
from .store import GatewayStore

request_key: contextvars.ContextVar[str] = contextvars.ContextVar("massgen_gateway_key", default="")
#: the streamed request's :class:`Outcome`, to which each ``call_start`` writes its counted input tokens
request_outcome: contextvars.ContextVar[Outcome | None] = contextvars.ContextVar("massgen_gateway_outcome",
                                                                                 default=None)


class GatewayRunLog(RunLog):
    """The process's run log; each event also feeds the metrics of the request's key."""

    metrics: Metrics | None = None

    def event(self, type: str, **fields: Any) -> dict[str, Any]:
        written = super().event(type, **fields)
        if type == "call_start" and (outcome := request_outcome.get()) is not None:
            outcome.input_tokens = int(fields.get("input_tokens") or 0)
            outcome.first_call = outcome.first_call or time.perf_counter()
        if self.metrics is not None:
            self.metrics.observe_event(written, request_key.get())
        return written


class StreamBroken(Exception):
    """A model failed after part of its answer had been streamed to the client."""


@dataclass
class Outcome:
    """What a finished request leaves for accounting."""

    response: CompletionResponse | None = None
    reused_prefix: int = 0
    session_id: str | None = None
    input_tokens: int = 0  # counted for the last call made (what a stream reports before its usage)
    first_call: float = 0.0  # perf_counter() when the guard started its first provider call
    extra: dict[str, Any] = field(default_factory=dict)


class Guard:
    """One per gateway process: the run log, shared model limits, the prefix cache, sessions."""

    def __init__(self, settings: GatewaySettings, log: GatewayRunLog, store: GatewayStore,
                 memory: Any = None) -> None:
        self.settings = settings
        self.log = log
        self.store = store
        self.memory = memory  # a MemoryStore for X-Session-Id conversations (opened on first use)
        self.prefixes = PrefixCache(settings.prefix_cache_entries)
        self._limits: dict[str, ModelLimits] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    # ------------------------------------------------------------------ sessions
    def _shared_limits(self, session: Session, route: Route) -> None:
        """Give ``session`` the process's limits for this route: token counts stay cached across
        requests (a resent history is recounted incrementally) and windows learned from
        provider errors are kept."""
        session.limits = self._limits_for(route)

    def fast_path_ok(self, call: ChatCall, route: Route) -> bool:
        """True when the guard has nothing to do before the call: no compressed prefix of this
        history to reuse, and the counted input fits the model's budget (or the window is unknown,
        in which case an overflow is handled reactively)."""
        if len(self.prefixes) and len(call.messages) > 1 and self.prefixes.longest(chain(call.messages)[:-1]):
            return False
        limits = self._limits_for(route)
        window = limits.window(route.model)
        if window is None:
            return True
        budget = limits.input_budget(window, limits.reserve(route.model, call.max_tokens))
        trigger = float(route.settings.get("trigger_ratio") or 0.9)
        return limits.count(route.model, call.messages, call.tools) <= (budget or 0) * trigger

    def _limits_for(self, route: Route) -> ModelLimits:
        key = repr(sorted((k, str(v)) for k, v in route.settings.items())) + route.model
        limits = self._limits.get(key)
        if limits is None:
            limits = self._limits[key] = ModelLimits(route.agent_config())
        return limits

    def _stateless(self, call: ChatCall, route: Route, agent: str) -> tuple[Session, list[Message], int]:
        session = Session(config=route.agent_config(tools=call.tools), memory=False, run_log=self.log, agent=agent)
        self._shared_limits(session, route)
        digests = chain(call.messages)
        found = self.prefixes.longest(digests[:-1]) if len(digests) > 1 else None
        if found is None:
            return session, call.messages, 0
        n, working = found
        return session, [*working, *call.messages[n:]], n

    def _memory(self) -> Any:
        if self.memory is None:
            from massgen_plugins.memory import open_store

            self.memory = open_store(None)
        return self.memory

    async def _persisted(self, call: ChatCall, route: Route, agent: str, session_id: str
                         ) -> tuple[Session, list[Message], SessionCursor]:
        if not session_id or len(session_id) > 200 or any(c.isspace() for c in session_id):
            raise InputError("X-Session-Id must be 1 to 200 characters without spaces")
        cursor = await self._store(self.store.cursor, session_id)
        digests = chain(call.messages)
        overrides = {**route.settings, "model": route.model, "tools": call.tools, "recall_tool": True}
        store = self._memory()
        if cursor is not None and 0 < cursor.consumed < len(call.messages) \
                and digests[cursor.consumed - 1] == cursor.digest:
            session = await Session.resume(cursor.inner_id, memory=store, run_log=self.log, **overrides)
            session.agent = agent
            self._shared_limits(session, route)
            return session, call.messages[cursor.consumed:], cursor
        generation = 0 if cursor is None else cursor.generation + 1
        inner = session_id if generation == 0 else f"{session_id}~{generation}"
        if cursor is not None:
            self.log.event("note", agent=agent, message=f"session {session_id}: the client's history no longer "
                           f"continues the stored one; starting generation {generation} as {inner}")
        session = Session(config=route.agent_config(tools=call.tools, recall_tool=True), session_id=inner,
                          memory=store, run_log=self.log, agent=agent)
        self._shared_limits(session, route)
        return session, call.messages, SessionCursor(session_id=session_id, inner_id=inner, consumed=0, digest="",
                                                     generation=generation)

    async def _store(self, fn: Any, *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args) if self.store.remote else fn(*args)

    def _lock(self, session_id: str) -> asyncio.Lock:
        lock = self._locks.get(session_id)
        if lock is None:
            if len(self._locks) > 10_000:
                self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            lock = self._locks[session_id] = asyncio.Lock()
        return lock

    # ------------------------------------------------------------------ after a success
    def _remember(self, call: ChatCall, session: Session, working: list[Message], response: CompletionResponse
                  ) -> None:
        """Cache the working conversation when it differs from what the client sent."""
        kept = session.messages[:-1]
        if len(kept) == len(call.messages) and all(a is b for a, b in zip(kept, call.messages, strict=True)):
            return
        view = [*call.messages, response.message]
        self.prefixes.put(chain(view)[-1], list(session.messages))

    async def _advance(self, call: ChatCall, cursor: SessionCursor, response: CompletionResponse) -> None:
        digests = chain([*call.messages, response.message])
        cursor = cursor.model_copy(update={"consumed": len(digests), "digest": digests[-1]})
        await self._store(self.store.save_cursor, cursor)

    def _options(self, call: ChatCall, route: Route, agent: str) -> RequestOptions | None:
        """The request's options as the target provider takes them (what it has no field for is
        left out, named in the run log)."""
        options, dropped = for_target(call.options, route.model.split("/", 1)[0])
        if dropped:
            self.log.event("note", agent=agent, data={"model": route.model, "options": dropped},
                           message=f"{route.model} has no equivalent for option(s) {', '.join(dropped)}; not sent")
        return options

    # ------------------------------------------------------------------ entry points
    async def complete(self, call: ChatCall, route: Route, agent: str, session_id: str | None) -> Outcome:
        outcome = Outcome()
        request_outcome.set(outcome)  # the session's call_start events fill in its timing
        if session_id:
            async with self._lock(session_id):
                session, new, cursor = await self._persisted(call, route, agent, session_id)
                outcome.response = await session.send(new, max_tokens=call.max_tokens,
                                                      options=self._options(call, route, agent))
                await self._advance(call, cursor, outcome.response)
                outcome.reused_prefix, outcome.session_id = cursor.consumed, cursor.inner_id
                return outcome
        session, working, outcome.reused_prefix = self._stateless(call, route, agent)
        if outcome.reused_prefix:
            self.log.event("note", agent=agent, data={"model": route.model},
                           message=f"reusing a compressed prefix of {outcome.reused_prefix} messages")
        outcome.response = await session.send(working, max_tokens=call.max_tokens,
                                              options=self._options(call, route, agent))
        self._remember(call, session, working, outcome.response)
        return outcome

    async def stream(self, call: ChatCall, route: Route, agent: str, session_id: str | None, outcome: Outcome
                     ) -> AsyncIterator[StreamEvent]:
        """The session's stream events; a failure after output was sent raises :class:`StreamBroken`."""
        request_outcome.set(outcome)  # the session's task inherits it: its call_start events fill it in
        lock = self._lock(session_id) if session_id else None
        if lock is not None:
            await lock.acquire()
        try:
            cursor = None
            if session_id:
                session, working, cursor = await self._persisted(call, route, agent, session_id)
                outcome.reused_prefix, outcome.session_id = cursor.consumed, cursor.inner_id
            else:
                session, working, outcome.reused_prefix = self._stateless(call, route, agent)
                if outcome.reused_prefix:
                    self.log.event("note", agent=agent, data={"model": route.model},
                                   message=f"reusing a compressed prefix of {outcome.reused_prefix} messages")
            sent = False
            options = self._options(call, route, agent)
            async for event in session.stream(working, max_tokens=call.max_tokens, options=options):
                if event.type == "error":
                    if sent:
                        raise StreamBroken(str(event.error) or "the model failed mid-stream")
                    continue
                if event.type in ("text", "tool_call"):
                    sent = True
                if event.type == "done" and event.response is not None:
                    outcome.response = event.response
                    if cursor is not None:
                        await self._advance(call, cursor, event.response)
                    else:
                        self._remember(call, session, working, event.response)
                yield event
        finally:
            if lock is not None:
                lock.release()
