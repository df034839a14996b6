"""Deep redaction for run logs: nested data, headers, exceptions.

:func:`massgen_plugins.redact.redact` cleans one string (known key values from the environment,
key-shaped tokens, ``Authorization:``-style headers). Run-log events carry structured data, so
this module walks dicts, lists, pydantic models and exceptions and also masks values by the
*name* they are stored under (``api_key``, ``Authorization``, ``x-api-key``, ``client_secret``,
``password``, ``*_token``...), whatever the value looks like.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .. import redact as _redact_module
from ..redact import MASK, Cleaner, cleaner, environ_fingerprint, known_secrets

__all__ = ["MASK", "env_secret_values", "is_secret_name", "redact_data", "redact_exception"]

_EXACT_NAMES = {
    "api_key", "apikey", "authorization", "proxy_authorization", "x_api_key", "x_goog_api_key",
    "api_token", "token", "access_token", "refresh_token", "id_token", "auth_token", "session_token",
    "bearer", "secret", "client_secret", "password", "passwd", "cookie", "set_cookie", "private_key",
    "credentials", "x_auth_token", "ocp_apim_subscription_key",
}
_SUFFIXES = ("_api_key", "_apikey", "_secret", "_password", "_access_token", "_auth_token",
             "_refresh_token", "_session_token", "_private_key", "_secret_key")
_SECRET_ENV = re.compile(r"(?:_KEY|_TOKEN|_SECRET|_PASSWORD|_PASSWD|_CREDENTIALS)$")


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """True when a mapping key names a credential (``Authorization``, ``x-api-key``, ``*_token``)."""
    norm = name.strip().lower().replace("-", "_").replace(" ", "_")
    return norm in _EXACT_NAMES or norm.endswith(_SUFFIXES)


def env_secret_values(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Values of environment variables whose *names* say they hold a secret (``*_API_KEY``,
    ``*_TOKEN``, ``*_SECRET``, ``*_PASSWORD``, ..., and every variable
    :func:`massgen_plugins.redact.redact` knows), longest first. Short values are ignored: they
    would mask ordinary words."""
    if environ is None:
        raw = getattr(os.environ, "_data", None)
        if isinstance(raw, dict):
            # bytes cache their hash, so this fingerprint costs microseconds, not a full scan
            fingerprint = hash(tuple(raw.items()))
            if _env_cache[0] == fingerprint:
                return _env_cache[1]
            values = _scan(os.environ)
            _env_cache[:] = [fingerprint, values]
            return values
    return _scan(os.environ if environ is None else environ)


_env_cache: list[Any] = [None, ()]


def _scan(env: Mapping[str, str]) -> tuple[str, ...]:
    known = set(getattr(_redact_module, "KEY_ENV_VARS", ()))
    values = {v for k, v in env.items()
              if (len(v) >= 8 and _SECRET_ENV.search(k.upper())) or (len(v) >= 6 and (k in known or k.endswith("_API_KEY")))}
    return tuple(sorted(values, key=len, reverse=True))


def redact_exception(exc: BaseException, *, secrets: Iterable[str] = ()) -> str:
    """``"ExcType: message"`` with every secret masked (the message, not a traceback)."""
    clean = cleaner(known_secrets((*secrets, *env_secret_values())))
    text = str(exc).strip()
    return clean(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def redact_data(value: Any, *, secrets: Iterable[str] = ()) -> Any:
    """A JSON-able deep copy of ``value`` with every secret masked.

    Strings go through :func:`~massgen_plugins.redact.redact` (plus ``secrets`` and every
    secret-named environment variable's value); values stored under a secret-looking key are
    replaced by ``[REDACTED]`` entirely; :class:`~pydantic.SecretStr` values are always masked;
    exceptions become their redacted ``"Type: message"`` text; pydantic models are dumped first.
    """
    return _walk(value, _cleaner(tuple(secrets)), depth=0)


_cleaners: dict[tuple[Any, ...], Cleaner] = {}


def _cleaner(secrets: tuple[str, ...]) -> Cleaner:
    """The cleaner for ``secrets`` plus every known and secret-named environment value; looked
    up by one fingerprint of the environment while it does not change (the run log redacts
    every event)."""
    fingerprint = environ_fingerprint()
    found = _cleaners.get((secrets, fingerprint)) if fingerprint is not None else None
    if found is None:
        extra = tuple(sorted({s for s in (*secrets, *env_secret_values()) if s}, key=len, reverse=True))
        found = cleaner(known_secrets(extra))
        if fingerprint is not None:
            if len(_cleaners) >= 64:
                _cleaners.clear()
            _cleaners[(secrets, fingerprint)] = found
    return found


def _walk(value: Any, clean: Cleaner, depth: int) -> Any:
    kind = type(value)
    if kind is str:
        return clean(value)
    if value is None or kind in (bool, int, float):
        return value
    if kind is dict:
        return _walk_mapping(value, clean, depth)
    if kind in (list, tuple):
        return [_walk(item, clean, depth + 1) for item in value]
    return _walk_other(value, clean, depth)


def _walk_mapping(value: Any, clean: Cleaner, depth: int) -> dict[str, Any]:
    if depth > 64:
        return {"[TOO DEEP]": True}
    out: dict[str, Any] = {}
    for key, item in value.items():
        name, secret = clean.name(key if type(key) is str else str(key), is_secret_name)
        kind = type(item)
        if secret and item not in (None, ""):
            out[name] = MASK
        elif kind is str:  # the common leaves, without a call per value
            out[name] = clean(item)
        elif item is None or kind is int or kind is float or kind is bool:
            out[name] = item
        else:
            out[name] = _walk(item, clean, depth + 1)
    return out


def _walk_other(value: Any, clean: Cleaner, depth: int) -> Any:
    if depth > 64:
        return "[TOO DEEP]"
    if isinstance(value, str):
        return clean(str(value))
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (bytes, bytearray)):
        return clean(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, BaseException):
        text = str(value).strip()
        return clean(f"{type(value).__name__}: {text}" if text else type(value).__name__)
    if type(value).__name__ in ("SecretStr", "SecretBytes"):
        return MASK
    if isinstance(value, Mapping) or (hasattr(value, "items") and callable(value.items)):
        return _walk_mapping(value, clean, depth)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_walk(item, clean, depth + 1) for item in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            # secrets inside models stay SecretStr objects in python mode; the walk masks them
            return _walk(dump(), clean, depth + 1)
        except Exception:
            pass
    return clean(str(value))
