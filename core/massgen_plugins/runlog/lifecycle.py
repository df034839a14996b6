"""How a run ended, honestly: ``ok``, ``failed`` or ``interrupted``.

:func:`exit_status` maps the exception that ended a block (or ``None``) to a status: Ctrl-C
(``KeyboardInterrupt``), task cancellation and ``SIGTERM``-style ``SystemExit`` codes are
``interrupted``; any other exception is ``failed``; no exception is ``ok``.

A run log that is still open when the interpreter exits (the program forgot to close it, or an
exception escaped past every ``with`` block) is closed by :func:`track` 's exit hook with the
status of the exception that ended the program: the hook chains :data:`sys.excepthook`, which
Python calls for an uncaught exception before it runs ``atexit`` handlers. A program that ends
normally without closing its log gets ``ok``. A process killed with ``SIGKILL`` runs no hook at
all: its run has no ``run_end`` and readers report it ``incomplete``.
"""

from __future__ import annotations

import atexit
import signal
import sys
import threading
import weakref
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .writer import RunLog

__all__ = ["exit_status", "pid_alive", "track", "untrack"]

_open: weakref.WeakSet[RunLog] = weakref.WeakSet()
_lock = threading.Lock()
_installed = False
_uncaught: BaseException | None = None


def exit_status(exc: BaseException | None) -> str:
    """``ok`` for ``None``; ``interrupted`` for Ctrl-C, cancellation and a signal exit; else ``failed``."""
    if exc is None:
        return "ok"
    if isinstance(exc, KeyboardInterrupt) or type(exc).__name__ == "CancelledError":
        return "interrupted"
    if isinstance(exc, SystemExit):
        code = exc.code
        if code in (None, 0):
            return "ok"
        if isinstance(code, int) and code >= 128 and code - 128 in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            return "interrupted"
        return "failed"
    return "failed"


def pid_alive(pid: Any) -> bool:
    """True when a process with this id exists (the writer of a run still ``running``)."""
    import os

    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by someone else
    return True


def _excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    global _uncaught
    _uncaught = value
    _previous_hook(kind, value, tb)


_previous_hook: Any = sys.excepthook


def _close_open_logs() -> None:
    with _lock:
        logs = list(_open)
    status = exit_status(_uncaught)
    for log in logs:
        try:
            log.close(status, error=_uncaught if status != "ok" else None)
        except Exception:  # never let a log stop the interpreter from exiting
            pass


def track(log: RunLog) -> None:
    """Close ``log`` at interpreter exit if it is still open then (see the module docstring)."""
    global _installed, _previous_hook
    with _lock:
        _open.add(log)
        if not _installed:
            _installed = True
            _previous_hook = sys.excepthook
            sys.excepthook = _excepthook
            atexit.register(_close_open_logs)


def untrack(log: RunLog) -> None:
    """``log`` was closed: nothing to do for it at exit."""
    with _lock:
        _open.discard(log)
