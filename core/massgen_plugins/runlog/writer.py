"""``RunLog``: write one run directory (``events.jsonl`` + ``meta.json``).

Guarantees:

* **append-only, crash-safe**: each event is serialized first and written with a single
  ``write`` on a file opened with ``O_APPEND``, then flushed to the OS. A crash (even
  ``kill -9``) loses at most the line being written; the reader skips such a torn last line, and
  reopening the run starts a fresh line so the next event is never glued to the torn one.
* **validated**: every event is checked against :mod:`~massgen_plugins.runlog.schema`.
* **redacted**: every field goes through :func:`~massgen_plugins.runlog.redaction.redact_data`
  (key values from the environment, key shapes, auth headers, secret-named fields, exceptions),
  and ``meta.json`` too.
* **thread- and asyncio-safe**: a lock orders ``seq`` and the write; nothing awaits while it is
  held, so the same ``RunLog`` can be shared by threads and by tasks on one event loop.
* ``meta.json`` is replaced atomically (temp file + ``fsync`` + ``os.replace``).
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets as _secrets
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .lifecycle import exit_status, track, untrack
from .redaction import redact_data
from .schema import SCHEMA_VERSION, validated_event

__all__ = ["RunLog", "check_run_id", "new_run_id", "runs_root", "write_json_atomic", "write_private_text"]

EVENTS_FILE = "events.jsonl"
META_FILE = "meta.json"
FORMAT = "massgen-plugins-run"


def runs_root() -> Path:
    """Where run directories go by default: ``<MASSGEN_PLUGINS_HOME>/runs``."""
    from ..paths import home

    return home() / "runs"


def new_run_id(now: float | None = None) -> str:
    """``run_YYYYMMDD_HHMMSS_<6 hex>`` (sortable by start time, unique)."""
    moment = datetime.fromtimestamp(time.time() if now is None else now, tz=timezone.utc)
    return f"run_{moment:%Y%m%d_%H%M%S}_{_secrets.token_hex(3)}"


_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_run_id(run_id: str) -> str:
    """Return ``run_id`` if it is safe as one directory name, else raise ``InputError``.

    A run id becomes a path under the runs directory, so it is one name of letters, digits,
    ``.``, ``_`` and ``-`` (at most 128, not starting with ``.``): no separator, no ``..``.
    """
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id) or ".." in run_id:
        from ..errors import InputError

        raise InputError(
            f"invalid run id {run_id!r}: use 1-128 letters, digits, '.', '_' or '-' (no '/', no '..', "
            "not starting with '.'); or pass a directory path instead"
        )
    return run_id


_second: list[Any] = [None, ""]  # the last whole second formatted, and its text


def _iso(epoch: float) -> str:
    """``2026-01-10T15:00:00.123Z``: what ``datetime.fromtimestamp(epoch, timezone.utc)`` gives
    (microseconds rounded half to even, then cut to milliseconds), with the date and time of
    the second formatted once per second."""
    frac, whole = math.modf(epoch)
    micros = round(frac * 1e6)
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    elif micros < 0:
        whole, micros = whole - 1, micros + 1_000_000
    second = int(whole)
    last, text = _second
    if second != last:
        text = datetime.fromtimestamp(second, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        _second[:] = [second, text]
    return f"{text}.{micros // 1000:03d}Z"


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically (a reader sees the old or the new file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    payload = json.dumps(data, indent=2, ensure_ascii=False, default=str).encode("utf-8")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, payload + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def write_private_text(path: str | os.PathLike[str], text: str, *, fsync: bool = True) -> Path:
    """Write a report (it quotes the run's transcript) readable by its owner only (0600),
    atomically: a unique temporary file in the same directory, then ``os.replace``.
    ``fsync=False`` for files that are rebuilt when lost (caches)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{_secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
        if fsync:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.chmod(tmp, 0o600)  # O_CREAT honours the umask; the mode must not depend on it
    os.replace(tmp, target)
    return target


class RunLog:
    """One run's event log. Create with :meth:`create` (new run) or :meth:`open` (resume).

    .. code-block:: python

        with RunLog.create(title="triage", agents=[{"id": "a1", "model": "openai/gpt-4o-mini"}]) as log:
            log.event("call_start", agent="a1", call_id="c1", model="openai/gpt-4o-mini")
            log.event("call_end", agent="a1", call_id="c1", model="openai/gpt-4o-mini",
                      latency_ms=812.5, usage={"input_tokens": 1200, "output_tokens": 85})
        # leaving the block writes run_end (status 'failed' if an exception escaped)
    """

    def __init__(
        self,
        path: Path,
        *,
        run_id: str,
        team: str | None = None,
        secrets: Iterable[str] = (),
        clock: Callable[[], float] | None = None,
        fsync: bool = False,
        _started_at: float | None = None,
        _next_seq: int = 0,
    ) -> None:
        self.path = Path(path)
        self.run_id = run_id
        self.team = team
        self.fsync = fsync
        self._secrets = tuple(s for s in secrets if s)
        self._clock = clock or time.time
        self._lock = threading.Lock()
        self._seq = _next_seq
        self._closed = False
        self._ended = False
        self._counts: dict[str, int] = {}
        self._started_wall = self._clock() if _started_at is None else _started_at
        # elapsed_ms continues across a resume: offset by the wall time already elapsed
        self._offset_ms = max(0.0, (self._clock() - self._started_wall) * 1000.0)
        # a pinned clock (tests, samples) drives elapsed_ms too; otherwise the monotonic clock
        self._pinned = clock is not None
        self._mono0 = self._started_wall if self._pinned else time.monotonic()
        self.path.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path / EVENTS_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._meta: dict[str, Any] = {}
        track(self)  # closed with an honest status at exit if the program never closes it

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        run_id: str | None = None,
        title: str | None = None,
        agents: Iterable[dict[str, Any]] = (),
        team: str | None = None,
        config: dict[str, Any] | None = None,
        secrets: Iterable[str] = (),
        clock: Callable[[], float] | None = None,
        fsync: bool = False,
    ) -> RunLog:
        """Start a new run: make the directory (``path``, or ``<home>/runs/<run_id>``), write
        ``meta.json`` and a ``run_start`` event.

        :param secrets: extra secret values to mask (keys passed in code rather than env vars).
        :param clock: wall-clock source (epoch seconds); tests and samples pin it.
        :param fsync: also ``fsync`` after every event (survives power loss, slower).
        :raises InputError: for a ``run_id`` that is not a safe directory name (when it makes the
            path) or a directory that already holds events.
        """
        clock_fn = clock or time.time
        if run_id is not None and path is None:
            check_run_id(run_id)
        rid = run_id or (Path(path).name if path is not None else new_run_id(clock_fn()))
        directory = Path(path) if path is not None else runs_root() / rid
        if (directory / EVENTS_FILE).exists() and (directory / EVENTS_FILE).stat().st_size:
            from ..errors import InputError

            raise InputError(f"run directory {directory} already has events; use RunLog.open() to resume it")
        log = cls(directory, run_id=rid, team=team, secrets=secrets, clock=clock_fn, fsync=fsync)
        agent_list = [dict(a) for a in agents]
        from .._version import __version__

        log._meta = {
            "format": FORMAT,
            "schema_version": SCHEMA_VERSION,
            "run_id": rid,
            "title": title,
            "team": team,
            "agents": agent_list,
            "status": "running",
            "started_at": _iso(log._started_wall),
            "ended_at": None,
            "host_version": __version__,
            "pid": os.getpid(),
            "config": config or {},
            "event_counts": {},
        }
        log._write_meta()
        log.event("run_start", title=title, agents=agent_list, config=config or {},
                  pid=os.getpid(), host_version=__version__)
        return log

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        secrets: Iterable[str] = (),
        clock: Callable[[], float] | None = None,
        fsync: bool = False,
        note: str | None = None,
    ) -> RunLog:
        """Reopen an existing run to append to it (a resumed agent, a new process).

        Continues the sequence numbers, terminates a torn last line left by a crash, marks the
        run ``running`` again and writes a ``run_start`` event with ``resumed=true``.
        """
        from .reader import read_our_run

        directory = Path(path)
        meta_path = directory / META_FILE
        if not meta_path.exists():
            from ..errors import InputError

            raise InputError(f"{directory} is not a massgen-plugins run directory (no {META_FILE})")
        data = read_our_run(directory)
        meta = data.meta
        started = _parse_iso(meta.get("started_at"))
        next_seq = max((e.get("seq", -1) for e in data.events if isinstance(e.get("seq"), int)), default=-1) + 1
        events_path = directory / EVENTS_FILE
        if events_path.exists() and events_path.stat().st_size:
            with open(events_path, "rb") as fh:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    with open(events_path, "ab") as out:
                        out.write(b"\n")  # close the torn line so it stays one skipped line
        log = cls(directory, run_id=str(meta.get("run_id") or directory.name), team=meta.get("team"),
                  secrets=secrets, clock=clock, fsync=fsync, _started_at=started, _next_seq=next_seq)
        log._meta = dict(meta)
        log._counts = dict(meta.get("event_counts") or {})
        log._meta.update(status="running", ended_at=None, pid=os.getpid())
        log._write_meta()
        log.event("run_start", resumed=True, pid=os.getpid(), title=meta.get("title"),
                  host_version=meta.get("host_version"), data={"note": note} if note else {})
        return log

    # ------------------------------------------------------------------ writing
    @property
    def meta(self) -> dict[str, Any]:
        """A copy of the current ``meta.json`` content."""
        return json.loads(json.dumps(self._meta, default=str))

    @property
    def events_path(self) -> Path:
        return self.path / EVENTS_FILE

    def event(self, type: str, **fields: Any) -> dict[str, Any]:
        """Validate, redact and append one event; return it as written.

        ``fields`` are the event type's fields plus optional ``agent``, ``team``, ``turn`` and
        ``data``. The envelope (``seq``, ``ts``, ``elapsed_ms``, ``run_id``,
        ``schema_version``) is filled in here.

        :raises EventSchemaError: when the fields do not match the schema (nothing is written).
        :raises RuntimeError: when the log is closed.
        """
        return json.loads(self._append(type, fields))  # type: ignore[no-any-return]

    def write(self, type: str, **fields: Any) -> None:
        """:meth:`event` without reading the event back: what a hot path that only records uses.

        A subclass that overrides :meth:`event` (to observe every event) is called through it.
        """
        if self.__class__.event is not RunLog.event:
            self.event(type, **fields)
            return
        self._append(type, fields)

    def _append(self, type: str, fields: dict[str, Any]) -> bytes:
        clean = redact_data(fields, secrets=self._secrets)
        if self.team is not None:
            clean.setdefault("team", self.team)
        with self._lock:
            if self._closed:
                raise RuntimeError(f"run log {self.run_id} is closed")
            record = {
                "type": type,
                "seq": self._seq,
                "ts": _iso(self._clock()),
                "elapsed_ms": round(self._elapsed_ms(), 3),
                "run_id": self.run_id,
                "schema_version": SCHEMA_VERSION,
                **clean,
            }
            event = validated_event(record)
            # serialized by the model itself, in one call (None fields and empty data left out)
            line = event.__pydantic_serializer__.to_json(event, exclude_none=True,
                                                         exclude=None if event.data else {"data"}) + b"\n"
            os.write(self._fd, line)
            if self.fsync:
                os.fsync(self._fd)
            self._seq += 1
            self._counts[type] = self._counts.get(type, 0) + 1
            if type == "run_end":
                self._ended = True
        return line

    def update_meta(self, **fields: Any) -> None:
        """Merge ``fields`` (redacted) into ``meta.json`` and rewrite it atomically."""
        clean = redact_data(fields, secrets=self._secrets)
        with self._lock:
            self._meta.update(clean)
            self._write_meta_locked()

    def close(self, status: str = "ok", *, error: BaseException | str | None = None) -> None:
        """Write ``run_end`` (unless already written), finalize ``meta.json`` and close the file.

        :param status: ``ok``, ``failed`` or ``interrupted``.
        """
        if self._closed:
            return
        duration = self._elapsed_ms()
        if not self._ended:
            fields: dict[str, Any] = {"status": status, "duration_ms": round(duration, 3)}
            if error is not None:
                fields["error"] = error
            self.event("run_end", **fields)
        with self._lock:
            self._meta.update(status=status, ended_at=_iso(self._clock()), duration_ms=round(duration, 3))
            if error is not None:
                self._meta["error"] = redact_data(error, secrets=self._secrets)
            self._write_meta_locked()
            self._closed = True
            os.close(self._fd)
        untrack(self)

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        status = exit_status(exc)
        self.close(status, error=exc if status != "ok" else None)

    async def __aenter__(self) -> RunLog:
        return self

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.__exit__(exc_type, exc, tb)

    # ------------------------------------------------------------------ internals
    def _elapsed_ms(self) -> float:
        if self._pinned:
            return max(0.0, (self._clock() - self._started_wall) * 1000.0)
        return self._offset_ms + (time.monotonic() - self._mono0) * 1000.0

    def _write_meta(self) -> None:
        with self._lock:
            self._write_meta_locked()

    def _write_meta_locked(self) -> None:
        self._meta["event_counts"] = dict(self._counts)
        self._meta["events"] = self._seq
        self._meta["updated_at"] = _iso(self._clock())
        write_json_atomic(self.path / META_FILE, redact_data(self._meta, secrets=self._secrets))

    def __repr__(self) -> str:
        return f"RunLog({str(self.path)!r}, run_id={self.run_id!r}, events={self._seq})"


def _parse_iso(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
