"""Built-in ``analyze_logs``: LLM self-analysis, only when ``request.model`` is set.

Sends the deterministic summary plus the most relevant log excerpts, fitted to the chosen
model's window, through the provider plugins (``complete`` hook) and returns a Markdown report.
Cheap to import: everything is imported inside the hook.
"""

from __future__ import annotations

from typing import Any

from massgen_plugins.hookspecs import hookimpl


@hookimpl(trylast=True)
def analyze_logs(request: Any) -> Any:
    if not getattr(request, "model", None):
        return None
    from massgen_plugins.runlog.selfanalysis import self_analyze

    return self_analyze(request)
