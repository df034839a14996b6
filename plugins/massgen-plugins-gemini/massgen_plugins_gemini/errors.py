"""Gemini error classification: context overflow and retry decisions.

google-genai (3.4) raises ``google.genai.errors.ClientError`` for 4xx and ``ServerError`` for
5xx (both ``APIError``), with ``code`` (int), ``status`` (``INVALID_ARGUMENT``,
``RESOURCE_EXHAUSTED``, ...), ``message`` and ``details`` (the full decoded JSON, including the
``details`` list with ``RetryInfo``/``QuotaFailure``). An ``{"error": ...}`` chunk inside a
stream is raised the same way, during iteration, while the HTTP response itself says 200.

Overflow is ``INVALID_ARGUMENT`` (400) with "The input token count (N) exceeds the maximum
number of tokens allowed (M)." (some models omit N). ``RESOURCE_EXHAUSTED`` (429) reads "You
exceeded your current quota" even for a per-minute limit: it is a rate limit when the body
carries ``RetryInfo.retryDelay`` and a quota otherwise -- never an overflow. "Request payload
size exceeds the limit" (also a 400) and an out-of-range ``maxOutputTokens`` are not overflow.
"""

from __future__ import annotations

import re
from typing import Any

from massgen_plugins.errorparts import ErrorParts, error_parts, retry_after
from massgen_plugins.overflow_patterns import match_overflow, scan_text
from massgen_plugins.types import ErrorInfo, ErrorKind, Overflow

PROVIDER = "gemini"


class TruncatedStreamError(ConnectionError):
    """The stream ended cleanly but before the provider's final event: the answer is incomplete.

    A :class:`ConnectionError`, so every classifier treats it as a retryable connection failure.
    """

_PAYLOAD = re.compile(r"payload size exceeds|request entity too large|request too large", re.I)
_OUTPUT_CAP = re.compile(r"max_?output_?tokens|output token", re.I)
_AUTH_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_SERVICE_BLOCKED", "API_KEY_HTTP_REFERRER_BLOCKED"})
_NOT_OVERFLOW_STATUS = frozenset({"RESOURCE_EXHAUSTED", "UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED",
                                  "PERMISSION_DENIED", "UNAUTHENTICATED", "NOT_FOUND", "FAILED_PRECONDITION"})


def _status_text(error: Any, parts: ErrorParts) -> str | None:
    status = getattr(error, "status", None)
    if isinstance(status, str) and status:
        return status
    body = parts.body
    if isinstance(body, dict):
        inner = _v if isinstance(_v := body.get("error"), dict) else body
        if isinstance(inner.get("status"), str):
            return inner["status"]
    return None


def _code(error: Any, parts: ErrorParts) -> int | None:
    code = getattr(error, "code", None)
    if isinstance(code, int) and not isinstance(code, bool):
        return code
    return parts.status


def _in_stream(error: Any) -> bool:
    """True when the error arrived inside a stream whose HTTP status was 200."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    if status is None:
        status = getattr(response, "status", None)  # an aiohttp response, if someone injected one
    return status == 200


def _details(parts: ErrorParts) -> list[dict[str, Any]]:
    body = parts.body
    if isinstance(body, dict):
        inner = _v if isinstance(_v := body.get("error"), dict) else body
        details = inner.get("details")
        if isinstance(details, list):
            return [d for d in details if isinstance(d, dict)]
    return []


def detect(error: Any, provider: str | None, model: str | None) -> Overflow | None:
    """An :class:`Overflow` if ``error`` is Gemini's input-token-limit error, else ``None``."""
    parts = error_parts(error)
    code, status = _code(error, parts), _status_text(error, parts)
    if code in (402, 413, 429) or (code or 0) >= 500 or status in _NOT_OVERFLOW_STATUS:
        return None
    if code not in (None, 400) or status not in (None, "INVALID_ARGUMENT"):
        return None
    message = scan_text(parts.message)  # a huge body is read at its head and tail only
    if _PAYLOAD.search(message):
        return None
    found = match_overflow(message)
    if found is None:
        return None
    rule, (limit, requested) = found
    return Overflow(
        provider=PROVIDER, model=model, limit=limit, requested=requested, in_stream=_in_stream(error),
        status=code, code=status, message=message,
        matched_by=f"structure:{status or code}+message:{rule}",
    )


def _is_per_day(parts: ErrorParts) -> bool:
    for item in _details(parts):
        for violation in item.get("violations") or []:
            if isinstance(violation, dict) and "PerDay" in str(violation.get("quotaId", "")):
                return True
    return False


def classify(error: Any, provider: str | None) -> ErrorInfo | None:
    """Retry classification for google-genai errors; ``None`` for anything else."""
    if not type(error).__module__.startswith("google.genai"):
        return None  # timeouts, dropped connections, truncated streams: the built-in classifier
    parts = error_parts(error)
    code, status = _code(error, parts), _status_text(error, parts)
    text = parts.message
    delay = retry_after(parts)
    reasons = {str(d.get("reason")) for d in _details(parts) if d.get("reason")}

    def info(kind: ErrorKind, retryable: bool) -> ErrorInfo:
        return ErrorInfo(kind=kind, retryable=retryable, provider=PROVIDER, status=code, code=status,
                         message=text, retry_after=delay)

    if detect(error, PROVIDER, None) is not None:
        return info(ErrorKind.OVERFLOW, False)
    if code == 429 or status == "RESOURCE_EXHAUSTED":
        if delay is not None and not _is_per_day(parts):
            return info(ErrorKind.RATE_LIMIT, True)
        if delay is None and not re.search(r"quota|billing|plan", text, re.I):
            return info(ErrorKind.RATE_LIMIT, True)
        return info(ErrorKind.QUOTA, False)
    if code == 413 or _PAYLOAD.search(text):
        return info(ErrorKind.PAYLOAD_TOO_LARGE, False)
    if code in (401, 403) or status in ("UNAUTHENTICATED", "PERMISSION_DENIED") or reasons & _AUTH_REASONS:
        return info(ErrorKind.AUTH, False)
    if code == 404 or status == "NOT_FOUND":
        return info(ErrorKind.NOT_FOUND, False)
    if code in (408, 504) or status == "DEADLINE_EXCEEDED":
        return info(ErrorKind.TIMEOUT, True)
    if code == 503 or status == "UNAVAILABLE":
        # "The model is overloaded. Please try again later." is Gemini's capacity signal.
        return info(ErrorKind.OVERLOADED if "overloaded" in text.lower() else ErrorKind.SERVER, True)
    if code is not None and code >= 500:
        return info(ErrorKind.SERVER, True)
    if code is not None and 400 <= code < 500:
        return info(ErrorKind.OUTPUT_CAP if _OUTPUT_CAP.search(text) else ErrorKind.BAD_REQUEST, False)
    if _in_stream(error):
        return info(ErrorKind.STREAM, True)
    return None
