"""The turn loop: attempts, retries, output-cap fixes, proactive and reactive overflow, fallbacks.

For each candidate model (the primary, then the fallbacks; after an overflow a larger-window one
first), :meth:`TurnLoop.try_model` makes attempts until one succeeds or the model is given up on:

1. plan the attempt -- one window lookup and one token count (:meth:`ModelLimits.plan`);
2. proactively compress when the count is above ``trigger_ratio`` of the input budget;
3. call the model (:func:`~.calls.call_model`);
4. on failure, by :class:`~massgen_plugins.types.ErrorKind`: an overflow learns the stated
   window (used from the next attempt on, in this turn) and compresses toward a target sized
   from the provider's numbers; an output-cap error lowers the reserved output; a retryable
   error waits per the :class:`~.retry.RetryPolicy`; anything else gives up on the model.

A model given up on is a :class:`ModelFailure` (an ``ErrorKind`` and a :class:`Stop` reason);
when every candidate failed, :meth:`TurnLoop.run` raises
:class:`~.errors.ContextOverflowError` or :class:`~.errors.AllModelsFailedError`. The same
request is never sent twice after an overflow: if nothing changed, the model is given up on.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from ..memory.codec import sendable_messages
from ..redact import redact
from ..types import ArchivedMessage, CompletionRequest, ErrorKind, Message, StreamEvent
from .calls import CallContext, CallOutcome, EventSink, call_model
from .errors import AllModelsFailedError, AttemptRecord, ContextOverflowError, GuardError, PartialOutput

if TYPE_CHECKING:
    from ..types import CompletionResponse, ProviderSettings
    from .compressor import Compressor
    from .config import AgentConfig
    from .limits import AttemptPlan, ModelLimits
    from .options import RequestOptions
    from .session_memory import SessionMemory

Emit = Callable[..., None]


class Stop(str, Enum):
    """Why the loop gave up on a model."""

    ERROR = "error"  # a failure no retry fixes; its ErrorKind says which
    RETRIES_EXHAUSTED = "retries_exhausted"  # a retryable failure, max_attempts times
    WAIT_TOO_LONG = "wait_too_long"  # the provider asked to wait longer than max_retry_after
    UNAVAILABLE = "unavailable"  # no settings for it: missing key, unknown provider
    TOO_LARGE = "too_large"  # the conversation does not fit, even compressed


@dataclass(frozen=True)
class ModelFailure:
    """The typed outcome of giving up on one model."""

    kind: ErrorKind
    stop: Stop
    detail: str
    tokens: int | None = None
    limit: int | None = None

    @property
    def why(self) -> str:
        """The reason a ``fallback`` event records: how the retries ended, else the error kind."""
        return self.stop.value if self.stop in (Stop.RETRIES_EXHAUSTED, Stop.UNAVAILABLE) else self.kind.value


class _Transient(Enum):
    TRANSIENT = "transient"


_TRANSIENT = _Transient.TRANSIENT


@dataclass
class TurnState:
    """Mutable state of one turn: the working conversation and what happened to it."""

    messages: list[Message]
    archived: list[ArchivedMessage] = field(default_factory=list)
    compressed: bool = False
    compressions: int = 0
    attempts: list[AttemptRecord] = field(default_factory=list)
    partials: list[PartialOutput] = field(default_factory=list)
    response: CompletionResponse | None = None


class TurnLoop:
    """Runs one turn's attempts for a session."""

    def __init__(self, *, config: AgentConfig, limits: ModelLimits, compressor: Compressor, memory: SessionMemory,
                 settings: Callable[[str], ProviderSettings], tools: Callable[[], list[dict[str, Any]]],
                 context: Callable[[], CallContext], emit: Emit) -> None:
        self.config = config
        self.limits = limits
        self.compressor = compressor
        self.memory = memory
        self.settings = settings
        self.tools = tools
        self.context = context
        self.emit = emit

    async def run(self, state: TurnState, max_tokens: int | None, sink: EventSink | None,
                  options: RequestOptions | None = None) -> CompletionResponse:
        """The reply of the first model that answers; raises when none does. ``options`` go
        into every call of this turn (never into the summarizer's, which builds its own)."""
        candidates = [self.config.model, *self.config.fallbacks]
        failures: list[ModelFailure] = []
        tried: set[str] = set()
        model: str | None = candidates[0]
        while model is not None:
            tried.add(model)
            failure = await self.try_model(model, state, max_tokens, sink, options)
            if failure is None:
                assert state.response is not None
                # a reply is stored and sent again later: no lone surrogate may break either
                reply = sendable_messages([state.response.message])[0]
                if reply is state.response.message:
                    return state.response
                return state.response.model_copy(update={"message": reply})
            failures.append(failure)
            following = self.next_model(model, candidates, tried, prefer_larger=failure.kind == ErrorKind.OVERFLOW)
            if following is not None:
                self.emit("fallback", from_model=model, to_model=following, why=failure.why,
                          detail=redact(failure.detail))
            model = following
        raise self.final_error(state, failures)

    def final_error(self, state: TurnState, failures: list[ModelFailure]) -> GuardError:
        last = failures[-1]
        if last.kind == ErrorKind.OVERFLOW:
            return ContextOverflowError(
                f"the conversation ({last.tokens or '?'} tokens) does not fit any configured model even after "
                f"{state.compressions} compression(s) (smallest limit seen: {last.limit or '?'} tokens); add a "
                "larger-window fallback or a more aggressive strategy",
                model=self.config.model, tokens=last.tokens, limit=last.limit, attempts=state.attempts,
            )
        summary = "; ".join(f"{a.model} #{a.attempt}: {a.outcome}" + (f" ({a.message})" if a.message else "")
                            for a in state.attempts[-6:])
        return AllModelsFailedError(f"every model failed for this turn: {summary}", attempts=state.attempts)

    def next_model(self, current: str, candidates: list[str], tried: set[str], *, prefer_larger: bool) -> str | None:
        remaining = [c for c in candidates if c not in tried]
        if not remaining:
            return None
        if prefer_larger:
            own = self.limits.window(current) or 0
            larger = [c for c in remaining if (self.limits.window(c) or 0) > own]
            if larger:
                return larger[0]
        return remaining[0]

    async def try_model(self, model: str, state: TurnState, max_tokens: int | None, sink: EventSink | None,
                        options: RequestOptions | None = None) -> ModelFailure | None:
        """Attempts on ``model`` until success (``None``) or a reason to give it up."""
        from ..errors import MassgenError, MissingCredentialsError

        try:
            settings = self.settings(model)
        except MassgenError as exc:
            message = redact(str(exc))
            state.attempts.append(AttemptRecord(model, 0, Stop.UNAVAILABLE.value, message))
            kind = ErrorKind.AUTH if isinstance(exc, MissingCredentialsError) else ErrorKind.NOT_FOUND
            return ModelFailure(kind, Stop.UNAVAILABLE, message)
        await self.compressor.make_portable(model, state)
        retry_number = attempt = cap_fixes = 0
        while True:
            attempt += 1
            plan = self.limits.plan(model, max_tokens, state.messages, self.tools())
            tokens = plan.tokens
            if self.config.proactive and plan.budget is not None and tokens > plan.budget * self.config.trigger_ratio:
                self.emit("overflow", mode="proactive", model=model, limit=plan.window, counted=tokens,
                          budget=plan.budget)
                fits, after = await self.compressor.compress(model, state, plan.budget, window=plan.window)
                tokens = after if after is not None else tokens
                if not fits or tokens > plan.budget:
                    state.attempts.append(AttemptRecord(model, attempt, "too_large", f"{tokens} tokens > budget {plan.budget}"))
                    return ModelFailure(ErrorKind.OVERFLOW, Stop.TOO_LARGE, f"{tokens} tokens do not fit {model}",
                                        tokens, plan.window)
            request = CompletionRequest(model=model, messages=state.messages, tools=self.tools(),
                                        max_tokens=plan.reserve, timeout=self.config.retry.timeout,
                                        temperature=options.temperature if options else None,
                                        # the session's standing options, then this turn's (which win)
                                        options={**self.config.provider_options,
                                                 **(options.provider_options() if options else {})})
            outcome = await call_model(request, settings, self.context(), attempt=attempt, input_tokens=tokens, sink=sink)
            if outcome.ok:
                state.attempts.append(AttemptRecord(model, attempt, "ok"))
                state.response = outcome.response
                return None
            await self._keep_partial(model, outcome, state, sink)
            info = outcome.info
            message = redact(info.message if info else str(outcome.error))[:300]
            state.attempts.append(AttemptRecord(model, attempt, info.kind.value if info else "unknown", message))
            if outcome.overflow is not None:
                failure = await self._after_overflow(model, state, outcome, plan, tokens, max_tokens)
                if failure is not _TRANSIENT:
                    if failure is not None:
                        return failure
                    continue
            elif info is not None and info.kind == ErrorKind.OUTPUT_CAP and cap_fixes < 2:
                cap_fixes += 1  # the reserved output exceeds the model's cap: ask for what it allows
                reserve = self.limits.learn_cap(model, info.message, plan.reserve)
                self.emit("note", message=f"{model} allows at most {reserve} output tokens; retrying with that")
                continue
            elif info is None or not info.retryable:
                return ModelFailure(info.kind if info else ErrorKind.UNKNOWN, Stop.ERROR, message)
            assert info is not None
            retry_number += 1
            if retry_number >= self.config.retry.max_attempts:
                return ModelFailure(info.kind, Stop.RETRIES_EXHAUSTED, f"{info.kind.value}: {message}")
            delay = self.config.retry.delay(retry_number, info.retry_after)
            if delay is None:
                return ModelFailure(info.kind, Stop.WAIT_TOO_LONG,
                                    f"asked to wait {info.retry_after:.0f} s (> max_retry_after)")
            self.emit("retry", model=model, attempt=attempt, kind=info.kind.value, reason=message,
                      status=info.status, delay_s=delay)
            await asyncio.sleep(delay)

    async def _after_overflow(self, model: str, state: TurnState, outcome: CallOutcome, plan: AttemptPlan,
                              tokens: int, max_tokens: int | None) -> ModelFailure | _Transient | None:
        """Make the next attempt differ from the rejected one (``None``), or give the model up.

        When nothing can change the request but it fits the window the provider itself stated
        (by our count), or no window is known at all, the rejection does not describe the
        request: it is treated as a transient failure (``_TRANSIENT``: retried under the retry
        policy, bounded by ``max_attempts``), not resent as if compressed.
        """
        ov = outcome.overflow
        assert ov is not None
        self.limits.learn_window(model, ov.limit)
        self.emit("overflow", mode="reactive", model=model, limit=ov.limit, requested=ov.requested,
                  counted=tokens, matched_by=ov.matched_by)
        windows = [w for w in (plan.window, ov.limit) if w]
        reserve = self.limits.reserve(model, max_tokens, min(windows) if windows else None)
        provider_input = self.limits.provider_input(tokens, ov.requested, plan.reserve,
                                                    getattr(ov, "input_tokens", None))
        target = self.limits.reactive_target(tokens, ov.limit, provider_input, reserve)
        if reserve < plan.reserve and target >= tokens:
            return None  # the smaller output reserve for the learned window alone makes room
        if state.compressions >= self.config.max_compressions_per_turn:
            return ModelFailure(ErrorKind.OVERFLOW, Stop.TOO_LARGE,
                                f"still too long after {state.compressions} compression(s)",
                                provider_input or tokens, ov.limit)
        before = state.messages
        # the provider rejected what we counted as fitting: aim below our own count whatever it stated
        await self.compressor.compress(model, state, min(target, int(tokens * 0.9)), window=min(windows) if windows else None)
        if state.messages == before and reserve >= plan.reserve:
            stated = ov.limit or plan.window
            if not stated or tokens + plan.reserve <= stated:
                return _TRANSIENT
            state.attempts.append(AttemptRecord(model, 0, "too_large", "compression could not shrink the request"))
            return ModelFailure(ErrorKind.OVERFLOW, Stop.TOO_LARGE,
                                f"compression could not shrink the request for {model}", provider_input or tokens,
                                ov.limit)
        return None

    async def _keep_partial(self, model: str, outcome: CallOutcome, state: TurnState, sink: EventSink | None) -> None:
        """Archive what a failed stream produced and tell the stream's reader."""
        if not outcome.partial and not outcome.partial_tool_calls and not outcome.partial_reasoning:
            return
        partial = PartialOutput(model=model, text=outcome.partial, tool_calls=outcome.partial_tool_calls,
                                reasoning=outcome.partial_reasoning)
        state.partials.append(partial)
        content: Any = outcome.partial or None
        if outcome.partial_reasoning:  # the thinking is kept too, ahead of the text it led to
            content = [{"type": "text", "text": f"[reasoning]\n{outcome.partial_reasoning}"},
                       *([{"type": "text", "text": outcome.partial}] if outcome.partial else [])]
        entry = ArchivedMessage(id=f"partial-{uuid.uuid4().hex[:10]}", stage="partial-output",
                                message=Message(role="assistant", content=content))
        state.archived.append(entry)
        self.memory.keep([entry])
        if sink is not None:
            await sink(StreamEvent(type="error", error=outcome.error, partial=outcome.partial,
                                   reasoning=outcome.partial_reasoning))
