"""Read MassGen's log directories into the common event list.

Layout (MassGen ``logger_config.py``; base ``.massgen/massgen_logs`` or ``MASSGEN_LOG_BASE_DIR``)::

    log_YYYYMMDD_HHMMSS_ffffff/
      turn_N/
        ANALYSIS_REPORT.md
        attempt_M/                  # a new attempt after each orchestration restart
          events.jsonl              # {timestamp, event_type, agent_id, round_number, data} per line
          metrics_summary.json      # {meta, totals, tools, rounds, api_timing, agents, subagents}
          metrics_events.json       # {meta, tool_executions[], round_completions[]}
          status.json               # live status incl. agents[].reliability
          compression_debug/compression_<ms>_{input,result,retry_input}.json

The path given may be the ``log_*`` directory, a ``turn_N`` or an ``attempt_M`` directory.
MassGen records usage per *round*, not per API call, so each ``round_completions`` entry becomes
one ``call_end`` event (``data.synthetic = "massgen_round"``); tool executions become
``tool_call`` events; ``compression_debug`` files become ``compression`` events (token counts
estimated from the saved conversations); ``agent_restart``/``error`` events keep their meaning;
text/thinking/status chatter is counted, not copied.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .reader import RunData, SkippedLine, read_jsonl
from .redaction import redact_data

__all__ = ["find_massgen_log_dirs", "honest_status", "is_massgen_dir", "massgen_log_bases", "read_massgen_run"]

_TURN = re.compile(r"^turn_(\d+)$")
_ATTEMPT = re.compile(r"^attempt_(\d+)$")
_COMPRESSION = re.compile(r"^compression_(\d+)_(input|result|retry_input)\.json$")
_BACKENDS = {"claude": "anthropic", "claude_code": "anthropic", "grok": "xai", "chatcompletion": "openai",
             "response": "openai", "azure_openai": "openai", "zai": "zai"}
_NOISE = {"text", "thinking", "status", "stream_chunk", "content", "reasoning"}
_ATTEMPT_FILES = ("events.jsonl", "metrics_summary.json", "metrics_events.json", "status.json")


def _attempt_dirs(path: Path) -> list[tuple[int, int, Path]]:
    """``(turn, attempt, dir)`` for every attempt directory under ``path``, in order."""
    if _ATTEMPT.match(path.name):
        turn = _TURN.match(path.parent.name)
        return [(int(turn.group(1)) if turn else 1, int(_ATTEMPT.match(path.name).group(1)), path)]  # type: ignore[union-attr]
    if _TURN.match(path.name):
        turn_no = int(_TURN.match(path.name).group(1))  # type: ignore[union-attr]
        found = [(turn_no, int(m.group(1)), p) for p in path.iterdir()
                 if p.is_dir() and (m := _ATTEMPT.match(p.name))]
        if not found and any((path / f).exists() for f in _ATTEMPT_FILES):
            found = [(turn_no, 1, path)]
        return sorted(found)
    out: list[tuple[int, int, Path]] = []
    for child in path.iterdir() if path.is_dir() else ():
        if child.is_dir() and _TURN.match(child.name):
            out.extend(_attempt_dirs(child))
    if not out and any((path / f).exists() for f in _ATTEMPT_FILES):
        out = [(1, 1, path)]
    return sorted(out)


def is_massgen_dir(path: Path) -> bool:
    """True when ``path`` is a MassGen log, turn or attempt directory."""
    try:
        dirs = _attempt_dirs(path)
    except OSError:
        return False
    return any(any((d / f).exists() for f in _ATTEMPT_FILES) for _, _, d in dirs) and not (
        path / "meta.json"
    ).exists()


def massgen_log_bases() -> list[Path]:
    """Where MassGen writes its logs: ``$MASSGEN_LOG_BASE_DIR``, ``./.massgen/massgen_logs`` and
    ``~/.massgen/massgen_logs`` (each once)."""
    import os

    bases = []
    env = os.environ.get("MASSGEN_LOG_BASE_DIR", "").strip()
    if env:
        bases.append(Path(env).expanduser())
    bases += [Path.cwd() / ".massgen" / "massgen_logs", Path.home() / ".massgen" / "massgen_logs"]
    seen, out = set(), []
    for b in bases:
        key = str(b.resolve()) if b.exists() else str(b)
        if key not in seen:
            seen.add(key)
            out.append(b)
    return out


def find_massgen_log_dirs(base: Path) -> list[Path]:
    """``log_*`` directories under a MassGen log base, newest first."""
    if not base.is_dir():
        return []
    return sorted((p for p in base.iterdir() if p.is_dir() and p.name.startswith("log_")), reverse=True)


def _epoch(value: Any) -> float | None:
    if isinstance(value, (int, float)):
        return float(value) / (1000.0 if value > 1e11 else 1.0)
    if isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.timestamp()
    return None


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _model_string(backend: Any, model: Any) -> str:
    b = str(backend or "").strip().lower()
    m = str(model or "").strip()
    if m and "/" in m and not b:
        return m
    provider = _BACKENDS.get(b, b) or "unknown"
    return f"{provider}/{m or 'unknown'}"


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _estimate_tokens(value: Any) -> int:
    messages = value.get("messages") if isinstance(value, dict) else value
    text = json.dumps(messages if messages is not None else value, ensure_ascii=False)
    return max(0, round(len(text) / 4))


class _Builder:
    def __init__(self) -> None:
        self.items: list[tuple[float, int, dict[str, Any]]] = []
        self.order = 0
        self.noise: dict[str, int] = {}

    def add(self, epoch: float | None, event: dict[str, Any]) -> None:
        self.order += 1
        self.items.append((epoch if epoch is not None else float("inf"), self.order, event))


def _from_events(b: _Builder, events: list[dict[str, Any]], turn: int, attempt: int, tools_elsewhere: bool,
                 agent_models: dict[str, str]) -> None:
    for raw in events:
        kind = str(raw.get("event_type") or raw.get("type") or "unknown")
        epoch = _epoch(raw.get("timestamp"))
        agent = raw.get("agent_id")
        data = _v if isinstance(_v := raw.get("data"), dict) else {}
        base = {"agent": agent, "turn": turn,
                "data": {"massgen_event": kind, "attempt": attempt, "round": raw.get("round_number")}}
        if kind in _NOISE:
            b.noise[kind] = b.noise.get(kind, 0) + 1
            continue
        if kind == "tool_complete" and not tools_elsewhere:
            ok = data.get("success", not data.get("error"))
            b.add(epoch, {**base, "type": "tool_call", "tool": str(data.get("tool_name") or data.get("name") or "?"),
                          "duration_ms": data.get("execution_time_ms") or data.get("duration_ms"),
                          "outcome": "ok" if ok else "error", "error": data.get("error")})
        elif kind in ("tool_start", "tool_complete"):
            continue
        elif kind == "error":
            b.add(epoch, {**base, "type": "error", "kind": str(data.get("error_type") or data.get("kind") or "error"),
                          "message": str(data.get("message") or data.get("error") or ""),
                          "model": agent_models.get(str(agent)), "fatal": bool(data.get("fatal", False))})
        elif kind == "agent_restart":
            b.add(epoch, {**base, "type": "note", "message": f"agent {agent} restarted: "
                          + str(data.get("reason") or data.get("message") or "no reason given")})
        elif kind in ("context_overflow", "compression_triggered"):
            b.add(epoch, {**base, "type": "overflow", "mode": "reactive" if data.get("reactive", True) else "proactive",
                          "model": agent_models.get(str(agent), "unknown/unknown"),
                          "limit": data.get("context_window") or data.get("limit"),
                          "requested": data.get("tokens") or data.get("requested")})
        else:
            summary = data.get("message") or data.get("answer") or data.get("winner") or data.get("voted_for") or ""
            text = f"{kind.replace('_', ' ')}" + (f": {str(summary)[:200]}" if summary else "")
            b.add(epoch, {**base, "type": "note", "message": text})


def _from_metrics(b: _Builder, metrics: dict[str, Any], turn: int, attempt: int,
                  agent_models: dict[str, str]) -> bool:
    """Rounds as call_end events and tool executions as tool_call events; True if tools were found."""
    for index, rc in enumerate(metrics.get("round_completions") or []):
        if not isinstance(rc, dict):
            continue
        agent = rc.get("agent_id")
        model = _model_string(rc.get("backend"), rc.get("model")) if (rc.get("model") or rc.get("backend")) \
            else agent_models.get(str(agent), "unknown/unknown")
        outcome_raw = str(rc.get("outcome") or "answer")
        outcome = "error" if outcome_raw in ("error", "timeout") else "ok"
        event: dict[str, Any] = {
            "type": "call_end", "agent": agent, "turn": turn, "call_id": f"t{turn}a{attempt}r{index}",
            "model": model, "attempt": 1, "stream": True, "outcome": outcome,
            "latency_ms": float(rc.get("duration_ms") or 0.0),
            "usage": {"input_tokens": int(rc.get("input_tokens") or 0),
                      "output_tokens": int(rc.get("output_tokens") or 0)},
            "data": {"synthetic": "massgen_round", "round": rc.get("round_number"), "outcome": outcome_raw,
                     "attempt": attempt, "context_usage_pct": rc.get("context_usage_pct")},
        }
        if rc.get("ttft_ms") is not None:
            event["ttft_ms"] = float(rc["ttft_ms"])
        if rc.get("estimated_cost") is not None:
            event["cost_usd"] = float(rc["estimated_cost"])
        if outcome == "error":
            event["error_kind"] = outcome_raw
        b.add(_epoch(rc.get("timestamp") or rc.get("end_time")), event)
    tools = [t for t in (metrics.get("tool_executions") or []) if isinstance(t, dict)]
    for tool in tools:
        ok = tool.get("success", not tool.get("error"))
        b.add(_epoch(tool.get("timestamp") or tool.get("start_time")), {
            "type": "tool_call", "agent": tool.get("agent_id"), "turn": turn,
            "tool": str(tool.get("tool_name") or tool.get("name") or "?"),
            "duration_ms": tool.get("execution_time_ms") or tool.get("duration_ms"),
            "outcome": "ok" if ok else "error", "error": tool.get("error"),
            "data": {"attempt": attempt, "round": tool.get("round_number")}})
    return bool(tools)


def _from_compression_debug(b: _Builder, folder: Path, turn: int, attempt: int) -> None:
    groups: dict[int, dict[str, Path]] = {}
    for file in folder.iterdir() if folder.is_dir() else ():
        match = _COMPRESSION.match(file.name)
        if match:
            groups.setdefault(int(match.group(1)), {})[match.group(2)] = file
    for ms, files in sorted(groups.items()):
        before = _load(files["input"]) if "input" in files else None
        after = _load(files["result"]) if "result" in files else None
        tokens_before = _estimate_tokens(before) if before is not None else 0
        tokens_after = _estimate_tokens(after) if after is not None else tokens_before
        meta = after if isinstance(after, dict) else {}
        skipped = []
        if "retry_input" in files:
            skipped.append({"stage": "summarize", "reason": "first summary did not fit; retried (retry_input saved)"})
        b.add(ms / 1000.0, {
            "type": "compression", "turn": turn, "agent": meta.get("agent_id"),
            "stage": str(meta.get("stage") or "summarize"), "tokens_before": tokens_before,
            "tokens_after": tokens_after, "duration_ms": float(meta.get("duration_ms") or 0.0),
            "skipped": skipped, "fits": True,
            "data": {"attempt": attempt, "estimated_tokens": True, "files": sorted(f.name for f in files.values())}})


def read_massgen_run(path: Path) -> RunData:
    """Read a MassGen ``log_*`` (or ``turn_N``/``attempt_M``) directory."""
    b = _Builder()
    skipped: list[SkippedLine] = []
    summary: dict[str, Any] = {}
    status: dict[str, Any] = {}
    attempts = _attempt_dirs(path)
    turns = sorted({t for t, _, _ in attempts})
    reports = []
    for turn, attempt, folder in attempts:
        metrics_summary = _load(folder / "metrics_summary.json")
        if isinstance(metrics_summary, dict):
            summary = metrics_summary  # the newest attempt that has metrics wins (as MassGen does)
        live = _load(folder / "status.json")
        if isinstance(live, dict):
            status = live
        agent_models = _agent_models(metrics_summary if isinstance(metrics_summary, dict) else summary, status)
        metrics = _load(folder / "metrics_events.json")
        tools_found = _from_metrics(b, metrics, turn, attempt, agent_models) if isinstance(metrics, dict) else False
        if (folder / "events.jsonl").exists():
            events, bad = read_jsonl(folder / "events.jsonl")
            rel = folder.relative_to(path) if folder != path else Path(".")
            skipped.extend(SkippedLine(str(rel / s.file), s.line, s.reason, s.last) for s in bad)
            _from_events(b, events, turn, attempt, tools_found, agent_models)
        _from_compression_debug(b, folder / "compression_debug", turn, attempt)
        if attempt > 1:
            b.add(None, {"type": "note", "turn": turn, "message": f"turn {turn}: orchestration restarted (attempt {attempt})"})
    for turn in turns:
        report = path / f"turn_{turn}" / "ANALYSIS_REPORT.md"
        if report.exists() and report.stat().st_size:
            reports.append(str(report.relative_to(path)))

    b.items.sort(key=lambda item: (item[0], item[1]))
    first = next((t for t, _, _ in b.items if t != float("inf")), None)
    events = []
    for seq, (epoch, _, event) in enumerate(b.items):
        when = epoch if epoch != float("inf") else (events[-1]["_epoch"] if events else first or 0.0)
        event = {k: v for k, v in event.items() if v is not None}
        event.update(seq=seq, ts=_iso(when), elapsed_ms=round(max(0.0, (when - (first or when)) * 1000.0), 3),
                     run_id=path.name, schema_version=0, _epoch=when)
        events.append(event)
    for event in events:
        event.pop("_epoch", None)

    final_status, detail = honest_status(_status(status, path), events, len(attempts))
    summary_meta = _v if isinstance(_v := summary.get("meta"), dict) else {}
    agent_models = _agent_models(summary, status)
    meta = {
        "format": "massgen-log",
        "run_id": path.name,
        "title": summary_meta.get("question"),
        "agents": [{"id": a, "model": m} for a, m in sorted(agent_models.items())],
        "status": final_status,
        "status_detail": detail,
        "started_at": events[0]["ts"] if events else None,
        "ended_at": events[-1]["ts"] if events else None,
        "massgen": {
            "session_id": summary_meta.get("session_id"),
            "winner": summary_meta.get("winner"),
            "turns": turns,
            "attempts": len(attempts),
            "metrics_summary": summary,
            "status": status,
            "analysis_reports": reports,
            "chatter_events": b.noise,
        },
    }
    return RunData(path=path, source="massgen", meta=redact_data(meta), events=redact_data(events),
                   skipped=skipped)


def _agent_models(summary: Any, status: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    agents = summary.get("agents") if isinstance(summary, dict) else None
    if isinstance(agents, dict):
        for agent_id, info in agents.items():
            if isinstance(info, dict) and (info.get("model") or info.get("backend")):
                out[str(agent_id)] = _model_string(info.get("backend"), info.get("model"))
    live = status.get("agents") if isinstance(status, dict) else None
    items = live.items() if isinstance(live, dict) else (
        ((a.get("agent_id") or a.get("id"), a) for a in live if isinstance(a, dict)) if isinstance(live, list) else ())
    for agent_id, info in items:
        if agent_id and isinstance(info, dict) and str(agent_id) not in out and (info.get("model") or info.get("backend")):
            out[str(agent_id)] = _model_string(info.get("backend"), info.get("model"))
    return out


def _status(status: dict[str, Any], path: Path) -> str:
    raw = str(status.get("status") or status.get("state") or "").lower()
    if raw in ("completed", "complete", "done", "finished", "success", "ok"):
        return "ok"
    if raw in ("error", "failed", "failure", "timeout"):
        return "failed"
    if raw in ("cancelled", "canceled", "interrupted"):
        return "interrupted"
    if any(path.glob("**/final/*/answer.txt")):
        return "ok"
    return "incomplete"


def honest_status(reported: str, events: list[dict[str, Any]], attempts: int) -> tuple[str, str | None]:
    """The run's status with its errors and restarts taken into account, and why.

    MassGen marks a run ``completed`` even when an agent errored and the orchestration restarted.
    Such a run is ``recovered`` (it finished, after trouble), not ``ok``; a fatal error makes it
    ``failed``. The second value says what happened (``None`` when nothing did).
    """
    errors = [e for e in events if e.get("type") == "error"]
    fatal = [e for e in errors if e.get("fatal")]
    agent_restarts = sum(1 for e in events if e.get("type") == "note"
                         and (e.get("data") or {}).get("massgen_event") == "agent_restart")
    restarts = max(agent_restarts, attempts - 1)  # a restart usually shows as both
    parts = []
    if errors:
        parts.append(f"{len(errors)} error{'s' if len(errors) != 1 else ''}")
    if restarts:
        parts.append(f"{restarts} restart{'s' if restarts != 1 else ''}")
    detail = " and ".join(parts) or None
    if fatal and reported in ("ok", "incomplete"):
        return "failed", f"fatal {fatal[-1].get('kind')} error" + (f"; {detail}" if detail else "")
    if reported == "ok" and detail:
        return "recovered", f"completed after {detail}"
    return reported, detail
