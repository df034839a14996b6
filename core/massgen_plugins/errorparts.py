"""Read the structured parts of any provider error without importing any SDK.

The official SDKs disagree on where things live (as each SDK's exception classes carry them): openai puts the
*inner* error dict in ``body`` and ``code``/``type`` on the exception; anthropic keeps the *full*
body; groq's ``code`` is ``None`` and the code sits in ``body["error"]["code"]``; xAI's ``error``
is a string; OpenRouter's ``code`` is the string ``'400'``; google-genai has ``code`` (int),
``status`` and ``details``. :func:`error_parts` flattens all of these into one
:class:`ErrorParts`, and the token-count patterns in :mod:`massgen_plugins.overflow_patterns`
work on its ``message``.
"""

from __future__ import annotations

import email.utils
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ErrorParts:
    status: int | None = None
    code: str | None = None
    type: str | None = None
    message: str = ""
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    exception: str = ""
    module: str = ""
    #: The innermost error object of the body (``{}`` when there is none): structured fields such
    #: as llama.cpp's ``n_ctx``/``n_prompt_tokens`` live here.
    inner: dict[str, Any] = field(default_factory=dict)
    #: Every text the error carries (its message, the body, a proxy's ``metadata.raw``, ``str()``
    #: of the exception), capped at the head and tail of a huge body: what message rules scan.
    text: str = ""
    #: The HTTP status of the response the error arrived with (``None`` when the SDK raised it from
    #: inside a stream without one). An in-stream error has ``http_status`` 200 or ``None`` even when
    #: its body states a 4xx ``status`` (google-genai's ``code``, OpenRouter's ``'400'``).
    http_status: int | None = None

    @property
    def in_stream(self) -> bool:
        """True when the error came inside a stream that had started with HTTP 200 (or no status)."""
        return self.http_status in (None, 200)


def _first(*values: Any) -> Any:
    return next((v for v in values if v not in (None, "")), None)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _inner(body: Any) -> dict[str, Any]:
    """The innermost error object of a decoded body, whichever envelope it uses (a JSON list, as
    some Google endpoints send, counts by its first object)."""
    if isinstance(body, list):
        body = next((item for item in body if isinstance(item, dict)), None)
    if not isinstance(body, dict):
        return {}
    err = body.get("error")
    if isinstance(err, dict):
        nested = err.get("error")
        return nested if isinstance(nested, dict) else err
    return body


def _headers(error: Any) -> dict[str, str]:
    response = getattr(error, "response", None)
    raw = getattr(response, "headers", None)
    if raw is None:
        return {}
    try:
        return {str(k).lower(): str(v) for k, v in raw.items()}
    except Exception:
        return {}


def _response_body(error: Any) -> Any:
    """The decoded body of the HTTP response an ``httpx``/``requests`` error carries, if read."""
    response = getattr(error, "response", None)
    if not isinstance(error, BaseException) or response is None or not hasattr(response, "status_code"):
        return None
    try:
        return response.json()
    except Exception:
        pass
    try:
        text = response.text
    except Exception:
        return None
    return text if isinstance(text, str) and text else None


def _texts(error: Any, body: Any, inner: dict[str, Any], message: str) -> str:
    """Every distinct text of the error, joined and capped (see :attr:`ErrorParts.text`)."""
    from .overflow_patterns import scan_text

    found: list[str] = [message]
    metadata = inner.get("metadata") if isinstance(inner.get("metadata"), dict) else None
    if metadata is None and isinstance(body, dict) and isinstance(body.get("metadata"), dict):
        metadata = body["metadata"]
    if metadata is not None and metadata.get("raw") is not None:  # OpenRouter: the upstream's own error
        raw = metadata["raw"]
        found.append(raw if isinstance(raw, str) else repr(raw))
    for key in ("param", "detail", "error_message"):
        if isinstance(inner.get(key), str):
            found.append(inner[key])
    if isinstance(body, str):
        found.append(scan_text(body))
    if isinstance(error, BaseException):
        try:
            found.append(scan_text(str(error)))
        except Exception:
            pass
    seen: list[str] = []
    for text in found:
        if text and text not in seen:
            seen.append(text)
    return scan_text("\n".join(seen))


def error_parts(error: Any) -> ErrorParts:
    """Flatten an SDK exception, an in-stream error event, an ``httpx``/``requests`` HTTP error, or a
    plain dict into :class:`ErrorParts`."""
    if isinstance(error, dict):
        body: Any = error
        inner = _inner(error)
        message = _str(_first(inner.get("message"), error.get("error") if isinstance(error.get("error"), str)
                              else None)) or ""
        return ErrorParts(
            status=_as_int(inner.get("code")),
            code=_str(inner.get("code")) or _str(inner.get("status")),
            type=_str(inner.get("type")),
            message=message,
            body=body,
            inner=inner,
            text=_texts(None, body, inner, message),
        )
    body = getattr(error, "body", None)
    if body is None:  # google-genai keeps the decoded JSON in ``details``
        body = getattr(error, "details", None)
    if body is None:  # httpx.HTTPStatusError / requests.HTTPError: the response itself
        body = _response_body(error)
    inner = _inner(body)
    nested_event = getattr(error, "error", None)  # openai stream ResponseErrorEvent / response.error
    if nested_event is None and getattr(error, "response", None) is not None:
        nested_event = getattr(error.response, "error", None)
    http_status = _as_int(getattr(error, "status_code", None))
    if http_status is None:
        http_status = _as_int(getattr(getattr(error, "response", None), "status_code", None))
    status = _as_int(getattr(error, "status_code", None))
    if status is None:
        status = _as_int(getattr(error, "code", None))
    if status is None:
        status = _as_int(getattr(getattr(error, "response", None), "status_code", None))
    code = _first(
        _str(getattr(error, "code", None)) if not isinstance(getattr(error, "code", None), int) else None,
        _str(inner.get("code")),
        _str(getattr(nested_event, "code", None)),
        _str(getattr(error, "status", None)),
        _str(inner.get("status")),
    )
    etype = _first(_str(getattr(error, "type", None)), _str(inner.get("type")))
    message = _first(
        _str(inner.get("message")),
        body if isinstance(body, str) else None,
        _str(body.get("error")) if isinstance(body, dict) and isinstance(body.get("error"), str) else None,
        _str(getattr(nested_event, "message", None)),
        _str(getattr(error, "message", None)),
        str(error) if isinstance(error, BaseException) else None,
    )
    return ErrorParts(
        status=status,
        code=code,
        type=etype,
        message=bounded(message or ""),
        body=body,
        headers=_headers(error),
        exception=type(error).__name__,
        module=type(error).__module__,
        http_status=http_status,
        inner=inner,
        text=_texts(error, body, inner, message or ""),
    )


#: how much of an error's text the detectors read: its start and its end. Provider errors state
#: their numbers in the first few hundred characters; a 50 MB body echoed back in full must not
#: keep the event loop busy matching patterns over all of it.
SCAN_HEAD = 64 * 1024
SCAN_TAIL = 4 * 1024


def bounded(text: str) -> str:
    """``text`` cut to its first :data:`SCAN_HEAD` and last :data:`SCAN_TAIL` characters."""
    if len(text) <= SCAN_HEAD + SCAN_TAIL:
        return text
    return f"{text[:SCAN_HEAD]} … {text[-SCAN_TAIL:]}"


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


_RETRY_IN = re.compile(r"(?:try again|retry) in ([0-9]+(?:\.[0-9]+)?)\s*(ms|s)\b", re.I)
_RETRY_DELAY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)s$")


def _seconds(value: str) -> float | None:
    """A non-negative, finite number of seconds, or ``None`` for anything else."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def retry_after(parts: ErrorParts) -> float | None:
    """Seconds the provider asked us to wait: ``retry-after-ms``, ``retry-after`` (seconds or an
    HTTP date), Gemini's ``RetryInfo.retryDelay``, or "try again in 26.6s" in the message."""
    headers = parts.headers
    if "retry-after-ms" in headers:
        seconds = _seconds(headers["retry-after-ms"])
        if seconds is not None:
            return seconds / 1000.0
    if "retry-after" in headers:
        value = headers["retry-after"].strip()
        seconds = _seconds(value)
        if seconds is not None:
            return seconds
        try:
            parsed = email.utils.parsedate_to_datetime(value) if value else None
        except (TypeError, ValueError, IndexError, OverflowError):
            parsed = None  # unparseable ("abc", "0.5, 3"): the caller's own backoff applies
        if parsed is not None and parsed.tzinfo is not None:
            return max(0.0, parsed.timestamp() - time.time())
    details = _inner(parts.body).get("details") if isinstance(parts.body, dict) else None
    for item in details or []:
        if isinstance(item, dict) and "retryDelay" in item:
            match = _RETRY_DELAY.match(str(item["retryDelay"]).strip())
            if match:
                return float(match.group(1))
    stated = _RETRY_IN.search(parts.message)
    if stated:
        seconds = float(stated.group(1))
        return seconds / 1000.0 if stated.group(2).lower() == "ms" else seconds
    return None
