"""The run-log event schema (version :data:`SCHEMA_VERSION`).

A run directory holds ``events.jsonl``: one JSON object per line, each an *event*. Every event
carries the same envelope (:class:`Envelope`) and the fields of its type. The models below are
the contract: :class:`~massgen_plugins.runlog.writer.RunLog` validates every event it writes
against them, and ``docs/logs.md`` documents them as a table.

Evolution rule: a new schema version may *add* event types and optional fields; it never renames
or removes one. Readers therefore accept unknown types and fields (they keep them), while the
writer rejects unknown fields so a typo in an emitter fails in its tests instead of silently
writing an event nobody reads. Free-form extras go into ``data``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SCHEMA_VERSION = 1
"""Bumped when event types or fields are added (never for removals: there are none)."""

__all__ = [
    "EVENT_MODELS",
    "SCHEMA_VERSION",
    "Envelope",
    "EventSchemaError",
    "Usage",
    "SkippedStage",
    "validate_event",
    "validated_event",
]


class EventSchemaError(ValueError):
    """An event that does not match its type's schema (unknown type, missing or unknown field)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Envelope(_Strict):
    """Fields every event has. ``seq``, ``ts``, ``elapsed_ms``, ``run_id`` and
    ``schema_version`` are filled in by the writer; emitters pass the rest."""

    type: str = Field(description="The event type, e.g. 'call_end'.")
    seq: int = Field(ge=0, description="Monotonic sequence number within the run (0, 1, 2, ...).")
    ts: str = Field(description="Wall-clock time, ISO 8601 UTC with milliseconds.")
    elapsed_ms: float = Field(ge=0, description="Milliseconds since the run started (monotonic clock).")
    run_id: str
    schema_version: int = SCHEMA_VERSION
    agent: str | None = Field(default=None, description="Agent id the event belongs to.")
    team: str | None = Field(default=None, description="Team id, when agents run as a team.")
    turn: int | None = Field(default=None, ge=0, description="The agent's turn number (1-based).")
    data: dict[str, Any] = Field(default_factory=dict, description="Free-form extras.")


class Usage(_Strict):
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)


class SkippedStage(_Strict):
    stage: str
    reason: str


# --------------------------------------------------------------------------- run


class RunStart(Envelope):
    """The run began. Written once per process that opens the run (a resumed run writes another
    ``run_start`` with ``resumed=true``)."""

    type: Literal["run_start"] = "run_start"
    title: str | None = Field(default=None, description="What the run is about (question, task).")
    agents: list[dict[str, Any]] = Field(default_factory=list, description="[{id, model, role?}]")
    config: dict[str, Any] = Field(default_factory=dict, description="Redacted run configuration.")
    resumed: bool = False
    pid: int | None = None
    host_version: str | None = Field(default=None, description="massgen-plugins version.")


class RunEnd(Envelope):
    """The run finished (``ok``), failed, or was interrupted."""

    type: Literal["run_end"] = "run_end"
    status: Literal["ok", "failed", "interrupted"] = "ok"
    duration_ms: float | None = Field(default=None, ge=0)
    error: str | None = None


# --------------------------------------------------------------------------- calls


class CallStart(Envelope):
    """One provider call (one attempt) is about to be made."""

    type: Literal["call_start"] = "call_start"
    call_id: str = Field(description="Shared by call_start and call_end of the same attempt.")
    model: str = Field(description="'provider/model'.")
    attempt: int = Field(default=1, ge=1, description="1 for the first try, 2+ for retries.")
    stream: bool = False
    input_tokens: int | None = Field(default=None, ge=0, description="Counted before sending.")
    max_tokens: int | None = Field(default=None, ge=0)
    messages: int | None = Field(default=None, ge=0, description="Number of messages sent.")
    options: list[str] | None = Field(default=None, description="Names of the request options set (never values).")


class CallEnd(Envelope):
    """One provider call (one attempt) ended."""

    type: Literal["call_end"] = "call_end"
    call_id: str
    model: str
    attempt: int = Field(default=1, ge=1)
    stream: bool = False
    outcome: Literal["ok", "error", "overflow", "cancelled"] = "ok"
    latency_ms: float = Field(ge=0)
    ttft_ms: float | None = Field(default=None, ge=0, description="Time to first token (streams).")
    usage: Usage = Field(default_factory=Usage)
    finish_reason: str | None = None
    error_kind: str | None = Field(default=None, description="ErrorKind value when outcome != ok.")
    cost_usd: float | None = Field(default=None, ge=0, description="When the emitter knows it.")


# --------------------------------------------------------------------------- guard decisions


class OverflowEvent(Envelope):
    """The conversation does not fit the model's window: detected before the call by counting
    (``proactive``) or from the provider's rejection (``reactive``)."""

    type: Literal["overflow"] = "overflow"
    mode: Literal["proactive", "reactive"]
    model: str
    limit: int | None = Field(default=None, ge=0, description="The window (or stated input limit).")
    requested: int | None = Field(default=None, ge=0, description="Tokens the request needed.")
    counted: int | None = Field(default=None, ge=0, description="Input tokens we counted.")
    budget: int | None = Field(default=None, ge=0, description="Target input tokens for compression.")
    matched_by: str | None = Field(default=None, description="How a reactive overflow was recognised.")


class CompressionEvent(Envelope):
    """One compression pass (the chain ran until the conversation fitted, or gave up)."""

    type: Literal["compression"] = "compression"
    stage: str = Field(description="The stage that produced the final result ('mask', 'native', ...).")
    model: str | None = None
    strategy: str | None = None
    budget: int | None = Field(default=None, ge=0)
    tokens_before: int = Field(ge=0)
    tokens_after: int = Field(ge=0)
    duration_ms: float = Field(default=0.0, ge=0)
    archived_ids: list[str] = Field(default_factory=list, description="Messages removed/replaced.")
    stages_tried: list[str] = Field(default_factory=list)
    skipped: list[SkippedStage] = Field(default_factory=list, description="Stages that did not help, and why.")
    fits: bool = True


class RetryEvent(Envelope):
    """A failed attempt will be retried after ``delay_s``."""

    type: Literal["retry"] = "retry"
    model: str
    attempt: int = Field(ge=1, description="The attempt that failed.")
    kind: str = Field(description="ErrorKind value: rate_limit, server_error, overloaded, timeout, ...")
    reason: str = Field(default="", description="Redacted error message.")
    status: int | None = None
    delay_s: float = Field(ge=0)


class FallbackEvent(Envelope):
    """The guard moved from one model to another."""

    type: Literal["fallback"] = "fallback"
    from_model: str
    to_model: str
    why: str = Field(description="overflow, rate_limit, quota, server_error, retries_exhausted, ...")
    detail: str = ""


class MemoryRead(Envelope):
    type: Literal["memory_read"] = "memory_read"
    scope: str = Field(default="session", description="user, agent, session or team.")
    query: str | None = None
    hits: int = Field(default=0, ge=0)
    ids: list[str] = Field(default_factory=list)
    store: str | None = Field(default=None, description="Store URL without credentials.")
    duration_ms: float | None = Field(default=None, ge=0)


class MemoryWrite(Envelope):
    type: Literal["memory_write"] = "memory_write"
    scope: str = "session"
    kind: str = Field(default="message", description="message, archive, fact, note, checkpoint ...")
    ids: list[str] = Field(default_factory=list)
    count: int = Field(default=1, ge=0)
    bytes: int | None = Field(default=None, ge=0)
    store: str | None = None
    duration_ms: float | None = Field(default=None, ge=0)


class ToolCallEvent(Envelope):
    """A tool executed by the agent (not a provider call)."""

    type: Literal["tool_call"] = "tool_call"
    tool: str
    duration_ms: float | None = Field(default=None, ge=0)
    outcome: Literal["ok", "error"] = "ok"
    error: str | None = None


class ErrorEvent(Envelope):
    """An error the run did not recover from at that point (or chose to report)."""

    type: Literal["error"] = "error"
    kind: str = Field(description="ErrorKind value or an exception class name.")
    message: str = Field(description="Redacted message.")
    model: str | None = None
    fatal: bool = False


class NoteEvent(Envelope):
    """Anything else worth a line in the timeline (a human-readable message)."""

    type: Literal["note"] = "note"
    message: str


class PluginSkipped(Envelope):
    """A plugin's hook implementation was skipped: it raised, returned the wrong type, or missed
    its deadline. The turn carried on without it."""

    type: Literal["plugin_skipped"] = "plugin_skipped"
    hook: str = Field(description="The hook: detect_overflow, count_tokens, compress, list_models, ...")
    plugin: str = Field(description="The plugin's name (entry point or built-in module path).")
    status: Literal["error", "rejected", "timeout"]
    reason: str = Field(description="Redacted: the exception, the invalid result, or the missed deadline.")
    seconds: float = Field(default=0.0, ge=0, description="How long the implementation ran (or was waited for).")


EVENT_MODELS: dict[str, type[Envelope]] = {
    m.model_fields["type"].default: m
    for m in (RunStart, RunEnd, CallStart, CallEnd, OverflowEvent, CompressionEvent, RetryEvent,
              FallbackEvent, MemoryRead, MemoryWrite, ToolCallEvent, ErrorEvent, NoteEvent, PluginSkipped)
}
"""Event type name -> its pydantic model."""


def validate_event(event: dict[str, Any]) -> dict[str, Any]:
    """Validate one complete event (envelope included) and return it as plain JSON-able data.

    :raises EventSchemaError: for an unknown type or a field that does not match the schema.
    """
    return validated_event(event).model_dump(mode="json", exclude_none=True)


def validated_event(event: dict[str, Any]) -> Envelope:
    """Validate one complete event (envelope included) into its event model.

    :raises EventSchemaError: for an unknown type or a field that does not match the schema.
    """
    kind = event.get("type")
    model = EVENT_MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise EventSchemaError(
            f"unknown run-log event type {kind!r}; known types: {', '.join(sorted(EVENT_MODELS))}"
        )
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<event>'}: {err['msg']}" for err in exc.errors()
        )
        raise EventSchemaError(f"invalid {kind!r} event: {problems}") from None


def schema_table() -> list[tuple[str, str, str, str]]:
    """``(event type, field, type, description)`` rows for every event-specific field (docs)."""
    rows: list[tuple[str, str, str, str]] = []
    common = set(Envelope.model_fields)
    for name, model in EVENT_MODELS.items():
        for field_name, info in model.model_fields.items():
            if field_name in common:
                continue
            annotation = getattr(info.annotation, "__name__", None) or str(info.annotation)
            rows.append((name, field_name, annotation.replace("typing.", ""), info.description or ""))
    return rows
