"""One provider call, streamed or not, with its timing, events and failure classification.

This is the only place the guard touches the ``complete``/``stream`` hooks. It never retries:
it reports what happened (:class:`CallOutcome`) and the turn loop in :mod:`.session` decides.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..hookcall import bounded
from ..redact import redact

if TYPE_CHECKING:
    from ..runlog import RunLog
    from ..types import CompletionRequest, CompletionResponse, ErrorInfo, Overflow, ProviderSettings, StreamEvent

EventSink = Callable[["StreamEvent"], Awaitable[None]]

#: call ids: 12 hex digits, as ``uuid4().hex[:12]`` gave, without a system call per call
_ids = random.Random()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ids.seed)  # a forked child draws its own ids


@dataclass
class CallOutcome:
    """What one attempt produced."""

    response: CompletionResponse | None = None
    error: Any = None  # the SDK exception, or a raw in-stream error event
    info: ErrorInfo | None = None
    overflow: Overflow | None = None
    partial: str = ""
    partial_reasoning: str = ""  # reasoning/thinking streamed before a failure (kept with the text)
    partial_tool_calls: list[dict[str, Any]] = field(default_factory=list)
    latency_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.response is not None


@dataclass
class CallContext:
    """Who is calling, for the run log."""

    agent: str
    turn: int
    log: RunLog | None
    timeout_margin: float = 5.0


async def classify(error: BaseException, model: str) -> tuple[ErrorInfo, Overflow | None]:
    """Classify ``error`` through the hooks, without blocking the event loop: (what kind of
    failure, overflow details or None)."""
    from ..manager import get_hooks
    from ..types import ErrorInfo, ErrorKind

    provider = model.split("/", 1)[0]
    hooks = get_hooks()
    overflow = (await hooks.adetect_overflow(error, provider=provider, model=model)).value
    info = (await hooks.aclassify_error(error, provider=provider)).value
    if info is None:
        info = ErrorInfo(kind=ErrorKind.UNKNOWN, retryable=False, provider=provider, message=str(error))
    if overflow is not None:
        info = info.model_copy(update={"kind": ErrorKind.OVERFLOW, "retryable": False})
    return info, overflow


def _event(ctx: CallContext, type_: str, **fields: Any) -> None:
    if ctx.log is not None:
        ctx.log.write(type_, agent=ctx.agent, turn=ctx.turn, **fields)


async def call_model(
    request: CompletionRequest,
    settings: ProviderSettings,
    ctx: CallContext,
    *,
    attempt: int,
    input_tokens: int | None,
    sink: EventSink | None = None,
) -> CallOutcome:
    """Make one call (streamed when ``sink`` is given, each event forwarded to it)."""
    from ..manager import get_hooks

    call_id = f"{_ids.getrandbits(48):012x}"
    stream = sink is not None
    # which options were set, never their values (a stop sequence or a schema can be content)
    named = sorted({*request.options, *(["temperature"] if request.temperature is not None else [])})
    _event(ctx, "call_start", call_id=call_id, model=request.model, attempt=attempt, stream=stream,
           input_tokens=input_tokens, max_tokens=request.max_tokens, messages=len(request.messages),
           **({"options": named} if named else {}))
    started = time.perf_counter()
    outcome = CallOutcome()
    ttft: float | None = None
    # a hard ceiling above the SDK's own timeout: the guard never hangs, whatever the plugin does
    ceiling = (request.timeout or settings.timeout) + ctx.timeout_margin
    try:
        if sink is not None:
            emit = sink

            async def consume() -> None:
                nonlocal ttft
                async for event in get_hooks().stream(request, settings):
                    if event.type == "text":
                        if ttft is None:
                            ttft = (time.perf_counter() - started) * 1000
                        outcome.partial += event.delta
                    elif event.type == "reasoning":
                        outcome.partial_reasoning += event.delta
                    elif event.type == "tool_call" and event.tool_call is not None:
                        outcome.partial_tool_calls.append(event.tool_call.model_dump())
                    elif event.type == "error":
                        raise _StreamErrorEvent(event.error)
                    elif event.type == "done":
                        outcome.response = event.response
                    if event.type != "done":
                        await emit(event)

            await bounded(consume(), ceiling)
            if outcome.response is None:
                raise ConnectionError("the stream ended without a final event (truncated stream)")
        else:
            outcome.response = await get_hooks().complete(request, settings, ceiling=ceiling)
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise
    except Exception as exc:
        error = exc.error if isinstance(exc, _StreamErrorEvent) else exc
        if isinstance(exc, asyncio.TimeoutError):
            error = TimeoutError(f"no answer from {request.model} within {ceiling:.0f} s")
        outcome.error = error
        outcome.info, outcome.overflow = await classify(error, request.model)
    outcome.latency_ms = (time.perf_counter() - started) * 1000
    if outcome.response is not None:
        usage = outcome.response.usage
        _event(ctx, "call_end", call_id=call_id, model=request.model, attempt=attempt, stream=stream,
               outcome="ok", latency_ms=outcome.latency_ms, ttft_ms=ttft,
               usage={"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens},
               finish_reason=outcome.response.finish_reason)
    else:
        kind = outcome.info.kind.value if outcome.info else "unknown"
        _event(ctx, "call_end", call_id=call_id, model=request.model, attempt=attempt, stream=stream,
               outcome="overflow" if outcome.overflow else "error", latency_ms=outcome.latency_ms,
               ttft_ms=ttft, error_kind=kind)
    return outcome


class _StreamErrorEvent(Exception):
    """Carries an in-stream error the plugin yielded (rather than raised)."""

    def __init__(self, error: Any) -> None:
        super().__init__(redact(str(error)))
        self.error = error  # kept raw: the detectors read dicts and event objects structurally
