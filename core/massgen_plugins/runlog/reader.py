"""Read run directories into one common event list.

Two layouts are understood:

* **ours** (``meta.json`` + ``events.jsonl``, written by :class:`~.writer.RunLog`);
* **MassGen's** (``log_YYYYMMDD_HHMMSS_ffffff/turn_N/attempt_M/`` with ``events.jsonl``,
  ``metrics_summary.json``, ``metrics_events.json``, ``status.json``, ``compression_debug/``):
  see :mod:`.massgen_format`.

Lines that do not parse (a torn last line after a crash, a corrupted line) are skipped and
reported in :attr:`RunData.skipped`; nothing else about the file is lost. Everything read is
passed through :func:`~.redaction.redact_data`, so a key that leaked into a foreign log never
reaches a report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .redaction import redact_data

__all__ = ["RunData", "SkippedLine", "detect_format", "read_jsonl", "read_our_run", "read_run"]


@dataclass
class SkippedLine:
    """A line of a JSONL file that could not be used."""

    file: str
    line: int
    reason: str
    last: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "reason": self.reason, "last": self.last}


@dataclass
class RunData:
    """One run, in the common form the analyzers read."""

    path: Path
    source: str
    """``massgen-plugins`` (ours) or ``massgen``."""
    meta: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[SkippedLine] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return str(self.meta.get("run_id") or self.path.name)

    @property
    def status(self) -> str:
        """``ok``/``failed``/``interrupted`` from the last ``run_end``; ``running`` while the
        process writing it is alive; else ``incomplete`` (the process died without ending it)."""
        ends = [e for e in self.events if e.get("type") == "run_end"]
        starts = [e for e in self.events if e.get("type") == "run_start"]
        if ends and (not starts or ends[-1].get("seq", 0) >= starts[-1].get("seq", 0)):
            return str(ends[-1].get("status") or "ok")
        meta_status = self.meta.get("status")
        if self.source == "massgen" and meta_status:
            return str(meta_status)
        if meta_status == "running":
            from .lifecycle import pid_alive

            if pid_alive(self.meta.get("pid")):
                return "running"
        return "incomplete"


def read_jsonl(path: Path) -> tuple[list[dict[str, Any]], list[SkippedLine]]:
    """Parse a JSONL file; lines that are not one JSON object are skipped and reported."""
    events: list[dict[str, Any]] = []
    skipped: list[SkippedLine] = []
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    ends_with_newline = raw.endswith(b"\n")
    if ends_with_newline:
        lines = lines[:-1]
    for number, chunk in enumerate(lines, start=1):
        last = number == len(lines)
        if not chunk.strip():
            continue
        try:
            value = json.loads(chunk.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            torn = last and not ends_with_newline
            reason = "torn last line (the writer stopped mid-line)" if torn else f"not JSON: {exc.msg if hasattr(exc, 'msg') else exc}"
            skipped.append(SkippedLine(path.name, number, reason, last=last))
            continue
        if not isinstance(value, dict):
            skipped.append(SkippedLine(path.name, number, "not a JSON object", last=last))
            continue
        events.append(value)
    return events, skipped


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_our_run(path: Path) -> RunData:
    """Read a run directory written by :class:`~.writer.RunLog`."""
    meta = _load_json(path / "meta.json")
    events_path = path / "events.jsonl"
    events, skipped = read_jsonl(events_path) if events_path.exists() else ([], [])
    events.sort(key=lambda e: (_v if isinstance(_v := e.get("seq"), int) else 1 << 62))
    return RunData(
        path=path,
        source="massgen-plugins",
        meta=redact_data(meta if isinstance(meta, dict) else {}),
        events=redact_data(events),
        skipped=skipped,
    )


def detect_format(path: Path) -> str | None:
    """``massgen-plugins``, ``massgen`` or ``None`` for a directory that is neither."""
    if not path.is_dir():
        return None
    meta = _load_json(path / "meta.json") if (path / "meta.json").exists() else None
    if isinstance(meta, dict) and meta.get("format") == "massgen-plugins-run":
        return "massgen-plugins"
    from .massgen_format import is_massgen_dir

    if is_massgen_dir(path):
        return "massgen"
    if (path / "events.jsonl").exists():
        first, _ = read_jsonl(path / "events.jsonl")
        if first and "seq" in first[0] and "type" in first[0]:
            return "massgen-plugins"
        if first and "event_type" in first[0]:
            return "massgen"
    return None


def read_run(path: str | Path) -> RunData:
    """Read any supported run directory.

    :raises InputError: when ``path`` does not exist or is not a run directory of either layout.
    """
    from ..errors import InputError

    directory = Path(path).expanduser()
    if not directory.exists():
        raise InputError(f"run directory {directory} does not exist; see `massgen-plugins logs list`")
    if directory.is_file():
        directory = directory.parent
    kind = detect_format(directory)
    if kind == "massgen-plugins":
        return read_our_run(directory)
    if kind == "massgen":
        from .massgen_format import read_massgen_run

        return read_massgen_run(directory)
    raise InputError(
        f"{directory} is not a run directory: expected meta.json + events.jsonl (massgen-plugins) "
        "or a MassGen log_*/turn_*/attempt_* directory"
    )
