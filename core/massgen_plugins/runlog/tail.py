"""Follow a run while it is written: new events as they land, for ``logs tail`` and the
explorer's live updates.

For our runs the follower keeps its byte offset in ``events.jsonl`` and reads only what was
appended (a line still being written waits for its newline; a torn line left by a crash is
skipped). A MassGen log has no single append-only file, so it is re-read when any of its files
changes and only events past the last one seen are returned. Every event is redacted.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .redaction import redact_data

__all__ = ["RunFollower"]


class RunFollower:
    """``poll()`` returns the events written since the previous call (all of them the first time,
    or those after ``after_seq``)."""

    def __init__(self, run_dir: str | os.PathLike[str], *, after_seq: int = -1) -> None:
        from .reader import detect_format

        self.path = Path(run_dir)
        self.source = detect_format(self.path) or "massgen-plugins"
        self.last_seq = after_seq
        self._offset = 0
        self._partial = b""
        self._fingerprint: Any = None
        self.ended = False
        """True once the last event read is a ``run_end`` (a resumed run clears it again)."""

    def poll(self) -> list[dict[str, Any]]:
        events = self._poll_massgen() if self.source == "massgen" else self._poll_ours()
        fresh = [e for e in events if not isinstance(e.get("seq"), int) or e["seq"] > self.last_seq]
        for e in fresh:
            if isinstance(e.get("seq"), int):
                self.last_seq = e["seq"]
            if e.get("type") == "run_end":
                self.ended = True
            elif e.get("type") == "run_start":
                self.ended = False
        return fresh

    def _poll_ours(self) -> list[dict[str, Any]]:
        path = self.path / "events.jsonl"
        try:
            size = path.stat().st_size
        except OSError:
            return []
        if size < self._offset:  # replaced by a shorter file: start over
            self._offset, self._partial = 0, b""
        if size == self._offset:
            return []
        with open(path, "rb") as fh:
            fh.seek(self._offset)
            chunk = fh.read(size - self._offset)
        self._offset += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()  # an unfinished line waits for the rest
        out = []
        for line in lines:
            if not line.strip():
                continue
            try:
                value = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                continue  # a torn line from a crash: skipped, as the reader does
            if isinstance(value, dict):
                out.append(value)
        return redact_data(out)  # type: ignore[no-any-return]

    def _poll_massgen(self) -> list[dict[str, Any]]:
        from .massgen_format import read_massgen_run

        stamp = []
        for root, _dirs, files in os.walk(self.path):
            for name in files:
                if name.endswith((".json", ".jsonl")):
                    try:
                        st = os.stat(os.path.join(root, name))
                    except OSError:
                        continue
                    stamp.append((root, name, st.st_size, st.st_mtime_ns))
        fingerprint = tuple(sorted(stamp))
        if fingerprint == self._fingerprint:
            return []
        self._fingerprint = fingerprint
        return read_massgen_run(self.path).events
