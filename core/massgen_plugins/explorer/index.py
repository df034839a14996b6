"""The run index: every run under the explorer's directories, summarised once per change.

A run's summary is recomputed only when its files change: each run is keyed by a *fingerprint*
(size and modification time of ``meta.json`` and ``events.jsonl``, or of every file a MassGen
attempt directory holds), so answering ``/api/runs`` costs a directory listing and a few
``stat`` calls per run, never a re-read. Summaries are also kept in a cache file (owner-only)
under ``<MASSGEN_PLUGINS_HOME>/cache/explorer/``, so a restarted explorer starts warm.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .models import RunSummary

__all__ = ["RunIndex", "default_run_dirs", "summarize_path"]

_CACHE_VERSION = 1
Fingerprint = tuple[Any, ...]


def default_run_dirs() -> list[Path]:
    """``<home>/runs`` and the MassGen log bases (``$MASSGEN_LOG_BASE_DIR``, ``./.massgen/massgen_logs``,
    ``~/.massgen/massgen_logs``), as ``logs list`` uses them."""
    from ..runlog.massgen_format import massgen_log_bases
    from ..runlog.writer import runs_root

    return [runs_root(), *massgen_log_bases()]


def _stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _massgen_fingerprint(log_dir: str) -> Fingerprint:
    parts: list[Any] = []
    stack = [(log_dir, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if depth < 3 and (entry.name.startswith(("turn_", "attempt_")) or entry.name == "compression_debug"):
                    stack.append((entry.path, depth + 1))
            elif entry.name.endswith((".json", ".jsonl")):
                st = entry.stat()
                parts.append((entry.path, st.st_size, st.st_mtime_ns))
    return tuple(parts)


def _ours_fingerprint(run_dir: str) -> Fingerprint | None:
    """``None`` when ``run_dir`` has no ``meta.json`` (not one of our runs)."""
    meta = _stat(os.path.join(run_dir, "meta.json"))
    return None if meta is None else (meta, _stat(os.path.join(run_dir, "events.jsonl")))


def _fingerprint(path: Path, source: str) -> Fingerprint | None:
    if source == "massgen":
        return _massgen_fingerprint(str(path))
    return _ours_fingerprint(str(path))


def summarize_path(path: Path) -> RunSummary:
    """Read one run directory (ours or MassGen's) and summarise it."""
    from ..runlog.analysis import summarize_run
    from ..runlog.reader import read_run

    run = read_run(path)
    s = summarize_run(run.events, run.meta, source=run.source, skipped_lines=len(run.skipped), status=run.status)
    status = run.status
    live = status == "running"
    r = s["run"]
    return RunSummary(
        id=run.run_id, source=run.source, path=str(path), status=status,
        status_detail=run.meta.get("status_detail") or (str(run.meta["error"])[:300] if run.meta.get("error") else None),
        title=r.get("title"), agents=list(r.get("agents") or []), models=sorted(s["calls"]["by_model"]),
        started_at=r.get("started_at") or (run.events[0].get("ts") if run.events else None),
        duration_ms=r.get("duration_ms"), events=len(run.events), calls=s["calls"]["total"],
        failed_calls=s["calls"]["failed"], overflows=s["overflows"]["total"],
        compressions=s["compressions"]["total"], tokens_saved=s["compressions"]["tokens_saved"],
        retries=s["retries"]["total"], fallbacks=sum(f["count"] for f in s["fallbacks"]),
        errors=s["errors"]["total"], cost_usd=s["cost"]["usd"], cost_complete=bool(s["cost"]["complete"]),
        live=live,
    )


class RunIndex:
    """Runs found under ``dirs`` (each a runs directory, a MassGen log base, or one run)."""

    def __init__(self, dirs: Iterable[str | os.PathLike[str]], *, cache_file: Path | None | bool = None) -> None:
        self.dirs = [Path(d).expanduser() for d in dirs]
        self._lock = threading.Lock()
        # directory -> (fingerprint, summary, summary JSON, fingerprint JSON): encoded once per change
        self._entries: dict[str, tuple[Fingerprint, RunSummary, bytes, bytes]] = {}
        self._ordered: list[tuple[RunSummary, bytes]] | None = None
        self._by_id: dict[str, str] = {}
        if cache_file is None:
            from ..paths import home

            cache_file = home() / "cache" / "explorer" / "runs-index.json"
        self.cache_file: Path | None = cache_file if isinstance(cache_file, Path) else None
        self._load_cache()

    # ------------------------------------------------------------------ discovery
    def scan(self) -> dict[str, tuple[str, Fingerprint]]:
        """``{run directory: (source, fingerprint)}`` for every run under the directories.

        This is all a warm request pays: a listing per directory and two ``stat`` calls per run
        (``os.scandir`` knows which entries are directories without a ``stat``)."""
        found: dict[str, tuple[str, Fingerprint]] = {}
        for base in map(str, self.dirs):
            own = _ours_fingerprint(base)
            if own is not None:
                found.setdefault(base, ("massgen-plugins", own))
                continue
            if os.path.basename(base).startswith("log_") and os.path.isdir(base):
                found.setdefault(base, ("massgen", _massgen_fingerprint(base)))
                continue
            try:
                entries = list(os.scandir(base))
            except OSError:
                continue
            for entry in entries:
                if not entry.is_dir():
                    continue
                if entry.name.startswith("log_"):
                    found.setdefault(entry.path, ("massgen", _massgen_fingerprint(entry.path)))
                else:
                    fingerprint = _ours_fingerprint(entry.path)
                    if fingerprint is not None:
                        found.setdefault(entry.path, ("massgen-plugins", fingerprint))
        return found

    # ------------------------------------------------------------------ summaries
    def runs(self) -> list[RunSummary]:
        """Every run, newest first; only changed runs are re-read."""
        return [summary for summary, _ in self.listing()]

    def listing(self) -> list[tuple[RunSummary, bytes]]:
        """``(summary, its JSON)`` for every run, newest first (the JSON is encoded once per change)."""
        with self._lock:
            found = self.scan()
            changed = False
            for key, (source, fingerprint) in found.items():
                cached = self._entries.get(key)
                if cached is not None and cached[0] == fingerprint and (not cached[1].live or _pid_alive_of(key)):
                    continue  # unchanged (a live run whose writer died is re-read: it is incomplete now)
                self._entries[key] = _entry(fingerprint, _summarize_safely(Path(key), source))
                changed = True
            for gone in set(self._entries) - set(found):
                del self._entries[gone]
                changed = True
            if changed or self._ordered is None:
                self._order()
                self._save_cache()
            assert self._ordered is not None
            return self._ordered

    def _order(self) -> None:
        ordered = sorted(((s, raw) for _, s, raw, _ in self._entries.values()),
                         key=lambda item: (item[0].started_at or "", item[0].id), reverse=True)
        self._by_id = {}
        out: list[tuple[RunSummary, bytes]] = []
        for summary, raw in ordered:
            rid, n = summary.id, 2
            while rid in self._by_id:  # the same id in two directories: the older gets a suffix
                rid = f"{summary.id}~{n}"
                n += 1
            if rid != summary.id:
                summary = summary.model_copy(update={"id": rid})
                raw = summary.model_dump_json().encode()
            self._by_id[rid] = summary.path
            out.append((summary, raw))
        self._ordered = out

    def path_of(self, run_id: str) -> Path | None:
        """The directory of the run listed as ``run_id`` (``None`` if unknown)."""
        with self._lock:
            known = self._by_id.get(run_id)
        if known is None:
            self.runs()
            with self._lock:
                known = self._by_id.get(run_id)
        return Path(known) if known is not None else None

    def summary_of(self, run_id: str) -> RunSummary | None:
        """The run's current summary (re-read if its files changed since the last look)."""
        path = self.path_of(run_id)
        if path is None:
            return None
        with self._lock:
            entry = self._entries.get(str(path))
            if entry is None:
                return None
            source = entry[1].source
        fingerprint = _fingerprint(path, source)
        if fingerprint is None:  # the run directory went away
            return None
        if fingerprint != entry[0] or (entry[1].live and not _pid_alive_of(path)):
            summary = summarize_path(path)
            with self._lock:
                self._entries[str(path)] = _entry(fingerprint, summary)
                self._ordered = None  # the next listing re-sorts and saves
            return summary.model_copy(update={"id": run_id})
        return entry[1].model_copy(update={"id": run_id})

    # ------------------------------------------------------------------ cache file
    def _load_cache(self) -> None:
        if self.cache_file is None or not self.cache_file.is_file():
            return
        try:
            data = json.loads(self.cache_file.read_text(encoding="utf-8"))
            if data.get("version") != _CACHE_VERSION:
                return
            for key, item in data.get("runs", {}).items():
                fingerprint = _from_json(item["fingerprint"])
                self._entries[key] = _entry(fingerprint, RunSummary.model_validate(item["summary"]))
        except (OSError, ValueError, KeyError, TypeError):
            self._entries = {}  # a damaged cache is rebuilt, never trusted

    def _save_cache(self) -> None:
        if self.cache_file is None:
            return
        from ..runlog.writer import write_private_text

        # composed from each run's JSON, encoded once: saving costs a join, not 1,000 dumps
        items = b",".join(json.dumps(key).encode() + b':{"fingerprint":' + fp_json + b',"summary":' + raw + b"}"
                          for key, (_, summary, raw, fp_json) in self._entries.items() if not summary.live)
        payload = b'{"version":' + str(_CACHE_VERSION).encode() + b',"runs":{' + items + b"}}"
        try:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_private_text(self.cache_file, payload.decode(), fsync=False)  # a cache: rebuilt if lost
        except OSError:
            pass  # a read-only home: the in-memory index still works


def _from_json(value: Any) -> Any:
    """JSON turned tuples into lists: turn them back so fingerprints compare equal."""
    if isinstance(value, list):
        return tuple(_from_json(v) for v in value)
    return value


def _entry(fingerprint: Fingerprint, summary: RunSummary) -> tuple[Fingerprint, RunSummary, bytes, bytes]:
    return fingerprint, summary, summary.model_dump_json().encode(), json.dumps(fingerprint).encode()


def _summarize_safely(path: Path, source: str) -> RunSummary:
    try:
        return summarize_path(path)
    except Exception as exc:  # an unreadable run is listed, not fatal
        from ..redact import redact

        return RunSummary(id=path.name, source=source, path=str(path), status="unreadable",
                          status_detail=redact(f"{type(exc).__name__}: {exc}")[:300])


def _pid_alive_of(path: str | Path) -> bool:
    try:
        meta = json.loads(Path(path, "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    from ..runlog.lifecycle import pid_alive

    return meta.get("status") == "running" and pid_alive(meta.get("pid"))
