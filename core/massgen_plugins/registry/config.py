"""Registry settings: cache TTL, per-provider timeout and retry bounds.

Each has a keyword argument on the public functions and an environment variable, read at call
time so tests and long-running hosts can change them:

* ``MASSGEN_PLUGINS_MODELS_TTL`` -- how long a cached provider list stays fresh (default 24 h).
  Accepts seconds (``3600``) or a number with a unit: ``90s``, ``30m``, ``12h``, ``7d``.
* ``MASSGEN_PLUGINS_MODELS_TIMEOUT`` -- the per-provider deadline for one refresh, retries
  included (default 15 s). A provider that has not answered by then is reported as timed out
  and the others are returned without waiting for it.
"""

from __future__ import annotations

import os
import re

from ..errors import InputError

DEFAULT_TTL = 24 * 3600.0
DEFAULT_TIMEOUT = 15.0
MAX_ATTEMPTS = 3  # per provider and refresh: one call plus two retries
MAX_BACKOFF = 10.0  # seconds; a longer Retry-After ends the refresh (stale cache is served)

_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([smhd]?)\s*$", re.I)


def parse_duration(text: str, *, what: str = "duration") -> float:
    """``"90"``, ``"90s"``, ``"30m"``, ``"12h"``, ``"7d"`` → seconds.

    :raises InputError: for anything else (the message shows the accepted forms).
    """
    match = _DURATION.match(text or "")
    if not match:
        raise InputError(f"invalid {what} {text!r}: use seconds or a number with s/m/h/d, e.g. 12h")
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


def ttl(value: float | None = None) -> float:
    """The cache TTL in seconds: ``value``, else ``MASSGEN_PLUGINS_MODELS_TTL``, else 24 h."""
    if value is not None:
        return float(value)
    raw = os.environ.get("MASSGEN_PLUGINS_MODELS_TTL", "").strip()
    return parse_duration(raw, what="MASSGEN_PLUGINS_MODELS_TTL") if raw else DEFAULT_TTL


def timeout(value: float | None = None) -> float:
    """The per-provider refresh deadline in seconds (``MASSGEN_PLUGINS_MODELS_TIMEOUT``, 15 s)."""
    if value is not None:
        if value <= 0:
            raise InputError(f"timeout must be positive, got {value}")
        return float(value)
    raw = os.environ.get("MASSGEN_PLUGINS_MODELS_TIMEOUT", "").strip()
    return parse_duration(raw, what="MASSGEN_PLUGINS_MODELS_TIMEOUT") if raw else DEFAULT_TIMEOUT
