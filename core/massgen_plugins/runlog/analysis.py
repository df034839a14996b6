"""The deterministic run analysis: numbers and findings computed from events alone.

:func:`summarize_run` turns a common event list (from :func:`~.reader.read_run`) into a plain,
JSON-able summary: calls, tokens and cost per agent and model (prices from the model registry,
``None`` where unknown), latency percentiles, overflow and compression counts with tokens saved,
retries and fallbacks with causes, errors, memory traffic. :func:`find_issues` turns the summary
into findings a person can act on; :func:`render_markdown` writes both as a report.

No network, no LLM, no randomness: the same run always gives the same report.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from ..formatting import money, plural
from .pricing import cost_usd, larger_window_model, model_facts

__all__ = ["find_issues", "percentile", "render_markdown", "summarize_run"]

PERCENTILES = (50, 90, 95, 99)


def percentile(values: Iterable[float], pct: float) -> float | None:
    """The ``pct``-th percentile with linear interpolation (numpy's default); ``None`` if empty."""
    data = sorted(float(v) for v in values)
    if not data:
        return None
    if len(data) == 1:
        return data[0]
    rank = (len(data) - 1) * pct / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return data[low] + (data[high] - data[low]) * (rank - low)


def _latency(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0}
    out: dict[str, Any] = {"count": len(values), "mean": round(sum(values) / len(values), 1)}
    for pct in PERCENTILES:
        out[f"p{pct}"] = round(percentile(values, pct) or 0.0, 1)
    out["max"] = round(max(values), 1)
    return out


def _bucket() -> dict[str, Any]:
    return {"calls": 0, "failed": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0,
            "priced_calls": 0, "unpriced_calls": 0}


def summarize_run(events: list[dict[str, Any]], meta: dict[str, Any] | None = None, *,
                  source: str = "massgen-plugins", skipped_lines: int = 0,
                  status: str | None = None) -> dict[str, Any]:
    """Compute the deterministic summary of one run (see the module docstring)."""
    meta = meta or {}
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        by_type[str(event.get("type"))].append(event)

    ends = by_type["call_end"]
    by_model: dict[str, dict[str, Any]] = defaultdict(_bucket)
    by_agent: dict[str, dict[str, Any]] = defaultdict(_bucket)
    latencies: dict[str, list[float]] = defaultdict(list)
    all_latencies: list[float] = []
    ttfts: list[float] = []
    unknown_price: set[str] = set()
    failed_kinds: Counter[str] = Counter()
    for event in ends:
        model = str(event.get("model") or "unknown/unknown")
        agent = str(event.get("agent") or "-")
        usage = event.get("usage") or {}
        tin, tout = int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
        cost = event.get("cost_usd")
        if cost is None and (tin or tout):
            cost = cost_usd(model, tin, tout)
        ok = event.get("outcome", "ok") == "ok"
        for bucket in (by_model[model], by_agent[agent]):
            bucket["calls"] += 1
            bucket["failed"] += 0 if ok else 1
            bucket["input_tokens"] += tin
            bucket["output_tokens"] += tout
            if cost is not None:
                bucket["cost_usd"] += float(cost)
                bucket["priced_calls"] += 1
            elif tin or tout:
                bucket["unpriced_calls"] += 1
        if cost is None and (tin or tout):
            unknown_price.add(model)
        if not ok:
            failed_kinds[str(event.get("error_kind") or event.get("outcome") or "error")] += 1
        if isinstance(event.get("latency_ms"), (int, float)):
            latencies[model].append(float(event["latency_ms"]))
            all_latencies.append(float(event["latency_ms"]))
        if isinstance(event.get("ttft_ms"), (int, float)):
            ttfts.append(float(event["ttft_ms"]))
    for bucket in (*by_model.values(), *by_agent.values()):
        bucket["cost_usd"] = round(bucket["cost_usd"], 6) if bucket["priced_calls"] else None

    total_in = sum(b["input_tokens"] for b in by_model.values())
    total_out = sum(b["output_tokens"] for b in by_model.values())
    priced = [b["cost_usd"] for b in by_model.values() if b["cost_usd"] is not None]

    overflows = by_type["overflow"]
    compressions = by_type["compression"]
    stage_stats: dict[str, dict[str, Any]] = defaultdict(lambda: {"count": 0, "tokens_saved": 0, "duration_ms": 0.0})
    skipped_reasons: dict[str, Counter[str]] = defaultdict(Counter)
    saved_total = 0
    not_fitting = 0
    for event in compressions:
        before, after = event.get("tokens_before"), event.get("tokens_after")
        saved = max(0, int(before) - int(after)) if isinstance(before, int) and isinstance(after, int) else 0
        stats = stage_stats[str(event.get("stage") or "?")]
        stats["count"] += 1
        stats["tokens_saved"] += saved
        stats["duration_ms"] += float(event.get("duration_ms") or 0.0)
        saved_total += saved
        not_fitting += 0 if event.get("fits", True) else 1
        for skip in event.get("skipped") or []:
            if isinstance(skip, dict):
                skipped_reasons[str(skip.get("stage"))][str(skip.get("reason"))] += 1
    for stats in stage_stats.values():
        stats["duration_ms"] = round(stats["duration_ms"], 1)

    retries = by_type["retry"]
    retry_kinds: Counter[str] = Counter(str(e.get("kind") or "unknown") for e in retries)
    retry_by_model: Counter[str] = Counter(str(e.get("model") or "?") for e in retries)
    fallback_counts: Counter[tuple[str, str, str]] = Counter(
        (str(e.get("from_model")), str(e.get("to_model")), str(e.get("why"))) for e in by_type["fallback"]
    )
    errors = by_type["error"]

    turns = _count_turns(events)
    agents_meta = _v if isinstance(_v := meta.get("agents"), list) else []
    agent_ids = sorted({str(e["agent"]) for e in events if e.get("agent")} |
                       {str(a.get("id")) for a in agents_meta if isinstance(a, dict) and a.get("id")})
    starts = [e for e in by_type["run_start"]]
    run_end = by_type["run_end"][-1] if by_type["run_end"] else None
    duration = run_end.get("duration_ms") if run_end else None
    if duration is None and events:
        duration = max(float(e.get("elapsed_ms") or 0.0) for e in events)

    tools = by_type["tool_call"]
    tool_stats: dict[str, dict[str, Any]] = defaultdict(lambda: {"calls": 0, "failed": 0, "duration_ms": 0.0})
    for event in tools:
        stats = tool_stats[str(event.get("tool"))]
        stats["calls"] += 1
        stats["failed"] += 1 if event.get("outcome") == "error" else 0
        stats["duration_ms"] = round(stats["duration_ms"] + float(event.get("duration_ms") or 0.0), 1)

    summary: dict[str, Any] = {
        "run": {
            "id": meta.get("run_id"), "source": source, "title": meta.get("title"),
            "status": status or meta.get("status"), "status_detail": meta.get("status_detail"),
            "started_at": meta.get("started_at"),
            "ended_at": meta.get("ended_at"), "duration_ms": round(float(duration), 1) if duration is not None else None,
            "agents": agent_ids, "events": len(events), "turns": turns,
            "resumes": sum(1 for e in starts if e.get("resumed")), "skipped_lines": skipped_lines,
        },
        "calls": {"total": len(ends), "failed": sum(failed_kinds.values()), "failed_by_kind": dict(failed_kinds),
                  "by_model": dict(sorted(by_model.items())), "by_agent": dict(sorted(by_agent.items()))},
        "tokens": {"input": total_in, "output": total_out, "total": total_in + total_out},
        "cost": {"usd": round(sum(priced), 6) if priced else None, "complete": not unknown_price,
                 "unknown_price_models": sorted(unknown_price)},
        "latency_ms": {"all": _latency(all_latencies),
                       "by_model": {m: _latency(v) for m, v in sorted(latencies.items())},
                       "ttft": _latency(ttfts)},
        "overflows": {"total": len(overflows),
                      "proactive": sum(1 for e in overflows if e.get("mode") == "proactive"),
                      "reactive": sum(1 for e in overflows if e.get("mode") == "reactive"),
                      "by_model": dict(Counter(str(e.get("model")) for e in overflows))},
        "compressions": {"total": len(compressions), "tokens_saved": saved_total, "not_fitting": not_fitting,
                         "by_stage": dict(sorted(stage_stats.items())),
                         "skipped_stages": {s: dict(r) for s, r in sorted(skipped_reasons.items())}},
        "retries": {"total": len(retries), "by_kind": dict(retry_kinds), "by_model": dict(retry_by_model),
                    "total_delay_s": round(sum(float(e.get("delay_s") or 0.0) for e in retries), 3)},
        "fallbacks": [{"from": f, "to": t, "why": w, "count": n} for (f, t, w), n in fallback_counts.items()],
        "errors": {"total": len(errors), "fatal": sum(1 for e in errors if e.get("fatal")),
                   "by_kind": dict(Counter(str(e.get("kind")) for e in errors))},
        "memory": {"reads": len(by_type["memory_read"]), "writes": len(by_type["memory_write"]),
                   "hits": sum(int(e.get("hits") or 0) for e in by_type["memory_read"])},
        "tools": {"total": len(tools), "failed": sum(s["failed"] for s in tool_stats.values()),
                  "by_tool": dict(sorted(tool_stats.items(), key=lambda kv: -kv[1]["duration_ms"]))},
    }
    if source == "massgen":
        summary["massgen"] = _massgen_extras(meta)
        totals = summary["massgen"].get("totals") or {}
        if summary["cost"]["usd"] is None and totals.get("estimated_cost") is not None:
            summary["cost"]["usd"] = round(float(totals["estimated_cost"]), 6)
            summary["cost"]["source"] = "metrics_summary.json"
    return summary


def _count_turns(events: list[dict[str, Any]]) -> int:
    marked = {(e.get("agent"), e.get("turn")) for e in events if e.get("turn") is not None
              and e.get("type") in ("call_start", "call_end")}
    if marked:
        return len(marked)
    return sum(1 for e in events if e.get("type") == "call_end" and int(e.get("attempt") or 1) == 1)


def _massgen_extras(meta: dict[str, Any]) -> dict[str, Any]:
    info = _v if isinstance(_v := meta.get("massgen"), dict) else {}
    ms = _v if isinstance(_v := info.get("metrics_summary"), dict) else {}
    rounds = _v if isinstance(_v := ms.get("rounds"), dict) else {}
    tools = _v if isinstance(_v := ms.get("tools"), dict) else {}
    status = _v if isinstance(_v := info.get("status"), dict) else {}
    reliability = {}
    agents = status.get("agents")
    for item in (agents.items() if isinstance(agents, dict) else
                 ((a.get("agent_id") or a.get("id"), a) for a in agents) if isinstance(agents, list) else ()):
        agent_id, data = item
        if isinstance(data, dict) and isinstance(data.get("reliability"), dict):
            reliability[str(agent_id)] = data["reliability"]
    return {
        "winner": info.get("winner"), "session_id": info.get("session_id"), "turns": info.get("turns"),
        "attempts": info.get("attempts"), "totals": ms.get("totals") or {},
        "rounds_by_outcome": rounds.get("by_outcome") or {}, "total_rounds": rounds.get("total_rounds"),
        "avg_context_usage_pct": rounds.get("avg_context_usage_pct"),
        "tools": {"total_calls": tools.get("total_calls"), "total_failures": tools.get("total_failures")},
        "api_timing": ms.get("api_timing") or {}, "reliability": reliability,
        "analysis_reports": info.get("analysis_reports") or [],
    }


# --------------------------------------------------------------------------- findings


def _finding(severity: str, title: str, detail: str = "", **data: Any) -> dict[str, Any]:
    return {"severity": severity, "title": title, "detail": detail, "data": data}


def find_issues(summary: dict[str, Any], events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Actionable findings from a summary (errors first, then warnings, then info)."""
    out: list[dict[str, Any]] = []
    run = summary["run"]
    if run.get("status") in ("failed",):
        out.append(_finding("error", "the run failed",
                            next((str(e.get("error")) for e in reversed(events) if e.get("type") == "run_end"
                                  and e.get("error")), "see the error events")))
    elif run.get("status") == "incomplete":
        out.append(_finding("warning", "the run has no end: it crashed, was killed, or is still running",
                            "no run_end event after the last run_start"))
    elif run.get("status") == "interrupted":
        out.append(_finding("warning", "the run was interrupted"))
    elif run.get("status") == "recovered":
        out.append(_finding("warning", "the run recovered from errors or restarts",
                            str(run.get("status_detail") or "see the error events")))
    if run.get("resumes"):
        out.append(_finding("info", f"resumed {plural(run['resumes'], 'time')} from its saved state"))

    fatal = [e for e in events if e.get("type") == "error" and e.get("fatal")]
    for event in fatal[:5]:
        out.append(_finding("error", f"fatal {event.get('kind')} error" + (f" on {event['model']}" if event.get("model") else ""),
                            str(event.get("message") or "")[:300]))

    calls = summary["calls"]
    if calls["failed"]:
        kinds = ", ".join(f"{k} ×{n}" for k, n in sorted(calls["failed_by_kind"].items(), key=lambda kv: -kv[1]))
        out.append(_finding("warning", f"{calls['failed']} of {calls['total']} calls failed", kinds,
                            failed_by_kind=calls["failed_by_kind"]))

    out.extend(_compression_findings(summary, events))

    overflows = summary["overflows"]
    if overflows["reactive"]:
        models = sorted({str(e.get("model")) for e in events if e.get("type") == "overflow" and e.get("mode") == "reactive"})
        out.append(_finding(
            "warning", f"{plural(overflows['reactive'], 'overflow')} {'was' if overflows['reactive'] == 1 else 'were'} caught only when the provider rejected the call",
            f"the proactive count underestimated the request on {', '.join(models)}: raise the token margin "
            "for that provider or use its exact tokenizer/count endpoint, so the guard compresses before sending",
            models=models))

    retries = summary["retries"]
    if retries["total"]:
        kinds = ", ".join(f"{k} ×{n}" for k, n in sorted(retries["by_kind"].items(), key=lambda kv: -kv[1]))
        severity = "warning" if retries["total"] >= 3 else "info"
        advice = ""
        rate = retries["by_kind"].get("rate_limit", 0) + retries["by_kind"].get("quota", 0)
        if rate >= 3:
            advice = ": lower concurrency, raise the provider's rate limits, or add a fallback on another provider"
        elif retries["by_kind"].get("overloaded", 0) + retries["by_kind"].get("server_error", 0) >= 3:
            advice = ": the provider was unstable; a fallback model on another provider keeps the run going"
        out.append(_finding(severity, f"{plural(retries['total'], 'retry', 'retries')} ({kinds}), {retries['total_delay_s']:g} s spent waiting",
                            f"by model: {', '.join(f'{m} ×{n}' for m, n in retries['by_model'].items())}{advice}",
                            by_kind=retries["by_kind"]))

    for fb in summary["fallbacks"]:
        out.append(_finding("warning", f"fell back from {fb['from']} to {fb['to']} ({fb['why']})"
                            + (f" ×{fb['count']}" if fb["count"] > 1 else ""),
                            "the first model could not serve these calls; if this repeats, make the fallback the primary",
                            **fb))

    latency = summary["latency_ms"]["by_model"]
    for model, stats in latency.items():
        if stats.get("count", 0) >= 5 and stats.get("p50") and stats["p95"] > 3 * stats["p50"]:
            out.append(_finding("info", f"slow tail on {model}: p95 {stats['p95']:.0f} ms vs median {stats['p50']:.0f} ms",
                                "a few calls took much longer than usual; check for hangs, huge inputs or throttling"))

    cost = summary["cost"]
    if cost["unknown_price_models"]:
        out.append(_finding("info", "cost is incomplete: no price known for "
                            + ", ".join(cost["unknown_price_models"]),
                            "refresh the model registry (`massgen-plugins models --refresh`) or add prices for these models"))
    if run.get("skipped_lines"):
        out.append(_finding("info", f"{plural(run['skipped_lines'], 'unreadable line')} skipped in events.jsonl",
                            "usually a torn last line: the process stopped while writing it"))
    if summary.get("massgen"):
        out.extend(_massgen_findings(summary["massgen"]))
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(out, key=lambda f: order.get(f["severity"], 3))


def _compression_findings(summary: dict[str, Any], events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    comp = summary["compressions"]
    if not comp["total"]:
        return out
    # per (agent, model): compressions vs turns
    turns_by_agent: dict[str, set[Any]] = defaultdict(set)
    for e in events:
        if e.get("type") in ("call_start", "call_end"):
            key = e.get("turn") if e.get("turn") is not None else e.get("call_id")
            if e.get("turn") is not None or int(e.get("attempt") or 1) == 1:
                turns_by_agent[str(e.get("agent") or "-")].add(key)
    comps_by_agent: Counter[str] = Counter(str(e.get("agent") or "-") for e in events if e.get("type") == "compression")
    limits: dict[str, int] = {}
    models: dict[str, str] = {}
    for e in events:
        agent = str(e.get("agent") or "-")
        if e.get("type") == "overflow" and isinstance(e.get("limit"), int):
            limits[agent] = e["limit"]
        if e.get("type") in ("compression", "overflow", "call_start") and e.get("model"):
            models.setdefault(agent, str(e["model"]))
    for agent, n in sorted(comps_by_agent.items()):
        turns = len(turns_by_agent.get(agent, ())) or summary["run"]["turns"] or n
        if n >= 3 and n / max(turns, 1) >= 0.3:
            model = models.get(agent, "its model")
            window = limits.get(agent)
            if window is None and model in models.values():
                facts = model_facts(model)
                window = facts.get("context_window") if facts else None
            suggestion = larger_window_model(model, window) if window else None
            tail = f" (e.g. {suggestion[0]}, {suggestion[1]:,} tokens vs {window:,})" if suggestion and window else ""
            who = f"agent {agent}" if agent != "-" else "the run"
            out.append(_finding(
                "warning", f"{who} compressed {plural(n, 'time')} in {plural(turns, 'turn')}: a larger-window model would avoid it{tail}",
                f"{model} keeps hitting its window; every compression costs time and loses detail",
                agent=agent, compressions=n, turns=turns, model=model, window=window,
                suggested_model=suggestion[0] if suggestion else None))
    if comp["not_fitting"]:
        out.append(_finding("error", f"{plural(comp['not_fitting'], 'compression')} could not fit the budget",
                            "every stage ran and the conversation still did not fit: the latest turn alone may be too big"))
    weak = [e for e in events if e.get("type") == "compression" and isinstance(e.get("tokens_before"), int)
            and e["tokens_before"] > 0 and isinstance(e.get("tokens_after"), int)
            and (e["tokens_before"] - e["tokens_after"]) / e["tokens_before"] < 0.1]
    if weak:
        out.append(_finding("info", f"{plural(len(weak), 'compression')} saved less than 10%",
                            "the budget was barely above the conversation; consider a lower target ratio"))
    for stage, reasons in comp["skipped_stages"].items():
        text = "; ".join(f"{r} ×{n}" for r, n in reasons.items())
        out.append(_finding("info", f"stage {stage!r} was skipped {plural(sum(reasons.values()), 'time')}", text))
    saved = comp["tokens_saved"]
    out.append(_finding("info", f"{plural(comp['total'], 'compression')} saved {saved:,} tokens",
                        ", ".join(f"{s}: {v['count']}× / {v['tokens_saved']:,} tokens" for s, v in comp["by_stage"].items())))
    return out


def _massgen_findings(info: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    outcomes = info.get("rounds_by_outcome") or {}
    bad = {k: v for k, v in outcomes.items() if k in ("error", "timeout", "restarted") and v}
    if bad:
        out.append(_finding("warning", "MassGen rounds ended badly: " + ", ".join(f"{k} ×{v}" for k, v in bad.items()),
                            "see the agent_restart and error events in the timeline"))
    if (info.get("attempts") or 0) > len(info.get("turns") or [1]):
        out.append(_finding("warning", f"orchestration restarted: {info['attempts']} attempts over "
                            f"{plural(len(info.get('turns') or []), 'turn')}"))
    tools = info.get("tools") or {}
    if tools.get("total_failures"):
        out.append(_finding("warning", f"{tools['total_failures']} of {tools.get('total_calls')} tool calls failed"))
    for agent, rel in (info.get("reliability") or {}).items():
        interesting = {k: v for k, v in rel.items() if v}
        if interesting:
            out.append(_finding("info", f"reliability counters for {agent}",
                                ", ".join(f"{k}={v}" for k, v in interesting.items())))
    usage = info.get("avg_context_usage_pct")
    if isinstance(usage, (int, float)) and usage >= 80:
        out.append(_finding("warning", f"average context usage {usage:.0f}%: close to the window",
                            "MassGen compresses reactively; a larger-window model or proactive compression would help"))
    return out


# --------------------------------------------------------------------------- markdown


def _fmt_cost(value: Any) -> str:
    return money(value)


def render_markdown(summary: dict[str, Any], findings: list[dict[str, Any]]) -> str:
    """The deterministic report as Markdown."""
    run = summary["run"]
    lines = [f"# Run report: {run.get('id')}", ""]
    if run.get("title"):
        lines += [f"> {run['title']}", ""]
    dur = run.get("duration_ms")
    lines += [
        f"- **status**: {run.get('status')}  ·  **source**: {run.get('source')}",
        f"- **duration**: {dur / 1000:.1f} s" if isinstance(dur, (int, float)) else "- **duration**: unknown",
        f"- **agents**: {', '.join(run.get('agents') or []) or '-'}  ·  **turns**: {run.get('turns')}  ·  "
        f"**events**: {run.get('events')}",
        f"- **calls**: {summary['calls']['total']} ({summary['calls']['failed']} failed)  ·  "
        f"**tokens**: {summary['tokens']['input']:,} in / {summary['tokens']['output']:,} out  ·  "
        f"**cost**: {_fmt_cost(summary['cost']['usd'])}"
        + ("" if summary["cost"]["complete"] else " (incomplete)"),
        f"- **overflows**: {summary['overflows']['total']} ({summary['overflows']['proactive']} proactive, "
        f"{summary['overflows']['reactive']} reactive)  ·  **compressions**: {summary['compressions']['total']} "
        f"(saved {summary['compressions']['tokens_saved']:,} tokens)  ·  **retries**: {summary['retries']['total']}"
        f"  ·  **fallbacks**: {sum(f['count'] for f in summary['fallbacks'])}",
        "",
    ]
    if findings:
        lines += ["## Findings", ""]
        icon = {"error": "❌", "warning": "⚠️", "info": "ℹ️"}
        for f in findings:
            lines.append(f"- {icon.get(f['severity'], '-')} **{f['title']}**" + (f" — {f['detail']}" if f.get("detail") else ""))
        lines.append("")
    if summary["calls"]["by_model"]:
        lines += ["## Tokens and cost per model", "", "| model | calls | failed | input | output | cost |",
                  "|---|---:|---:|---:|---:|---:|"]
        for model, b in summary["calls"]["by_model"].items():
            lines.append(f"| {model} | {b['calls']} | {b['failed']} | {b['input_tokens']:,} | {b['output_tokens']:,} | "
                         f"{_fmt_cost(b['cost_usd'])} |")
        lines += ["", "## Tokens and cost per agent", "", "| agent | calls | failed | input | output | cost |",
                  "|---|---:|---:|---:|---:|---:|"]
        for agent, b in summary["calls"]["by_agent"].items():
            lines.append(f"| {agent} | {b['calls']} | {b['failed']} | {b['input_tokens']:,} | {b['output_tokens']:,} | "
                         f"{_fmt_cost(b['cost_usd'])} |")
        lines += ["", "## Latency (ms)", "", "| model | calls | p50 | p90 | p95 | p99 | max |", "|---|---:|---:|---:|---:|---:|---:|"]
        for model, s in {**summary["latency_ms"]["by_model"], "all": summary["latency_ms"]["all"]}.items():
            if s.get("count"):
                lines.append(f"| {model} | {s['count']} | {s['p50']:.0f} | {s['p90']:.0f} | {s['p95']:.0f} | "
                             f"{s['p99']:.0f} | {s['max']:.0f} |")
        lines.append("")
    comp = summary["compressions"]
    if comp["total"]:
        lines += ["## Compression", "", "| stage | runs | tokens saved | time (ms) |", "|---|---:|---:|---:|"]
        for stage, s in comp["by_stage"].items():
            lines.append(f"| {stage} | {s['count']} | {s['tokens_saved']:,} | {s['duration_ms']:.0f} |")
        lines.append("")
    if summary["retries"]["total"] or summary["fallbacks"]:
        lines += ["## Retries and fallbacks", ""]
        for kind, n in summary["retries"]["by_kind"].items():
            lines.append(f"- retry because of **{kind}**: {n}")
        for fb in summary["fallbacks"]:
            lines.append(f"- fallback {fb['from']} → {fb['to']} because of **{fb['why']}**: {fb['count']}")
        lines.append("")
    if summary["tools"]["total"]:
        lines += ["## Tools", "", "| tool | calls | failed | time (ms) |", "|---|---:|---:|---:|"]
        for tool, s in list(summary["tools"]["by_tool"].items())[:10]:
            lines.append(f"| {tool} | {s['calls']} | {s['failed']} | {s['duration_ms']:.0f} |")
        lines.append("")
    mg = summary.get("massgen")
    if mg:
        lines += ["## MassGen", "", f"- winner: {mg.get('winner') or '-'}; turns: {mg.get('turns')}; attempts: {mg.get('attempts')}",
                  f"- rounds: {mg.get('total_rounds')} by outcome {mg.get('rounds_by_outcome')}",
                  f"- totals (metrics_summary.json): {mg.get('totals')}", ""]
    return "\n".join(lines).rstrip() + "\n"
