"""Deep redaction for run logs: nested data, headers, exceptions.

:func:`massgen_plugins.redact.redact` cleans one string (known key values from the environment,
key-shaped tokens, ``Authorization:``-style headers). Run-log events carry structured data, so
this module walks dicts, lists, pydantic models and exceptions and also masks values by the
*name* they are stored under (``api_key``, ``Authorization``, ``x-api-key``, ``client_secret``,
``password``, ``*_token``...), whatever the value looks like.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..redact import MASK, redact

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


def is_secret_name(name: str) -> bool:
    """True when a mapping key names a credential (``Authorization``, ``x-api-key``, ``*_token``)."""
    norm = name.strip().lower().replace("-", "_").replace(" ", "_")
    return norm in _EXACT_NAMES or norm.endswith(_SUFFIXES)


def env_secret_values(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Values of environment variables whose *names* say they hold a secret (``*_API_KEY``,
    ``*_TOKEN``, ``*_SECRET``, ``*_PASSWORD``, ...), longest first. Short values (< 8 chars)
    are ignored: they would mask ordinary words."""
    env = os.environ if environ is None else environ
    values = {v for k, v in env.items() if _SECRET_ENV.search(k.upper()) and len(v) >= 8}
    return tuple(sorted(values, key=len, reverse=True))


def _clean_text(text: str, secrets: tuple[str, ...]) -> str:
    return redact(text, extra_secrets=secrets)


def redact_exception(exc: BaseException, *, secrets: Iterable[str] = ()) -> str:
    """``"ExcType: message"`` with every secret masked (the message, not a traceback)."""
    extra = (*secrets, *env_secret_values())
    text = str(exc).strip()
    return _clean_text(f"{type(exc).__name__}: {text}" if text else type(exc).__name__, tuple(extra))


def redact_data(value: Any, *, secrets: Iterable[str] = ()) -> Any:
    """A JSON-able deep copy of ``value`` with every secret masked.

    Strings go through :func:`~massgen_plugins.redact.redact` (plus ``secrets`` and every
    secret-named environment variable's value); values stored under a secret-looking key are
    replaced by ``[REDACTED]`` entirely; :class:`~pydantic.SecretStr` values are always masked;
    exceptions become their redacted ``"Type: message"`` text; pydantic models are dumped first.
    """
    extra = tuple(sorted({s for s in (*secrets, *env_secret_values()) if s}, key=len, reverse=True))
    return _walk(value, extra, depth=0)


def _walk(value: Any, secrets: tuple[str, ...], depth: int) -> Any:
    if depth > 64:
        return "[TOO DEEP]"
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return _clean_text(value, secrets)
    if isinstance(value, (bytes, bytearray)):
        return _clean_text(bytes(value).decode("utf-8", "replace"), secrets)
    if isinstance(value, BaseException):
        text = str(value).strip()
        return _clean_text(f"{type(value).__name__}: {text}" if text else type(value).__name__, secrets)
    cls_name = type(value).__name__
    if cls_name in ("SecretStr", "SecretBytes"):
        return MASK
    if isinstance(value, Mapping) or hasattr(value, "items") and callable(value.items):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = _clean_text(str(key), secrets)
            if is_secret_name(str(key)) and item not in (None, ""):
                out[name] = MASK
            else:
                out[name] = _walk(item, secrets, depth + 1)
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_walk(item, secrets, depth + 1) for item in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            # Secrets inside models stay SecretStr objects in python mode; _walk masks them.
            return _walk(dump(), secrets, depth + 1)
        except Exception:
            pass
    return _clean_text(str(value), secrets)
