"""Built-in ``analyze_logs``: the deterministic run analysis (tokens, cost, latency percentiles,
overflows, compressions, retries, fallbacks, failures, findings). No network, no LLM.

Cheap to import: the analysis code is imported inside the hook.
"""

from __future__ import annotations

from typing import Any

from massgen_plugins.hookspecs import hookimpl


@hookimpl(trylast=True)
def analyze_logs(request: Any) -> Any:
    from massgen_plugins.runlog.analysis import find_issues, render_markdown, summarize_run
    from massgen_plugins.types import AnalysisResult, Finding

    events, meta = request.events, dict(request.meta or {})
    if not events and request.run_dir:
        from massgen_plugins.runlog.reader import read_run

        run = read_run(request.run_dir)
        events = run.events
        meta = {**run.meta, "source": run.source, "status": run.status, "skipped_lines": len(run.skipped)}
    summary = summarize_run(events, meta, source=str(meta.get("source") or "massgen-plugins"),
                            skipped_lines=int(meta.get("skipped_lines") or 0), status=meta.get("status"))
    findings = find_issues(summary, events)
    return AnalysisResult(
        analyzer="deterministic",
        summary=summary,
        findings=[Finding(**f) for f in findings],
        markdown=render_markdown(summary, findings),
    )
