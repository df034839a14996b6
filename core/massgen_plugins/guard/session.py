"""``massgen_plugins.Session``: one agent's guarded conversation with a model.

Every ``send``/``stream`` goes through the hook chain with:

* **proactive** overflow handling -- an incremental token count (+ tools + reserved output)
  against the model's window minus the tokenizer's margin; above ``trigger_ratio`` the
  conversation is compressed *before* the call;
* **reactive** overflow handling -- a rejected call is classified by ``detect_overflow``; the
  stated limit (scaled by how far our count and the provider's disagree) sizes the compression;
  at most ``max_compressions_per_turn``; then a larger-window fallback; else
  :class:`~massgen_plugins.guard.errors.ContextOverflowError` with the numbers;
* **one retry loop** for transient failures (429 honouring Retry-After, 5xx, 529, timeouts,
  dropped connections, in-stream errors), bounded exponential backoff with jitter, then the next
  fallback model; crossing providers after native compaction regenerates a portable summary;
* **memory** -- every acknowledged turn is persisted; :meth:`Session.resume` continues from the
  last acknowledged turn after a crash; :meth:`Session.recall` searches the archive and long-term
  memory;
* a **run log** event for every decision.

A failed turn leaves the conversation exactly as it was before the ``send``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ..hookreport import observe
from ..memory.codec import sendable_messages
from ..redact import redact
from ..types import ArchivedMessage, CompletionRequest, CompletionResponse, Message, StreamEvent
from .calls import CallContext, CallOutcome, call_model
from .config import AgentConfig
from .errors import AllModelsFailedError, AttemptRecord, ContextOverflowError, PartialOutput
from .limits import ModelLimits
from .portable import expand, foreign_compactions

if TYPE_CHECKING:
    from ..hookcall import Attempt
    from ..memory.store import MemoryStore
    from ..runlog import RunLog
    from ..types import ProviderSettings

RECALL_TOOL = {
    "type": "function",
    "function": {
        "name": "recall",
        "description": "Search earlier parts of this conversation that were compressed away, and long-term "
        "memory. Use it when you need a detail (an id, a number, a decision) you no longer see.",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string", "description": "What to look for."}},
            "required": ["query"],
        },
    },
}
MAX_RECALL_ROUNDS = 3


class _TurnState:
    """Mutable state of one turn: the working conversation and what happened to it."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages
        self.archived: list[ArchivedMessage] = []
        self.compressed = False
        self.compressions = 0
        self.attempts: list[AttemptRecord] = []
        self.partials: list[PartialOutput] = []
        self.response: CompletionResponse | None = None


class Session:
    """A guarded conversation. Async-first; use :meth:`sync` for a blocking facade.

    :param model: ``provider/model``.
    :param session_id: stable id (persisted turns are keyed by it); a new one by default.
    :param agent: agent id (run log, memory scope). :param team: team id (shared memory scope).
    :param memory: a :class:`MemoryStore`, a store URL, ``None`` for the default SQLite store
        under ``MASSGEN_PLUGINS_HOME``, or ``False`` for no persistence.
    :param run_log: a :class:`RunLog`, a directory, ``None`` for a new run under the home, or
        ``False`` for none.
    :param api_keys: explicit keys per provider (otherwise the environment variables).
    :param config: an :class:`AgentConfig`; keyword arguments override its fields
        (``fallbacks``, ``strategy``, ``system``, ``tools``, ``retry``, ...).
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        config: AgentConfig | None = None,
        session_id: str | None = None,
        agent: str = "agent",
        team: str | None = None,
        memory: MemoryStore | str | None | bool = None,
        run_log: RunLog | str | None | bool = None,
        api_keys: dict[str, str] | None = None,
        **overrides: Any,
    ) -> None:
        base = config.model_dump() if config is not None else {}
        if model is not None:
            base["model"] = model
        base.update(overrides)
        self.config = AgentConfig.model_validate(base)
        self.session_id = session_id or f"{agent}-{uuid.uuid4().hex[:12]}"
        self.agent = agent
        self.team = team
        self.turn = 0
        self.messages: list[Message] = []
        self._unpersisted: list[Message] = []
        self._archive: list[ArchivedMessage] = []
        self._api_keys = dict(api_keys or {})
        self._settings: dict[str, ProviderSettings] = {}
        self.limits = ModelLimits(self.config)
        self._memories_injected = False
        self._lock = asyncio.Lock()
        self._store = _open_store(memory)
        self._owns_log = run_log is None or isinstance(run_log, str)
        self._log = _open_log(run_log, self)
        if self.config.system:
            self._append_initial(Message(role="system", content=self.config.system))

    # ------------------------------------------------------------------ construction
    @classmethod
    async def resume(
        cls,
        session_id: str,
        *,
        memory: MemoryStore | str | None = None,
        run_log: RunLog | str | None | bool = None,
        **overrides: Any,
    ) -> Session:
        """Reopen a persisted session exactly at its last acknowledged turn.

        The session's configuration is restored from the store; ``overrides`` change it (e.g.
        a different ``model`` after an outage).
        """
        from ..errors import InputError

        store = _open_store(memory)
        if store is None:
            raise InputError("Session.resume needs a memory store (memory=False has nothing to resume)")
        state = store.load_session(session_id)
        if state is None:
            raise InputError(f"no persisted session {session_id!r} in {getattr(store, 'url', 'the store')}")
        saved = dict(state.meta.get("config") or {})
        saved.update(overrides)
        session = cls(
            config=AgentConfig.model_validate(saved),
            session_id=session_id,
            agent=state.meta.get("agent") or state.scope.agent or "agent",
            team=state.meta.get("team") or state.scope.team,
            memory=store,
            run_log=run_log,
        )
        session.messages = list(state.messages)
        session._unpersisted = []
        session.turn = state.turn
        session._archive = [hit.entry for hit in store.list_archive(session_id)]
        session._emit("memory_read", scope="session", hits=state.turn, query=None, store=_store_url(store))
        return session

    def sync(self) -> SyncSession:
        """A blocking facade for scripts: ``session.sync().send("hi")``."""
        from .sync import SyncSession

        return SyncSession(self)

    # ------------------------------------------------------------------ public API
    async def send(self, content: str | Message | Sequence[Message | dict[str, Any]], *,
                   max_tokens: int | None = None) -> CompletionResponse:
        """Send a user turn (or tool results) and return the assistant's reply.

        :raises ContextOverflowError: the conversation fits no configured model even compressed.
        :raises AllModelsFailedError: every model failed (the conversation is unchanged).
        """
        async with self._lock:
            with observe(self._plugin_skipped):
                return await self._turn(content, max_tokens, sink=None)

    async def stream(self, content: str | Message | Sequence[Message | dict[str, Any]], *,
                     max_tokens: int | None = None) -> AsyncIterator[StreamEvent]:
        """Like :meth:`send`, streaming: ``text``/``tool_call`` events, then ``done``.

        An in-stream failure before any output is retried transparently. After partial output,
        an ``error`` event carrying the partial text is yielded (the text is also archived)
        and the turn is retried; the caller should discard what it showed for that attempt.
        """
        queue: asyncio.Queue[StreamEvent | BaseException | None] = asyncio.Queue()

        async def sink(event: StreamEvent) -> None:
            await queue.put(event)

        async def run() -> None:
            try:
                async with self._lock:
                    with observe(self._plugin_skipped):
                        response = await self._turn(content, max_tokens, sink=sink)
                await queue.put(StreamEvent(type="done", response=response))
            except BaseException as exc:
                await queue.put(exc)
            finally:
                await queue.put(None)

        task = asyncio.create_task(run())
        try:
            while True:
                item = await queue.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            if not task.done():
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def recall(self, query: str, *, limit: int = 5) -> list[dict[str, Any]]:
        """Search what compression archived in this session and the long-term memories of this
        agent's user, agent and team scopes. Returns ``[{source, text, score, ...}]``."""
        from ..memory.records import Scope

        started = time.perf_counter()
        found: list[dict[str, Any]] = []
        if self._store is not None:
            for hit in self._store.recall(self.session_id, query, limit=limit):
                found.append({"source": "archive", "id": hit.entry.id, "turn": hit.turn, "score": hit.score,
                              "text": hit.entry.message.text(), "replaced_by": hit.entry.replaced_by})
            scopes = [Scope(user=self.config.user)] if self.config.user else []
            scopes += [Scope(agent=self.agent)] + ([Scope(team=self.team)] if self.team else [])
            for scope in scopes:
                results = self._store.search(query, scope=scope, limit=limit)
                for match in results.hits:
                    found.append({"source": "memory", "id": match.record.id, "score": match.score,
                                  "text": match.record.text})
        else:
            needle = query.lower()
            found = [{"source": "archive", "id": e.id, "score": 1.0, "text": e.message.text(),
                      "replaced_by": e.replaced_by}
                     for e in self._archive if needle in e.message.text().lower()]
        found.sort(key=lambda item: item["score"], reverse=True)
        found = found[: limit * 2]
        self._emit("memory_read", scope="session", query=redact(query), hits=len(found),
                   ids=[str(f["id"]) for f in found], store=_store_url(self._store),
                   duration_ms=(time.perf_counter() - started) * 1000)
        return found

    async def remember(self, text: str, *, scope: str = "agent", kind: Literal["fact", "note"] = "fact") -> str:
        """Store a long-term memory in this session's ``user``/``agent``/``team`` scope."""
        from ..errors import InputError
        from ..memory.records import Scope

        if self._store is None:
            raise InputError("this session has no memory store (memory=False)")
        scopes = {"user": Scope(user=self.config.user), "agent": Scope(agent=self.agent, user=self.config.user),
                  "team": Scope(team=self.team)}
        if scope not in scopes or (scope == "team" and not self.team) or (scope == "user" and not self.config.user):
            raise InputError(f"cannot remember in scope {scope!r} for this session (user={self.config.user}, "
                             f"team={self.team})")
        record, created = await asyncio.to_thread(self._store.add, text, scope=scopes[scope], kind=kind)
        self._emit("memory_write", scope=scope, kind=kind, ids=[record.id], count=int(created),
                   store=_store_url(self._store))
        return record.id

    def close(self, status: str = "ok", *, error: BaseException | str | None = None) -> None:
        """Close the run log (if this session owns it) and the store it opened.

        :param status: how the run ended: ``ok``, ``failed`` or ``interrupted``.
        """
        if self._log is not None and self._owns_log:
            self._log.close(status, error=error)

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        from ..runlog.lifecycle import exit_status

        status = exit_status(exc)
        self.close(status, error=exc if status != "ok" else None)

    # ------------------------------------------------------------------ the turn
    async def _turn(self, content: Any, max_tokens: int | None, sink: Any) -> CompletionResponse:
        added = sendable_messages(_as_messages(content))  # no lone surrogate can break later calls
        if self.turn == 0 and not self._memories_injected:
            await self._inject_memories(added)
        state = _TurnState([*self.messages, *added])
        response = await self._run(state, max_tokens, sink)
        rounds = 0
        while self.config.recall_tool and rounds < MAX_RECALL_ROUNDS and _only_recall_calls(response):
            rounds += 1
            state.messages.append(response.message)
            added.append(response.message)
            for call in response.message.tool_calls or []:
                result = await self._recall_tool_result(call.function.get("arguments") or "{}")
                tool_message = Message(role="tool", tool_call_id=call.id, content=result)
                state.messages.append(tool_message)
                added.append(tool_message)
            response = await self._run(state, max_tokens, sink)
        await self._acknowledge(state, added, response)
        return response

    async def _run(self, state: _TurnState, max_tokens: int | None, sink: Any) -> CompletionResponse:

        candidates = [self.config.model, *self.config.fallbacks]
        last_overflow: tuple[int | None, int | None] | None = None
        last_why = ""
        tried: set[str] = set()
        model: str | None = candidates[0]
        while model is not None:
            tried.add(model)
            failure = await self._run_model(model, state, max_tokens, sink)
            if failure is None:
                assert state.response is not None
                return state.response.model_copy(update={"message": sendable_messages([state.response.message])[0]})
            why, detail, numbers = failure
            last_why = why
            if why == "overflow":
                last_overflow = numbers
            following = self._next_model(model, candidates, tried, prefer_larger=(why == "overflow"))
            if following is not None:
                self._emit("fallback", from_model=model, to_model=following, why=why, detail=redact(detail))
            model = following
        if last_why == "overflow" and last_overflow is not None:
            tokens, limit = last_overflow
            raise ContextOverflowError(
                f"the conversation ({tokens or '?'} tokens) does not fit any configured model even after "
                f"{state.compressions} compression(s) (smallest limit seen: {limit or '?'} tokens); add a "
                "larger-window fallback or a more aggressive strategy",
                model=self.config.model, tokens=tokens, limit=limit, attempts=state.attempts,
            )
        summary = "; ".join(f"{a.model} #{a.attempt}: {a.outcome}" + (f" ({a.message})" if a.message else "")
                            for a in state.attempts[-6:])
        raise AllModelsFailedError(f"every model failed for this turn: {summary}", attempts=state.attempts)

    async def _run_model(self, model: str, state: _TurnState, max_tokens: int | None, sink: Any
                         ) -> tuple[str, str, tuple[int | None, int | None]] | None:
        """Try ``model`` until success (returns None) or a reason to fall back."""
        from ..errors import MassgenError
        from ..types import ErrorKind

        try:
            settings = self._settings_for(model)
        except MassgenError as exc:
            state.attempts.append(AttemptRecord(model, 0, "unavailable", str(exc)))
            return "unavailable", str(exc), (None, None)
        await self._make_portable(model, state)
        window, reserve = self.limits.window(model), self.limits.reserve(model, max_tokens)
        retry_number = 0
        attempt = 0
        cap_fixes = 0
        while True:
            attempt += 1
            tokens = self._count(model, state.messages)
            budget = self.limits.input_budget(window, reserve)
            if self.config.proactive and budget is not None and tokens > budget * self.config.trigger_ratio:
                self._emit("overflow", mode="proactive", model=model, limit=window, counted=tokens, budget=budget)
                fits = await self._compress(model, state, budget, tokens)
                tokens = self._count(model, state.messages)
                if not fits or tokens > budget:
                    state.attempts.append(AttemptRecord(model, attempt, "too_large",
                                                        f"{tokens} tokens > budget {budget}"))
                    return "overflow", f"{tokens} tokens do not fit {model}", (tokens, window)
            request = CompletionRequest(model=model, messages=state.messages, tools=self._tools(),
                                        max_tokens=reserve, timeout=self.config.retry.timeout)
            ctx = CallContext(agent=self.agent, turn=self.turn + 1, log=self._log)
            outcome = await call_model(request, settings, ctx, attempt=attempt, input_tokens=tokens, sink=sink)
            if outcome.ok:
                state.attempts.append(AttemptRecord(model, attempt, "ok"))
                state.response = outcome.response
                return None
            self._keep_partial(model, outcome, state)
            if sink is not None and (outcome.partial or outcome.partial_tool_calls):
                await sink(StreamEvent(type="error", error=outcome.error, partial=outcome.partial))
            info = outcome.info
            message = redact(info.message if info else str(outcome.error))[:300]
            state.attempts.append(AttemptRecord(model, attempt, info.kind.value if info else "unknown", message))
            if outcome.overflow is not None:
                ov = outcome.overflow
                self.limits.learn_window(model, ov.limit)
                self._emit("overflow", mode="reactive", model=model, limit=ov.limit, requested=ov.requested,
                           counted=tokens, matched_by=ov.matched_by)
                if state.compressions >= self.config.max_compressions_per_turn:
                    return "overflow", f"still too long after {state.compressions} compression(s)", (
                        ov.requested or tokens, ov.limit)
                target = self.limits.reactive_target(tokens, ov.limit, ov.requested, reserve)
                await self._compress(model, state, target, tokens)
                continue
            if info is not None and info.kind == ErrorKind.OUTPUT_CAP and cap_fixes < 2:
                cap_fixes += 1  # the reserved output exceeds the model's cap: ask for what it allows
                reserve = self.limits.learn_cap(model, info.message, reserve)
                self._emit("note", message=f"{model} allows at most {reserve} output tokens; retrying with that")
                continue
            if info is None or not info.retryable:
                kind = info.kind.value if info else "error"
                return kind, message, (None, None)
            retry_number += 1
            if retry_number >= self.config.retry.max_attempts:
                return "retries_exhausted", f"{info.kind.value}: {message}", (None, None)
            delay = self.config.retry.delay(retry_number, info.retry_after)
            if delay is None:
                return info.kind.value, f"asked to wait {info.retry_after:.0f} s (> max_retry_after)", (None, None)
            self._emit("retry", model=model, attempt=attempt, kind=info.kind.value, reason=message,
                       status=info.status, delay_s=delay)
            await asyncio.sleep(delay)

    # ------------------------------------------------------------------ compression
    async def _compress(self, model: str, state: _TurnState, budget: int, tokens: int,
                        *, exclude: tuple[str, ...] = ()) -> bool:
        """Run the compression chain toward ``budget``; record it; True when the result fits."""
        from ..compression import CannotFitError, compress_conversation, compression_active
        from ..compression.strategy import ALL_STAGES, resolve_strategy

        if compression_active() or state.compressions >= self.config.max_compressions_per_turn:
            return False  # a summarizer's own call never compresses itself
        state.compressions += 1
        strategy, overrides = _strategy(self.config.strategy)
        if self.config.summarizer_model:
            overrides.setdefault("summarizer_model", self.config.summarizer_model)
        summarizer = overrides.get("summarizer_model") or model
        if "summarizer_window" not in overrides and self.limits.window(summarizer):
            overrides["summarizer_window"] = self.limits.window(summarizer)  # incl. windows learned from errors
        if exclude:
            allowed = resolve_strategy(strategy, overrides).stages or list(ALL_STAGES)
            overrides["stages"] = [s for s in allowed if s not in exclude]
        try:
            report = await compress_conversation(state.messages, model=model, budget=budget, strategy=strategy,
                                                 tools=self._tools(), options=overrides)
        except CannotFitError as exc:
            report = exc.report
            if report is None:
                self._emit("error", kind="cannot_fit", message=redact(str(exc)), model=model)
                return False
        state.messages = list(report.messages) or state.messages
        state.archived.extend(report.archive)
        self._archive.extend(report.archive)
        state.compressed = True
        self._emit(
            "compression", stage=(report.ran[-1] if report.ran else "none"), model=model,
            strategy=report.strategy.name, budget=budget, tokens_before=report.tokens_before,
            tokens_after=report.tokens_after, duration_ms=report.seconds * 1000,
            archived_ids=[a.id for a in report.archive], stages_tried=[s.name for s in report.stages],
            skipped=[{"stage": s.name, "reason": redact(s.reason or s.status)}
                     for s in report.stages if s.status in ("skipped", "rejected")],
            fits=report.fits,
        )
        return bool(report.fits)

    async def _make_portable(self, model: str, state: _TurnState) -> None:
        """Replace another provider's compaction items before calling ``model``, then let the
        chain (native stage off) summarise the originals within ``model``'s budget."""
        provider = model.split("/", 1)[0]
        if not foreign_compactions(state.messages, provider):
            return
        expanded, replaced = expand(state.messages, self._archive, provider)
        state.messages = expanded
        state.compressed = True
        self._emit("note", message=f"regenerating a portable summary for {model}: {replaced} native "
                   "compaction item(s) replaced by their archived originals")
        budget = self.limits.input_budget(self.limits.window(model), self.limits.reserve(model, None))
        tokens = self._count(model, state.messages)
        if budget is not None and tokens > budget * self.config.trigger_ratio:
            state.compressions = max(0, state.compressions - 1)  # regeneration does not use up the turn's quota
            await self._compress(model, state, budget, tokens, exclude=("native",))

    def _count(self, model: str, messages: Sequence[Message]) -> int:
        return self.limits.count(model, messages, self._tools())

    # ------------------------------------------------------------------ fallbacks
    def _next_model(self, current: str, candidates: list[str], tried: set[str], *, prefer_larger: bool) -> str | None:
        remaining = [c for c in candidates if c not in tried]
        if not remaining:
            return None
        if prefer_larger:
            own = self.limits.window(current) or 0
            larger = [c for c in remaining if (self.limits.window(c) or 0) > own]
            if larger:
                return larger[0]
        return remaining[0]

    # ------------------------------------------------------------------ plumbing
    def _settings_for(self, model: str) -> ProviderSettings:
        from ..providers import resolve_model, resolve_settings

        provider = model.split("/", 1)[0]
        if provider not in self._settings:
            resolve_model(model)  # a clear error for a malformed string or an unknown provider
            self._settings[provider] = resolve_settings(provider, api_key=self._api_keys.get(provider),
                                                        timeout=self.config.retry.timeout)
        return self._settings[provider]

    def _tools(self) -> list[dict[str, Any]]:
        return [*self.config.tools, RECALL_TOOL] if self.config.recall_tool else list(self.config.tools)

    def _keep_partial(self, model: str, outcome: CallOutcome, state: _TurnState) -> None:
        if not outcome.partial and not outcome.partial_tool_calls:
            return
        partial = PartialOutput(model=model, text=outcome.partial, tool_calls=outcome.partial_tool_calls)
        state.partials.append(partial)
        entry = ArchivedMessage(id=f"partial-{uuid.uuid4().hex[:10]}", stage="partial-output",
                                message=Message(role="assistant", content=outcome.partial or None))
        state.archived.append(entry)
        self._archive.append(entry)

    async def _acknowledge(self, state: _TurnState, added: list[Message], response: CompletionResponse) -> None:
        """The turn succeeded: persist it (durably, before ``send`` returns -- in a worker thread,
        so other agents on this event loop keep running), then commit it to the live conversation."""
        new = [*self._unpersisted, *added, response.message]
        if self._store is not None:
            from ..memory.records import Scope

            started = time.perf_counter()
            await asyncio.to_thread(
                self._store.append_turn,
                self.session_id, new, turn=self.turn + 1, archived=state.archived,
                snapshot=[*state.messages, response.message] if state.compressed else None,
                meta={"config": self.config.model_dump(mode="json"), "agent": self.agent, "team": self.team,
                      "model": response.model},
                scope=Scope(user=self.config.user, agent=self.agent, team=self.team),
            )
            self._emit("memory_write", scope="session", kind="turn", count=len(new), store=_store_url(self._store),
                       ids=[a.id for a in state.archived], duration_ms=(time.perf_counter() - started) * 1000)
        self.messages = [*state.messages, response.message]
        self.turn += 1
        self._unpersisted = []

    def _append_initial(self, message: Message) -> None:
        self.messages.append(message)
        self._unpersisted.append(message)

    async def _inject_memories(self, added: list[Message]) -> None:
        """Before the first turn: relevant long-term memories, within ``memory_tokens``."""
        self._memories_injected = True
        if not self.config.memory_tokens or self._store is None:
            return
        query = " ".join(m.text() for m in added if m.role == "user")[:500]
        if not query.strip():
            return
        hits = [h for h in await self.recall(query, limit=10) if h["source"] == "memory"]
        lines, used = [], 0
        for hit in hits:
            cost = self._count(self.config.model, [Message(role="user", content=hit["text"])])
            if used + cost > self.config.memory_tokens:
                break
            lines.append(f"- {hit['text']}")
            used += cost
        if lines:
            self._append_initial(Message(role="system", content="Relevant long-term memories:\n" + "\n".join(lines)))

    async def _recall_tool_result(self, arguments: str) -> str:
        import json

        try:
            query = str(json.loads(arguments).get("query", ""))
        except (ValueError, AttributeError):
            query = arguments
        hits = await self.recall(query, limit=5)
        if not hits:
            return f"No archived or remembered text matches {query!r}."
        return "\n\n".join(f"[{h['source']} {h['id']}] {h['text'][:2000]}" for h in hits)

    def _plugin_skipped(self, attempt: Attempt) -> None:
        """A hook implementation was skipped during this turn: one ``plugin_skipped`` event."""
        self._emit("plugin_skipped", hook=attempt.hook, plugin=attempt.plugin, status=attempt.status,
                   reason=redact(attempt.error or ""), seconds=round(attempt.seconds, 3))

    def _emit(self, type_: str, **fields: Any) -> None:
        if self._log is not None:
            self._log.event(type_, agent=self.agent, turn=self.turn + 1, **fields)


# ---------------------------------------------------------------------- helpers


def _as_messages(content: Any) -> list[Message]:
    from ..errors import InputError

    if isinstance(content, str):
        return [Message(role="user", content=content)]
    if isinstance(content, Message):
        return [content]
    if isinstance(content, dict):
        return [Message.model_validate(content)]
    if isinstance(content, Sequence):
        return [m if isinstance(m, Message) else Message.model_validate(m) for m in content]
    raise InputError(f"send() takes a string, a Message or a list of messages, not {type(content).__name__}")


def _only_recall_calls(response: CompletionResponse) -> bool:
    calls = response.message.tool_calls or []
    return bool(calls) and all(c.function.get("name") == "recall" for c in calls)


def _strategy(value: str | dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if isinstance(value, str):
        return value, {}
    overrides = dict(value)
    return str(overrides.pop("name", "balanced")), overrides


def _open_store(memory: Any) -> MemoryStore | None:
    if memory is False:
        return None
    if memory is None or memory is True or isinstance(memory, str):
        from ..memory import open_store

        return open_store(memory if isinstance(memory, str) else None)
    return memory  # type: ignore[no-any-return]


def _store_url(store: Any) -> str | None:
    from ..redact import redact as _r

    url = getattr(store, "url", None)
    return _r(str(url)) if url else None


def _open_log(run_log: Any, session: Session) -> RunLog | None:
    if run_log is False:
        return None
    from ..runlog import RunLog

    if isinstance(run_log, RunLog):
        return run_log
    return RunLog.create(run_log, title=f"session {session.session_id}", team=session.team,
                         agents=[{"id": session.agent, "model": session.config.model}],
                         secrets=tuple(session._api_keys.values()))


if TYPE_CHECKING:
    from .sync import SyncSession
