"""Groq error classification: context overflow and retry decisions.

groq (1.7) keeps the *full* body (with its ``error`` wrapper) in ``e.body`` and has no ``code``
attribute at all: the code sits in ``e.body["error"]["code"]`` (as each SDK's exception classes carry them). An
error inside a stream is a bare ``groq.APIError`` (no status) whose ``body`` is the inner error
object.

* Overflow: ``code == "context_length_exceeded"``; the message ("Please reduce the length of the
  messages or completion.") states **no numbers**, so ``limit``/``requested`` stay ``None``.
* 413 "Request too large for model ... on tokens per minute (TPM): Limit 6000, Requested 6294"
  is a rate limit on a single oversized request -- not a context overflow, and waiting does not
  help (the request alone exceeds the per-minute budget): ``RATE_LIMIT``, not retryable.
* ```max_completion_tokens` must be less than or equal to ...`` is an output-cap error.
* 498 (flex tier capacity exceeded) is an overload: retry.
"""

from __future__ import annotations

import re
from typing import Any

from massgen_plugins.errorparts import ErrorParts, error_parts, retry_after
from massgen_plugins.overflow_patterns import counts_in, match_overflow
from massgen_plugins.types import ErrorInfo, ErrorKind, Overflow

PROVIDER = "groq"


class TruncatedStreamError(ConnectionError):
    """The stream ended cleanly but before the provider's final event: the answer is incomplete.

    A :class:`ConnectionError`, so every classifier treats it as a retryable connection failure.
    """

_DAILY = re.compile(r"per day \((?:TPD|RPD)\)|daily quota", re.I)
_NOT_OVERFLOW_CODES = frozenset({"rate_limit_exceeded", "insufficient_quota", "request_too_large",
                                 "capacity_exceeded", "model_not_found", "invalid_api_key"})
_OUTPUT_PARAMS = frozenset({"max_completion_tokens", "max_tokens"})
_OUTPUT_CAP = re.compile(r"`?max_(?:completion_)?tokens`? must be less than or equal to", re.I)
_OVERLOADED_CODES = frozenset({"capacity_exceeded", "overloaded", "service_unavailable"})
_OVER_CAPACITY = re.compile(r"over capacity|overloaded", re.I)
_TPM = re.compile(r"tokens per minute|\(TPM\)|request too large", re.I)


def _inner(parts: ErrorParts) -> dict[str, Any]:
    body = parts.body
    if isinstance(body, dict):
        inner = body.get("error")
        return inner if isinstance(inner, dict) else body
    return {}


def _code(parts: ErrorParts) -> str | None:
    code = _inner(parts).get("code")
    return str(code) if code not in (None, "") else (parts.code if parts.code and not parts.code.isdigit() else None)


def detect(error: Any, provider: str | None, model: str | None) -> Overflow | None:
    """An :class:`Overflow` if ``error`` is Groq's context-length error, else ``None``."""
    parts = error_parts(error)
    inner = _inner(parts)
    code = _code(parts)
    status = parts.status
    in_stream = status in (None, 200)
    if status in (402, 413, 429, 498) or (status or 0) >= 500 or code in _NOT_OVERFLOW_CODES:
        return None
    if inner.get("param") in _OUTPUT_PARAMS or _OUTPUT_CAP.search(parts.message):
        return None
    if code == "context_length_exceeded":
        limit, requested = counts_in(parts.message)
        return Overflow(provider=PROVIDER, model=model, limit=limit, requested=requested, in_stream=in_stream,
                        status=status, code=code, message=parts.message,
                        matched_by="structure:body.error.code=context_length_exceeded")
    found = match_overflow(parts.message)
    if found is None:
        return None
    rule, (limit, requested) = found
    return Overflow(provider=PROVIDER, model=model, limit=limit, requested=requested, in_stream=in_stream,
                    status=status, code=code, message=parts.message, matched_by=f"message:{rule}")


def classify(error: Any, provider: str | None) -> ErrorInfo | None:
    """Retry classification for errors the groq SDK raises; ``None`` for anything else."""
    if type(error).__module__.split(".", 1)[0] != "groq":
        return None  # timeouts, dropped connections, truncated streams: the built-in classifier
    name = type(error).__name__
    parts = error_parts(error)
    inner = _inner(parts)
    code = _code(parts)
    status = parts.status
    text = parts.message

    def info(kind: ErrorKind, retryable: bool) -> ErrorInfo:
        should = parts.headers.get("x-should-retry")
        if should in ("true", "false") and kind in (ErrorKind.RATE_LIMIT, ErrorKind.SERVER,
                                                    ErrorKind.OVERLOADED, ErrorKind.STREAM) and retryable:
            retryable = should == "true"
        return ErrorInfo(kind=kind, retryable=retryable, provider=PROVIDER, status=status, code=code,
                         message=text, retry_after=retry_after(parts))

    if name == "APITimeoutError":
        return info(ErrorKind.TIMEOUT, True)
    if name == "APIConnectionError":
        return info(ErrorKind.CONNECTION, True)
    if detect(error, PROVIDER, None) is not None:
        return info(ErrorKind.OVERFLOW, False)
    if code == "insufficient_quota" or status == 402 or _DAILY.search(text):
        # a per-day limit (TPD/RPD, "daily quota"): no wait within a run helps, fall back instead
        return info(ErrorKind.QUOTA, False)
    if status == 413 and (_TPM.search(text) or code == "rate_limit_exceeded"):
        # One request above the per-minute token budget: a rate limit that no wait can satisfy.
        return info(ErrorKind.RATE_LIMIT, False)
    if status == 413:
        return info(ErrorKind.PAYLOAD_TOO_LARGE, False)
    if status == 429 or code == "rate_limit_exceeded":
        return info(ErrorKind.RATE_LIMIT, True)
    if status == 498 or code in _OVERLOADED_CODES or (
            status in (None, 200, 503) and _OVER_CAPACITY.search(text)):
        return info(ErrorKind.OVERLOADED, True)
    if status in (401, 403) or code == "invalid_api_key":
        return info(ErrorKind.AUTH, False)
    if status == 404 or code == "model_not_found":
        return info(ErrorKind.NOT_FOUND, False)
    if status in (408, 504):
        return info(ErrorKind.TIMEOUT, True)
    if status is not None and status >= 500 or status == 409:
        return info(ErrorKind.SERVER, True)
    if status is not None and 400 <= status < 500:
        cap = inner.get("param") in _OUTPUT_PARAMS or _OUTPUT_CAP.search(text)
        return info(ErrorKind.OUTPUT_CAP if cap else ErrorKind.BAD_REQUEST, False)
    if status in (None, 200) and text:
        return info(ErrorKind.STREAM, True)
    return None
