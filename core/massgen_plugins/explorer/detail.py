"""A run page's data: timeline lanes and markers, calls against windows, compressions, retries,
fallbacks, findings and cost, from one run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .models import CompressionView, RunDetail, RunSummary
from .stores import StoreRegistry

__all__ = ["MARK_TYPES", "run_detail", "run_store_url"]

MARK_TYPES = ("overflow", "compression", "retry", "fallback", "error", "note", "tool_call",
              "memory_read", "memory_write", "run_start", "run_end")


def run_store_url(events: list[dict[str, Any]], path: Path) -> str | None:
    """The memory store the run wrote its sessions to: from its memory events, else a
    ``memory.db`` beside its log."""
    for e in events:
        url = e.get("store")
        if e.get("type") in ("memory_write", "memory_read") and isinstance(url, str) and url:
            return url
    local = path / "memory.db"
    return "sqlite:///" + str(local.absolute()) if local.is_file() else None


def run_detail(summary: RunSummary, stores: StoreRegistry | None = None) -> RunDetail:
    from ..runlog.analysis import find_issues, summarize_run
    from ..runlog.callpoints import call_points, model_windows
    from ..runlog.html import describe_event
    from ..runlog.reader import read_run

    path = Path(summary.path)
    run = read_run(path)
    events = run.events
    stats = summarize_run(events, run.meta, source=run.source, skipped_lines=len(run.skipped), status=run.status)
    stats["run"]["status"] = summary.status
    findings = find_issues(stats, events)
    lanes = list(dict.fromkeys([*(stats["run"].get("agents") or []),
                                *(str(e["agent"]) for e in events if e.get("agent"))]))
    marks = [{"seq": e.get("seq"), "type": e.get("type"), "agent": e.get("agent"),
              "t_ms": float(e.get("elapsed_ms") or 0.0), "label": describe_event(e)}
             for e in events if e.get("type") in MARK_TYPES]
    compressions = [CompressionView(
        seq=int(e.get("seq") or 0), agent=e.get("agent"), turn=e.get("turn"), t_ms=float(e.get("elapsed_ms") or 0),
        stage=str(e.get("stage") or "?"), model=e.get("model"), strategy=e.get("strategy"), budget=e.get("budget"),
        tokens_before=int(e.get("tokens_before") or 0), tokens_after=int(e.get("tokens_after") or 0),
        archived=len(e.get("archived_ids") or []), stages_tried=list(e.get("stages_tried") or []),
        skipped=[{"stage": str(s.get("stage")), "reason": str(s.get("reason"))}
                 for s in e.get("skipped") or [] if isinstance(s, dict)],
        fits=bool(e.get("fits", True))) for e in events if e.get("type") == "compression"]
    retries = [{"seq": e.get("seq"), "agent": e.get("agent"), "model": e.get("model"), "attempt": e.get("attempt"),
                "kind": e.get("kind"), "reason": e.get("reason"), "status": e.get("status"),
                "delay_s": e.get("delay_s"), "t_ms": e.get("elapsed_ms")} for e in events if e.get("type") == "retry"]
    fallbacks = [{"seq": e.get("seq"), "agent": e.get("agent"), "from": e.get("from_model"), "to": e.get("to_model"),
                  "why": e.get("why"), "detail": e.get("detail"), "t_ms": e.get("elapsed_ms")}
                 for e in events if e.get("type") == "fallback"]
    store_key = None
    url = run_store_url(events, path)
    if stores is not None and url:
        store_key = stores.add(url, f"run {summary.id}")
    seqs = [int(e["seq"]) for e in events if isinstance(e.get("seq"), int)]
    return RunDetail(
        run=summary, summary=stats, findings=findings, lanes=lanes or ["run"], calls=call_points(events),
        windows=model_windows(events), marks=marks, compressions=compressions, retries=retries,
        fallbacks=fallbacks, cost_by_model=stats["calls"]["by_model"], cost_by_agent=stats["calls"]["by_agent"],
        end_ms=max((float(e.get("elapsed_ms") or 0) for e in events), default=0.0),
        next_seq=(max(seqs) + 1) if seqs else 0, store=store_key,
    )
