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
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ..hookreport import observe
from ..memory.codec import sendable_messages
from ..redact import redact
from ..types import CompletionResponse, Message, StreamEvent
from .archive_tools import expand_tool, has_gists
from .calls import CallContext, EventSink
from .compressor import Compressor
from .config import AgentConfig, check_api_keys
from .inputs import as_messages, check_tool_pairing
from .limits import ModelLimits
from .options import RequestOptions
from .session_memory import SessionMemory, open_store
from .tools import MAX_BUILTIN_ROUNDS, BuiltinTool, answer_call, builtin_tools, only_builtin_calls
from .turn import TurnLoop, TurnState

if TYPE_CHECKING:
    from ..hookcall import Attempt
    from ..memory.store import MemoryStore
    from ..runlog import RunLog
    from ..types import ProviderSettings
    from .sync import SyncSession


class Session:
    """A guarded conversation. Async-first; use :meth:`sync` for a blocking facade.

    :param model: ``provider/model``.
    :param session_id: stable id (persisted turns are keyed by it); a new one by default.
    :param agent: agent id (run log, memory scope). :param team: team id (shared memory scope).
    :param memory: a :class:`MemoryStore`, a store URL, ``None`` for the default SQLite store
        under ``MASSGEN_PLUGINS_HOME``, or ``False`` for no persistence. A store the session
        opens (URL or default) is closed by :meth:`close`; a store passed in is the caller's.
    :param run_log: a :class:`RunLog`, a directory, ``None`` for a new run under the home, or
        ``False`` for none.
    :param api_keys: explicit keys per provider (otherwise the environment variables); used for
        the conversation's calls and the summarizer's, and redacted everywhere.
    :param config: an :class:`AgentConfig`; keyword arguments override its fields
        (``fallbacks``, ``strategy``, ``system``, ``tools``, ``retry``, ...).
    :raises InputError: for an unknown keyword (with the closest known one), a malformed model
        string, an unknown provider or strategy, or an invalid value -- naming the argument.
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
        self._api_keys = check_api_keys(api_keys, "Session()")
        self.config = AgentConfig.from_arguments(config, model=model, **overrides)
        self.session_id = session_id or f"{agent}-{uuid.uuid4().hex[:12]}"
        self.agent = agent
        self.team = team
        self.turn = 0
        self.messages: list[Message] = []
        self._unpersisted: list[Message] = []
        self._settings: dict[str, ProviderSettings] = {}
        self.limits = ModelLimits(self.config)
        self._memories_injected = False
        self._checked: tuple[int, int] | None = None  # (id, length) of the history last acknowledged
        self._lock = asyncio.Lock()
        store, owned = open_store(memory)
        self.memory = SessionMemory(store, owned=owned, session_id=self.session_id, agent=agent, team=team,
                                    config=self.config, emit=self._emit)
        self._owns_log = run_log is None or isinstance(run_log, str)
        self._log = _open_log(run_log, self)
        self._builtin: dict[str, BuiltinTool] = builtin_tools(self.config, recall=self.recall)
        if self.config.recall_tool:
            self._builtin["expand"] = expand_tool(self)
        self._compressor = Compressor(self.config, self.limits, self.memory, tools=self._tools,
                                      settings=self._settings_for, emit=self._emit)
        self._loop = TurnLoop(config=self.config, limits=self.limits, compressor=self._compressor, memory=self.memory,
                              settings=self._settings_for, tools=self._tools, context=self._call_context,
                              emit=self._emit)
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
        api_keys: dict[str, str] | None = None,
        **overrides: Any,
    ) -> Session:
        """Reopen a persisted session exactly at its last acknowledged turn.

        The session's configuration is restored from the store; ``overrides`` change it (e.g.
        a different ``model`` after an outage).
        """
        from ..errors import InputError

        store, owned = open_store(memory)
        if store is None:
            raise InputError("Session.resume needs a memory store (memory=False has nothing to resume)")
        state = store.load_session(session_id)
        if state is None:
            if owned:
                store.close()
            raise InputError(f"no persisted session {session_id!r} in {getattr(store, 'url', 'the store')}")
        saved = AgentConfig.model_validate(state.meta.get("config") or {})
        session = cls(config=saved, session_id=session_id, agent=state.meta.get("agent") or state.scope.agent or "agent",
                      team=state.meta.get("team") or state.scope.team, memory=store, run_log=run_log,
                      api_keys=api_keys, **overrides)
        session.memory.owned = owned
        session.memory.load()
        session.messages = list(state.messages)
        session._unpersisted = []
        session.turn = state.turn
        session._emit("memory_read", scope="session", hits=state.turn, query=None, store=session.memory.url)
        return session

    def sync(self) -> SyncSession:
        """A blocking facade for scripts: ``session.sync().send("hi")``."""
        from .sync import SyncSession

        return SyncSession(self)

    # ------------------------------------------------------------------ public API
    async def send(self, content: str | Message | Sequence[Message | dict[str, Any]], *,
                   max_tokens: int | None = None,
                   options: RequestOptions | Mapping[str, Any] | None = None) -> CompletionResponse:
        """Send a user turn (or tool results) and return the assistant's reply.

        ``options`` (:class:`~.options.RequestOptions` or a mapping: ``temperature``, ``top_p``,
        ``stop``, ``seed``, ``tool_choice``, ``response_format``, ...) apply to this turn's
        provider calls, retries and fallbacks included, and never to a summarizer's calls.

        :raises InputError: malformed messages, tool calls and results that do not pair up, or an
            unknown or invalid option.
        :raises ContextOverflowError: the conversation fits no configured model even compressed.
        :raises AllModelsFailedError: every model failed (the conversation is unchanged).
        """
        chosen = RequestOptions.parse(options)
        async with self._lock:
            with observe(self._plugin_skipped):
                return await self._turn(content, max_tokens, sink=None, options=chosen)

    async def stream(self, content: str | Message | Sequence[Message | dict[str, Any]], *,
                     max_tokens: int | None = None,
                     options: RequestOptions | Mapping[str, Any] | None = None) -> AsyncIterator[StreamEvent]:
        """Like :meth:`send`, streaming: ``text``/``tool_call`` events, then ``done``.

        An in-stream failure before any output is retried transparently. After partial output,
        an ``error`` event carrying the partial text is yielded (the text is also archived)
        and the turn is retried; the caller should discard what it showed for that attempt.
        """
        chosen = RequestOptions.parse(options)  # bad options fail before anything is sent
        queue: asyncio.Queue[StreamEvent | BaseException | None] = asyncio.Queue()

        async def sink(event: StreamEvent) -> None:
            await queue.put(event)

        async def run() -> None:
            try:
                async with self._lock:
                    with observe(self._plugin_skipped):
                        response = await self._turn(content, max_tokens, sink=sink, options=chosen)
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
        return await self.memory.recall(query, limit=limit)

    async def remember(self, text: str, *, scope: str = "agent", kind: Literal["fact", "note"] = "fact") -> str:
        """Store a long-term memory in this session's ``user``/``agent``/``team`` scope."""
        return await self.memory.remember(text, scope=scope, kind=kind)

    def count_tokens(self, messages: Sequence[Message] | None = None, *, model: str | None = None) -> int:
        """Input tokens of ``messages`` (default: the live conversation) with this session's tools,
        as the guard counts them for ``model`` (default: the primary), margin included."""
        chosen = model or self.config.model
        return self.limits.count(chosen, self.messages if messages is None else messages, self._tools())

    @property
    def _archive(self) -> list[Any]:
        """Everything compression (and failed streams) archived in this session."""
        return self.memory.archive

    @property
    def _store(self) -> MemoryStore | None:
        return self.memory.store

    def close(self, status: str = "ok", *, error: BaseException | str | None = None) -> None:
        """Close the run log (if this session owns it) and the store it opened.

        :param status: how the run ended: ``ok``, ``failed`` or ``interrupted``.
        """
        if self._log is not None and self._owns_log:
            self._log.close(status, error=error)
        self.memory.close()

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        from ..runlog.lifecycle import exit_status

        status = exit_status(exc)
        self.close(status, error=exc if status != "ok" else None)

    # ------------------------------------------------------------------ the turn
    async def _turn(self, content: Any, max_tokens: int | None, sink: EventSink | None,
                    options: RequestOptions | None = None) -> CompletionResponse:
        added = sendable_messages(as_messages(content))  # no lone surrogate can break later calls
        history = self.messages
        # the history this session acknowledged is valid: only its last reply and what is new are checked
        start = max(0, len(history) - 1) if self._checked == (id(history), len(history)) else 0
        check_tool_pairing([*history, *added], first_new=len(history), start=start)
        if self.turn == 0 and not self._memories_injected:
            await self._inject_memories(added)
        state = TurnState([*self.messages, *added])
        response = await self._loop.run(state, max_tokens, sink, options)
        rounds = 0
        while rounds < MAX_BUILTIN_ROUNDS and (calls := only_builtin_calls(response, self._builtin)):
            rounds += 1
            state.messages.append(response.message)
            added.append(response.message)
            for call in calls:
                result = Message(role="tool", tool_call_id=call.id, content=await answer_call(call, self._builtin))
                state.messages.append(result)
                added.append(result)
            response = await self._loop.run(state, max_tokens, sink, options)
        await self._acknowledge(state, added, response)
        return response

    async def _acknowledge(self, state: TurnState, added: list[Message], response: CompletionResponse) -> None:
        """The turn succeeded: persist it (durably, before ``send`` returns), then commit it to
        the live conversation."""
        if self.memory.store is not None:  # the turn's record (a configuration dump) only when it is kept
            await self.memory.persist_turn(
                turn=self.turn + 1, new=[*self._unpersisted, *added, response.message], archived=state.archived,
                snapshot=[*state.messages, response.message] if state.compressed else None,
                meta={"config": self.config.model_dump(mode="json"), "agent": self.agent, "team": self.team,
                      "model": response.model},
            )
        self.messages = [*state.messages, response.message]
        self._checked = (id(self.messages), len(self.messages))
        self.turn += 1
        self._unpersisted = []

    async def _inject_memories(self, added: list[Message]) -> None:
        """Before the first turn: relevant long-term memories, within ``memory_tokens``."""
        self._memories_injected = True
        note = await self.memory.memories_for(
            added, self.config.memory_tokens,
            lambda text: self.limits.count(self.config.model, [Message(role="user", content=text)], []))
        if note:
            self._append_initial(Message(role="system", content=note))

    def _append_initial(self, message: Message) -> None:
        self.messages.append(message)
        self._unpersisted.append(message)

    # ------------------------------------------------------------------ plumbing
    def _settings_for(self, model: str) -> ProviderSettings:
        """Connection settings for ``model``'s provider: the session's key, else the environment's."""
        from ..providers import resolve_model, resolve_settings

        provider = model.split("/", 1)[0]
        if provider not in self._settings:
            resolve_model(model)  # a clear error for a malformed string or an unknown provider
            self._settings[provider] = resolve_settings(provider, api_key=self._api_keys.get(provider),
                                                        timeout=self.config.retry.timeout)
        return self._settings[provider]

    def _tools(self) -> list[dict[str, Any]]:
        return [*self.config.tools, *(tool.schema for name, tool in self._builtin.items()
                                      if name != "expand" or has_gists(self._archive))]

    def _call_context(self) -> CallContext:
        return CallContext(agent=self.agent, turn=self.turn + 1, log=self._log)

    def _plugin_skipped(self, attempt: Attempt) -> None:
        """A hook implementation was skipped during this turn: one ``plugin_skipped`` event."""
        self._emit("plugin_skipped", hook=attempt.hook, plugin=attempt.plugin, status=attempt.status,
                   reason=redact(attempt.error or ""), seconds=round(attempt.seconds, 3))

    def _emit(self, type_: str, **fields: Any) -> None:
        if self._log is not None:
            self._log.write(type_, agent=self.agent, turn=self.turn + 1, **fields)


def _open_log(run_log: Any, session: Session) -> RunLog | None:
    if run_log is False:
        return None
    from ..runlog import RunLog

    if isinstance(run_log, RunLog):
        return run_log
    return RunLog.create(run_log, title=f"session {session.session_id}", team=session.team,
                         agents=[{"id": session.agent, "model": session.config.model}],
                         secrets=tuple(session._api_keys.values()))
