"""Where skipped plugin implementations are reported.

Every implementation the host skips -- it raised, returned the wrong type, or missed its
deadline -- is reported in three places:

* a warning line on the ``massgen_plugins.hooks`` logger that names the plugin and the hook
  (once per plugin, hook and kind of failure in a process; built-in plugins are not warned about,
  their skips are expected conditions such as a summarizer without an API key);
* the observers installed with :func:`observe` in the current context: a guarded ``Session``
  installs one for each turn and writes a ``plugin_skipped`` run-log event per report;
* the result of the call itself (``ChainResult.skipped``), which commands print in their
  ``--json`` output.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .hookcall import Attempt

Observer = Callable[["Attempt"], None]

logger = logging.getLogger("massgen_plugins.hooks")
BUILTIN_PREFIX = "massgen_plugins."

_observers: contextvars.ContextVar[tuple[Observer, ...]] = contextvars.ContextVar(
    "massgen_plugins_hook_observers", default=()
)
_warned: set[tuple[str, str, str]] = set()
_lock = threading.Lock()


def is_builtin(plugin: str) -> bool:
    """Built-in default plugins are registered under their module path."""
    return plugin.startswith(BUILTIN_PREFIX)


def warning_line(attempt: Attempt) -> str:
    verb = {"timeout": "was too slow", "rejected": "returned an invalid result", "error": "failed"}
    what = verb.get(attempt.status, attempt.status)
    return (
        f"massgen-plugins: warning: plugin {attempt.plugin!r} {what} in {attempt.hook} and was skipped: "
        f"{attempt.error}. Disable it with MASSGEN_PLUGINS_DISABLED={attempt.plugin}"
    )


def report_skip(attempt: Attempt) -> None:
    """Report one skipped implementation (see the module docstring)."""
    if not is_builtin(attempt.plugin):
        key = (attempt.plugin, attempt.hook, attempt.status)
        with _lock:
            first = key not in _warned
            _warned.add(key)
        if first:
            logger.warning(warning_line(attempt))
    for observer in _observers.get():
        try:
            observer(attempt)
        except Exception:  # an observer must never break the hook call it watches
            logger.debug("hook observer failed", exc_info=True)


@contextlib.contextmanager
def observe(observer: Observer) -> Iterator[None]:
    """Call ``observer`` with every skipped implementation in this context (task or thread)."""
    token = _observers.set((*_observers.get(), observer))
    try:
        yield
    finally:
        _observers.reset(token)
