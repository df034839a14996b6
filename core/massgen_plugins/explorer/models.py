"""The explorer's JSON API payloads (pydantic models: the documented contract of ``/api/...``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CompressionDiff", "CompressionView", "DiffRow", "EventPage", "MemoryHit", "MemorySearch", "MessageView",
    "RunDetail", "RunList", "RunSummary", "SessionView", "StoreInfo", "TurnView",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunSummary(_Model):
    """One row of the Runs page."""

    id: str = Field(description="Run id, unique among the runs the explorer found (the URL key).")
    source: str = Field(description="'massgen-plugins' (ours) or 'massgen'.")
    path: str
    status: str = Field(description="ok, failed, interrupted, recovered, running or incomplete.")
    status_detail: str | None = None
    title: str | None = None
    agents: list[str] = Field(default_factory=list)
    models: list[str] = Field(default_factory=list)
    started_at: str | None = None
    duration_ms: float | None = None
    events: int = 0
    calls: int = 0
    failed_calls: int = 0
    overflows: int = 0
    compressions: int = 0
    tokens_saved: int = 0
    retries: int = 0
    fallbacks: int = 0
    errors: int = 0
    cost_usd: float | None = None
    cost_complete: bool = True
    live: bool = Field(default=False, description="The run is still being written (its process is alive).")


class RunList(_Model):
    runs: list[RunSummary]
    total: int = Field(description="Runs found before filtering.")
    dirs: list[str] = Field(description="Directories searched.")


class CompressionView(_Model):
    seq: int
    agent: str | None = None
    turn: int | None = None
    t_ms: float = 0.0
    stage: str
    model: str | None = None
    strategy: str | None = None
    budget: int | None = None
    tokens_before: int
    tokens_after: int
    archived: int = 0
    stages_tried: list[str] = Field(default_factory=list)
    skipped: list[dict[str, str]] = Field(default_factory=list)
    fits: bool = True


class RunDetail(_Model):
    """Everything a run page draws."""

    run: RunSummary
    summary: dict[str, Any] = Field(description="The deterministic analysis (`logs summary --json`).")
    findings: list[dict[str, Any]]
    lanes: list[str] = Field(description="Agents, one timeline lane each.")
    calls: list[dict[str, Any]] = Field(description="One point per provider call (callpoints.call_points).")
    windows: dict[str, int] = Field(description="model -> context window.")
    marks: list[dict[str, Any]] = Field(description="Timeline markers: overflow, compression, retry, fallback, error, ...")
    compressions: list[CompressionView]
    retries: list[dict[str, Any]]
    fallbacks: list[dict[str, Any]]
    cost_by_model: dict[str, dict[str, Any]]
    cost_by_agent: dict[str, dict[str, Any]]
    end_ms: float
    next_seq: int = Field(description="Pass as ?after= to /api/runs/<id>/events to get what comes next.")
    store: str | None = Field(default=None, description="Key of the memory store this run wrote to, if known.")


class EventPage(_Model):
    events: list[dict[str, Any]]
    next_seq: int
    more: bool = Field(description="More events exist after this page.")


class MessageView(_Model):
    id: str
    role: str
    text: str
    tokens: int | None = None
    tool_calls: list[str] = Field(default_factory=list)
    stage: str | None = None
    replaced_by: str | None = None


class DiffRow(_Model):
    """One row of a compression's side-by-side diff."""

    kind: str = Field(description="kept, summarized, masked, truncated or dropped.")
    before: list[MessageView] = Field(default_factory=list, description="The original message(s), archived.")
    after: MessageView | None = Field(default=None, description="What the conversation holds now (the gist/stub).")


class CompressionDiff(_Model):
    run: str
    seq: int
    stage: str
    session_id: str | None
    store: str | None
    tokens_before: int
    tokens_after: int
    counts: dict[str, int]
    rows: list[DiffRow]
    note: str | None = Field(default=None, description="Why the diff is partial, when it is.")


class StoreInfo(_Model):
    key: str = Field(description="Pass as ?store= to the memory endpoints.")
    url: str
    label: str
    exists: bool


class MemoryHit(_Model):
    kind: str = Field(description="'memory' (long-term) or 'archive' (a message compression removed).")
    id: str
    text: str
    score: float = 0.0
    scope: dict[str, str | None] = Field(default_factory=dict)
    session_id: str | None = None
    turn: int | None = None
    stage: str | None = None
    replaced_by: str | None = None
    memory_kind: str | None = None
    updated_at: str | None = None


class MemorySearch(_Model):
    query: str
    store: str
    hits: list[MemoryHit]
    sessions_searched: int = 0
    plan: str | None = None


class TurnView(_Model):
    turn: int
    created_at: str
    messages: list[MessageView]
    snapshot: list[MessageView] | None = None


class SessionView(_Model):
    session_id: str
    store: str
    scope: dict[str, str | None]
    turns: list[TurnView]
    archive: list[MessageView]
