"""Run logs: the event schema, the crash-safe writer, readers (ours and MassGen's), analysis.

.. code-block:: python

    from massgen_plugins.runlog import RunLog, read_run

    with RunLog.create(title="demo") as log:
        log.event("retry", agent="a1", model="openai/gpt-4o-mini", attempt=1, kind="rate_limit", delay_s=0.5)
    run = read_run(log.path)

See ``docs/logs.md`` for the schema table and the redaction promise.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "RunLog": "massgen_plugins.runlog.writer",
    "new_run_id": "massgen_plugins.runlog.writer",
    "runs_root": "massgen_plugins.runlog.writer",
    "read_run": "massgen_plugins.runlog.reader",
    "RunData": "massgen_plugins.runlog.reader",
    "SCHEMA_VERSION": "massgen_plugins.runlog.schema",
    "EVENT_MODELS": "massgen_plugins.runlog.schema",
    "EventSchemaError": "massgen_plugins.runlog.schema",
    "validate_event": "massgen_plugins.runlog.schema",
    "redact_data": "massgen_plugins.runlog.redaction",
    "summarize_run": "massgen_plugins.runlog.analysis",
    "analyze_run": "massgen_plugins.runlog.analyze",
    "analyze_run_sync": "massgen_plugins.runlog.analyze",
    "AnalysisOutcome": "massgen_plugins.runlog.analyze",
    "validate_model": "massgen_plugins.runlog.modelchoice",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'massgen_plugins.runlog' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
