"""The fault engine: which injected fault (if any) hits a request.

Faults are checked in injection order; the first one whose scope matches and that is not
exhausted hits. ``on_request=N`` counts matching requests per fault (1-based) and hits only the
Nth; ``times`` caps how many requests a fault hits (``None``: unlimited).
"""

from __future__ import annotations

import threading

from .spec import STREAM_ONLY_KINDS, Fault


class FaultBook:
    """Thread-safe list of injected faults."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        with self._lock:
            return [f for f in self._faults if not f.exhausted]

    def take(self, *, provider: str, model: str | None, path: str, stream: bool) -> Fault | None:
        """The fault that hits this request (its counters updated), or ``None``."""
        chosen: Fault | None = None
        with self._lock:
            for fault in self._faults:
                if fault.exhausted or not _in_scope(fault, provider, model, path, stream):
                    continue
                fault.seen += 1  # every in-scope request counts towards on_request
                if chosen is None and (fault.on_request is None or fault.seen == fault.on_request):
                    chosen = fault
            if chosen is not None:
                chosen.hits += 1
        return chosen


def _in_scope(fault: Fault, provider: str, model: str | None, path: str, stream: bool) -> bool:
    if fault.provider is not None and fault.provider != provider:
        return False
    if fault.model is not None and not _model_matches(fault.model, model):
        return False
    if fault.path is not None and fault.path not in path:
        return False
    if fault.stream is not None and fault.stream != stream:
        return False
    if fault.kind in STREAM_ONLY_KINDS and not stream:
        return False
    return True


def _model_matches(wanted: str, model: str | None) -> bool:
    if model is None:
        return False
    model = model.removeprefix("models/")
    wanted = wanted.removeprefix("models/")
    return model == wanted or model.startswith(wanted + "-") and model[len(wanted) + 1:].isdigit()
