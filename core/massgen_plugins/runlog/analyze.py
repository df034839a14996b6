"""Analyze one run with every installed analyzer, from Python (the CLI and the demo use this).

.. code-block:: python

    from massgen_plugins.runlog.analyze import analyze_run, analyze_run_sync

    outcome = await analyze_run("path/to/run", model="openai/gpt-4o-mini")   # model: optional
    outcome.deterministic.summary, outcome.deterministic.findings, outcome.self_analysis.markdown
    outcome.markdown()            # every analyzer's Markdown, deterministic first
    outcome.html()                # the self-contained HTML report

The model is used as given; validate user input first with
:func:`massgen_plugins.runlog.modelchoice.validate_model`.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..types import AnalysisResult
    from .reader import RunData

__all__ = ["AnalysisOutcome", "analyze_run", "analyze_run_sync"]


@dataclass
class AnalysisOutcome:
    """Every analyzer's result for one run, plus the analyzers that failed."""

    run: RunData
    model: str | None
    results: list[tuple[str, AnalysisResult]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def deterministic(self) -> AnalysisResult | None:
        return next((r for _, r in self.results if r.analyzer == "deterministic"), None)

    @property
    def self_analysis(self) -> AnalysisResult | None:
        return next((r for _, r in self.results if r.analyzer == "self-analysis"), None)

    def markdown(self) -> str:
        """The Markdown reports of every analyzer that wrote one, deterministic first."""
        return "\n\n".join(r.markdown for _, r in self.results if r.markdown)

    def html(self) -> str:
        """The self-contained HTML report (timeline, charts, findings, other analyzers' reports)."""
        from .analysis import find_issues, summarize_run
        from .html import render_html

        run = self.run
        det = self.deterministic
        summary = det.summary if det else summarize_run(run.events, run.meta, source=run.source,
                                                        skipped_lines=len(run.skipped), status=run.status)
        findings = [f.model_dump() for f in det.findings] if det else find_issues(summary, run.events)
        reports = [(f"Self-analysis ({r.summary.get('model') or p})" if r.analyzer == "self-analysis"
                    else f"{r.analyzer} ({p})", r.markdown)
                   for p, r in self.results if r.markdown and r.analyzer != "deterministic"]
        return render_html(run.events, summary, findings, reports)


async def analyze_run(run_dir: str | Path, *, model: str | None = None) -> AnalysisOutcome:
    """Read ``run_dir`` (ours or MassGen's) and run every ``analyze_logs`` implementation.

    :param model: ``provider/model`` for the LLM self-analysis; ``None`` for none.
    """
    from ..manager import get_hooks
    from ..types import AnalysisRequest
    from .reader import read_run
    from .redaction import redact_data

    run = read_run(run_dir)
    meta = {**run.meta, "source": run.source, "status": run.status, "skipped_lines": len(run.skipped)}
    request = AnalysisRequest(run_dir=str(run.path), events=run.events, meta=meta, model=model)
    collected = await get_hooks().analyze_logs(request)
    results = sorted(collected.results, key=lambda pr: (pr[1].analyzer != "deterministic",
                                                       pr[1].analyzer == "self-analysis", pr[0]))
    errors = [{"plugin": a.plugin, "error": str(redact_data(a.error or a.status))} for a in collected.errors]
    return AnalysisOutcome(run=run, model=model, results=results, errors=errors)


def analyze_run_sync(run_dir: str | Path, *, model: str | None = None) -> AnalysisOutcome:
    """:func:`analyze_run` from synchronous code, also when an event loop is already running
    in this thread (it then runs in a worker thread with its own loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(analyze_run(run_dir, model=model))
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = asyncio.run(analyze_run(run_dir, model=model))
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=work, name="massgen-logs-analyze")
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]
