"""The compression chain runner: :func:`compress_conversation` (async) and
:func:`compress_conversation_sync`.

It feeds the installed ``compress`` stages (built-in and third-party, ordered by
:mod:`massgen_plugins.stages`) one after the other until the conversation fits, validates every
stage's output (provider rules, preserved system prompt and latest user message, archive
completeness) and discards an output that breaks a rule, records what each stage did, then
re-counts the result through the ``count_tokens`` hook and either returns it within budget or
raises :class:`CannotFitError` saying by how much it cannot fit.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..errors import InputError
from ..hookcall import Implementation, strict_mode
from ..modelref import parse_model
from ..redact import describe_error
from ..stages import stage_meta
from ..tokens import counter_for, message_key
from ..types import ArchivedMessage, CompressionRequest, CompressionResult, Message
from .conversation import as_messages, head_end, latest_user_index, message_id
from .errors import CannotFitError, CompressionReentryError, InvalidConversationError, InvariantViolation
from .invariants import check_preserved, validate_conversation
from .strategy import Strategy, resolve_strategy

_ACTIVE: contextvars.ContextVar[bool] = contextvars.ContextVar("massgen_compression_active", default=False)

StageStatus = Literal["applied", "no-change", "skipped", "rejected", "not-allowed"]


def compression_active() -> bool:
    """True while a compression chain runs in this context (a summarizer call is in progress).

    A guard that compresses before a call must not compress when this is true: that is how a
    summarizer call can never trigger compression of itself.
    """
    return _ACTIVE.get()


class StageRun(BaseModel):
    """What one stage did."""

    name: str
    plugin: str
    status: StageStatus
    tokens_before: int
    tokens_after: int
    seconds: float = 0.0
    reason: str | None = Field(default=None, description="Why it was skipped or rejected.")
    notes: list[str] = Field(default_factory=list)
    archived: int = 0


class CompressionReport(BaseModel):
    """The outcome of :func:`compress_conversation`."""

    model: str
    strategy: Strategy
    budget: int
    target: int
    tokens_before: int = Field(description="Counted tokens of the input, margin included.")
    tokens_after: int = Field(description="Counted tokens of the output after the final re-count.")
    fits: bool
    counting: dict[str, Any] = Field(default_factory=dict, description="method, exact, margin")
    stages: list[StageRun] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    tools: list[dict[str, Any]] = Field(default_factory=list)
    archive: list[ArchivedMessage] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    seconds: float = 0.0

    @property
    def ran(self) -> list[str]:
        """Names of the stages that changed the conversation."""
        return [s.name for s in self.stages if s.status == "applied"]

    def summary(self) -> dict[str, Any]:
        """The report as JSON-ready data without the messages and the archive."""
        return self.model_dump(mode="json", exclude={"messages", "archive", "tools"})


def ordered_stages(hooks: Any = None, provider: str | None = None) -> list[tuple[str, int, Implementation]]:
    """``(name, order, implementation)`` of every installed stage that may serve ``provider``'s
    models (every stage when ``None``), in chain order.

    The first implementation of each stage name in call order wins (third-party plugins are
    called before built-ins, so a plugin stage named ``summarize`` replaces the built-in one).
    """
    if hooks is None:
        from ..manager import get_hooks

        hooks = get_hooks()
    seen: set[str] = set()
    out: list[tuple[str, int, Implementation]] = []
    for impl in hooks.compress_stages(provider):
        name, order = stage_meta(impl.function, impl.plugin_name)
        if name in seen:
            continue
        seen.add(name)
        out.append((name, order, impl))
    out.sort(key=lambda item: item[1])
    return out


def _resolve_budget(tokens: int, budget: int | None, ratio: float | None) -> int:
    if (budget is None) == (ratio is None):
        raise InputError("give exactly one of budget (tokens) or ratio")
    if budget is not None:
        if budget <= 0:
            raise InputError(f"budget must be a positive number of tokens, not {budget}")
        return int(budget)
    assert ratio is not None
    if ratio <= 0:
        raise InputError(f"ratio must be positive, not {ratio}")
    return max(1, int(tokens / ratio) if ratio > 1 else int(tokens * ratio))


def _repair(messages: list[Message], provider: str) -> tuple[list[Message], list[str]]:
    """Fix what can be fixed without changing meaning: Anthropic's trailing whitespace on a final
    assistant message."""
    notes: list[str] = []
    if provider == "anthropic" and messages and messages[-1].role == "assistant":
        last = messages[-1]
        if isinstance(last.content, str) and last.content != last.content.rstrip():
            fixed = last.model_copy()
            fixed.content = last.content.rstrip()
            messages = [*messages[:-1], fixed]
            notes.append("stripped trailing whitespace from the final assistant message (Anthropic rule)")
    return messages, notes


def _protected_tokens(messages: list[Message], counter: Any, tools: list[dict[str, Any]]) -> int:
    head = head_end(messages)
    keep = list(messages[:head])
    latest = latest_user_index(messages)
    if latest is not None:
        keep.append(messages[latest])
    return counter.with_margin(sum(counter.message(m) for m in keep) + counter.tools(tools) + 3)


def _complete_archive(stage: str, before: list[Message], after: list[Message],
                      archived: list[ArchivedMessage]) -> tuple[list[ArchivedMessage], int]:
    """Archive records for every message ``stage`` removed without archiving (nothing is lost);
    record ids normalised to :func:`message_id` (a stage's own id is kept as ``stage_id``)."""
    for record in archived:  # one id scheme, so provenance chains across stages link up
        canonical_id = message_id(record.message)
        if record.id != canonical_id:
            extra_fields = record.model_extra if record.model_extra is not None else {}
            extra_fields.setdefault("stage_id", record.id)
            record.id = canonical_id
    removed = Counter(message_key(m) for m in before) - Counter(message_key(m) for m in after)
    if not removed:
        return archived, 0
    for record in archived:
        key = message_key(record.message)
        if removed.get(key):
            removed[key] -= 1
    extra = []
    for position, m in enumerate(before):
        key = message_key(m)
        if removed.get(key, 0) > 0:
            removed[key] -= 1
            extra.append(ArchivedMessage(id=message_id(m), message=m, replaced_by=None, stage=stage,
                                         position=position, archived_by="host"))
    return [*archived, *extra], len(extra)


async def compress_conversation(
    messages: Sequence[Message | dict[str, Any]],
    *,
    model: str,
    budget: int | None = None,
    ratio: float | None = None,
    strategy: str | Strategy | dict[str, Any] | None = "balanced",
    tools: Sequence[dict[str, Any]] | None = None,
    options: dict[str, Any] | None = None,
    agent_strategy: str | Strategy | dict[str, Any] | None = None,
    hooks: Any = None,
    archive: Sequence[ArchivedMessage] | None = None,
) -> CompressionReport:
    """Compress ``messages`` for ``model`` until they fit ``budget`` tokens.

    :param messages: OpenAI Chat Completions messages (dicts or :class:`Message`).
    :param model: the model the conversation is for, ``provider/model``; it picks the tokenizer,
        the provider rules checked, and (by default) the summarizer.
    :param budget: the input-token limit the result must fit (margin of an estimated count
        included). Give this **or** ``ratio``.
    :param ratio: compress to a fraction of the current size: ``0.25`` and ``4`` both mean "to a
        quarter".
    :param strategy: ``"conservative"``, ``"balanced"`` (default), ``"aggressive"``, a dict or a
        :class:`Strategy`.
    :param agent_strategy: per-agent overrides applied on top of ``strategy`` (a dict of
        :class:`Strategy` fields, a preset name or a :class:`Strategy`).
    :param options: per-call overrides: :class:`Strategy` fields (``keep_recent_tokens``,
        ``summarizer_model``, ``stages``, ...) are applied last; any other keys are passed to
        the stages in ``CompressionRequest.options`` (for third-party stages).
    :param tools: the tool schemas sent with the call (counted, passed to stages).
    :param hooks: a :class:`~massgen_plugins.manager.Hooks` (default: the process host's).
    :param archive: what earlier compressions of this conversation archived (a session's
        archive). Stages receive it, with what this run archives so far, as
        ``request.options["archived"]``: the summarizer reads an OpenAI compaction item's
        originals there instead of an opaque placeholder.
    :returns: a :class:`CompressionReport`: ``messages`` (the result), ``archive`` (every message
        removed or replaced, with ``replaced_by`` provenance), ``stages`` (per stage: status
        ``applied``/``no-change``/``skipped``/``rejected``/``not-allowed``, tokens before/after,
        seconds, reason), ``tokens_before``/``tokens_after``, ``fits``.
    :raises InvalidConversationError: (an ``InputError``) when the input itself breaks a
        provider rule (orphaned tool result, no user message, ...).
    :raises CannotFitError: when even the system prompt, the latest user message and the
        smallest truncation exceed the budget; ``.over_by`` says by how many tokens, ``.report``
        holds the chain's report.
    :raises CompressionReentryError: when called from inside a running compression (a
        summarizer call never compresses itself).

    The result always satisfies: system prompt and latest user message verbatim; every tool
    call with its result; valid for the provider (:func:`validate_conversation`); within budget
    after a final re-count through the ``count_tokens`` hook.
    """
    if _ACTIVE.get():
        raise CompressionReentryError(
            "compression was requested from inside a compression stage (e.g. by the summarizer's own "
            "call); a summarizer call never triggers compression of itself")
    started = time.perf_counter()
    ref = parse_model(model)
    provider = ref.provider
    tool_list = list(tools or [])
    original = as_messages(messages)
    current, notes = _repair(original, provider)
    validate_conversation(current, provider)

    options = dict(options or {})
    known = {k: v for k, v in options.items() if k in Strategy.model_fields and k != "name"}
    extra = {k: v for k, v in options.items() if k not in known}
    base: Any = strategy
    agent_over: Any = None
    if isinstance(agent_strategy, (str, Strategy)) or (isinstance(agent_strategy, dict) and "name" in agent_strategy):
        base = agent_strategy  # the agent names its own preset
    elif isinstance(agent_strategy, dict):
        agent_over = agent_strategy
    strat = resolve_strategy(base, agent_over, known)

    counter = counter_for(model)
    before = counter.with_margin(counter.count(current, tool_list))
    limit = _resolve_budget(before, budget, ratio)
    target = min(limit, strat.target(limit))
    counting = {"method": counter.method, "exact": counter.exact, "margin": counter.margin}
    report = CompressionReport(model=model, strategy=strat, budget=limit, target=target, tokens_before=before,
                               tokens_after=before, fits=before <= limit, counting=counting, notes=notes,
                               tools=tool_list)
    if before <= limit:
        report.messages = current
        report.notes.append("already within budget: nothing to do")
        report.seconds = time.perf_counter() - started
        return report

    floor = _protected_tokens(current, counter, tool_list)
    if floor > limit:
        report.messages = current
        raise CannotFitError(
            f"cannot fit: the system prompt, the tool schemas and the latest user message alone need {floor:,} "
            f"tokens, {floor - limit:,} more than the budget of {limit:,}",
            needed=floor, budget=limit, report=report)

    stages = ordered_stages(hooks, provider)
    prior = list(archive or [])
    archived_now: list[ArchivedMessage] = []
    tokens_now = before
    token = _ACTIVE.set(True)
    try:
        passes = [target]
        while passes:
            attempt_target = passes.pop()
            for name, _order, impl in stages:
                if tokens_now <= attempt_target:
                    break
                if not strat.allows(name):
                    if attempt_target == target:
                        report.stages.append(StageRun(name=name, plugin=impl.plugin_name, status="not-allowed",
                                                      tokens_before=tokens_now, tokens_after=tokens_now,
                                                      reason=f"not allowed by strategy {strat.name!r}"))
                    continue
                run, result = await _run_stage(name, impl, model, current, tool_list, attempt_target, limit,
                                               strat, {**extra, "archived": [*prior, *archived_now]}, tokens_now,
                                               original, provider, counter, hooks)
                if result is not None:
                    archived, added = _complete_archive(name, current, result.messages, list(result.archived))
                    if added:
                        run.notes.append(f"{added} removed message(s) were not archived by the stage; "
                                         "the host archived them")
                    run.archived = len(archived)
                    archived_now.extend(archived)
                    current = result.messages
                    tokens_now = run.tokens_after
                report.stages.append(run)
            if attempt_target == target and tokens_now <= limit:
                # the final count (count_tokens hook) may disagree with the local one: one more
                # pass, aimed lower by the ratio of the two
                final = await _final_count(model, current, tool_list, counter, hooks)
                if final > limit:
                    lower = max(1, int(target * tokens_now / final) - 1)
                    report.notes.append(f"the final re-count said {final:,} tokens (local {tokens_now:,}); "
                                        f"running the chain again aimed at {lower:,}")
                    passes.append(lower)
    finally:
        _ACTIVE.reset(token)

    final = await _final_count(model, current, tool_list, counter, hooks)
    report.messages = current
    report.archive = archived_now
    report.tokens_after = final
    report.fits = final <= limit
    report.seconds = time.perf_counter() - started
    if not report.fits:
        raise CannotFitError(
            f"cannot fit: after every allowed stage the conversation still needs {final:,} tokens, "
            f"{final - limit:,} more than the budget of {limit:,} (the system prompt, the latest user "
            "message and the tool calls and results of the latest turn must stay)",
            needed=final, budget=limit, report=report)
    validate_conversation(current, provider, budget=limit, tokens=final)
    return report


async def _run_stage(name: str, impl: Implementation, model: str, current: list[Message],
                     tools: list[dict[str, Any]], target: int, limit: int, strat: Strategy,
                     extra: dict[str, Any], tokens_now: int, original: list[Message], provider: str,
                     counter: Any, hooks: Any) -> tuple[StageRun, CompressionResult | None]:
    request = CompressionRequest(model=model, messages=current, tools=tools, budget=target, strategy=strat.name,
                                 options={**extra, "strategy": strat.model_dump(), "budget_limit": limit})
    run = StageRun(name=name, plugin=impl.plugin_name, status="no-change", tokens_before=tokens_now,
                   tokens_after=tokens_now)
    if hooks is None:
        from ..manager import get_hooks

        hooks = get_hooks()
    # bounded by the ``compress`` deadline; a raising or late stage is skipped with its reason
    raw, error, run.seconds = await hooks.run_stage(impl, request)
    if error is not None:
        run.status, run.reason = "skipped", describe_error(error)
        return run, None
    if raw is None:
        run.reason = "nothing to do for this conversation"
        return run, None
    try:
        result = raw if isinstance(raw, CompressionResult) else CompressionResult.model_validate(raw)
        result.messages = as_messages(result.messages)
        validate_conversation(result.messages, provider)
        check_preserved(original, result.messages)
    except (InvalidConversationError, InvariantViolation, ValueError, TypeError) as exc:
        if strict_mode():
            raise
        run.status, run.reason = "rejected", f"output discarded: {describe_error(exc)}"
        return run, None
    after = counter.with_margin(counter.count(result.messages, tools))
    run.notes = list(result.notes)
    if after >= tokens_now:
        run.reason = f"output was not smaller ({after:,} tokens); discarded"
        return run, None
    run.status, run.tokens_after = "applied", after
    return run, result


async def _final_count(model: str, messages: list[Message], tools: list[dict[str, Any]], counter: Any,
                 hooks: Any) -> int:
    """The result's size through the ``count_tokens`` hook (local counter when none answers)."""
    from ..types import TokenCountRequest

    if hooks is None:
        from ..manager import get_hooks

        hooks = get_hooks()
    chosen = await hooks.acount_tokens(TokenCountRequest(model=model, messages=messages, tools=tools))
    if chosen.value is None:
        return counter.with_margin(counter.count(messages, tools))
    value = chosen.value
    return int(math.ceil(value.tokens * (1.0 + (value.margin or 0.0))))


def _run_in_new_loop(coro: Any) -> Any:
    """Run ``coro`` to completion in a fresh event loop. (Not ``asyncio.run``: on Python 3.11 its
    SIGINT bookkeeping builds the repr of the finished task -- and so of the whole report.)"""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def compress_conversation_sync(messages: Sequence[Message | dict[str, Any]], **kwargs: Any) -> CompressionReport:
    """:func:`compress_conversation` for synchronous callers (works inside a running event loop
    too, by running the chain in a worker thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _run_in_new_loop(compress_conversation(messages, **kwargs))  # type: ignore[no-any-return]
    from concurrent.futures import ThreadPoolExecutor

    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(context.run, _run_in_new_loop, compress_conversation(messages, **kwargs)).result()
