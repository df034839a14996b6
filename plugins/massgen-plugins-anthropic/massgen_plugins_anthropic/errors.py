"""Anthropic error classification: context overflow and retry decisions.

What the anthropic SDK (2.11) raises (as each SDK's exception classes carry them):

* HTTP errors are ``APIStatusError`` subclasses with ``status_code``, ``type`` (from
  ``body.error.type``), ``body`` = the *full* body (``{"type":"error","error":{...}}``) and
  ``request_id`` from the ``request-id`` header;
* an ``event: error`` inside a stream is a plain ``APIStatusError`` whose ``status_code`` is
  **200** (the stream's HTTP status) -- ``type`` tells overloaded from overflow;
* 529 is ``OverloadedError`` (a subclass of ``InternalServerError`` in 2.11), 413 is
  ``ContentTooLargeError`` (type ``request_too_large``).

Overflow has no error code of its own: it is an ``invalid_request_error`` whose message reads
``prompt is too long: N tokens > M maximum`` or ``input length and `max_tokens` exceed context
limit: a + b > c``. Everything with another type (rate limit, overloaded, request too large,
billing) is excluded structurally before any text is read.
"""

from __future__ import annotations

import re
from typing import Any

from massgen_plugins.errorparts import ErrorParts, error_parts, retry_after
from massgen_plugins.overflow_patterns import match_overflow, scan_text
from massgen_plugins.types import ErrorInfo, ErrorKind, Overflow

PROVIDER = "anthropic"


class TruncatedStreamError(ConnectionError):
    """The stream ended cleanly but before the provider's final event: the answer is incomplete.

    A :class:`ConnectionError`, so every classifier treats it as a retryable connection failure.
    """

#: Error ``type`` values that can never be a context overflow.
_NOT_OVERFLOW_TYPES = frozenset({
    "rate_limit_error", "overloaded_error", "request_too_large", "billing_error", "authentication_error",
    "permission_error", "not_found_error", "api_error", "timeout_error",
})
_PROMPT_TOO_LONG = re.compile(r"prompt is too long:\s*([\d,]+)\s*tokens\s*>\s*([\d,]+)", re.I)
_INPUT_PLUS_OUTPUT = re.compile(r"exceeds? context limit:\s*([\d,]+)\s*\+\s*([\d,]+)\s*>\s*([\d,]+)", re.I)
_BILLING = re.compile(r"credit balance is too low|plans\s*&\s*billing|purchase credits", re.I)
_OUTPUT_CAP = re.compile(
    r"max_tokens:?\s*[\d,]+\s*>\s*[\d,]+|maximum allowed number of output tokens|max_tokens.*(?:too large|exceed)",
    re.I,
)


def _type(error: Any, parts: ErrorParts) -> str | None:
    kind = getattr(error, "type", None)
    if isinstance(kind, str) and kind:
        return kind
    body = parts.body
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict) and isinstance(inner.get("type"), str):
            return inner["type"]
    return parts.type


def _in_stream(parts: ErrorParts) -> bool:
    return parts.status in (None, 200)


def detect(error: Any, provider: str | None, model: str | None) -> Overflow | None:
    """An :class:`Overflow` if ``error`` is Anthropic's context-window error, else ``None``."""
    parts = error_parts(error)
    etype = _type(error, parts)
    if parts.status in (402, 413, 429, 529) or (parts.status or 0) >= 500:
        return None
    if etype in _NOT_OVERFLOW_TYPES:
        return None
    if etype not in (None, "invalid_request_error"):
        return None
    message = scan_text(parts.message)  # a huge body is read at its head and tail only
    extra: dict[str, int] = {}
    found = _PROMPT_TOO_LONG.search(message)
    if found:
        requested, limit = int(found.group(1).replace(",", "")), int(found.group(2).replace(",", ""))
        rule = "prompt is too long"
        extra["input_tokens"] = requested
    else:
        found = _INPUT_PLUS_OUTPUT.search(message)
        if found:
            inp, out, limit = (int(found.group(i).replace(",", "")) for i in (1, 2, 3))
            requested = inp + out
            rule = "exceed context limit"
            extra.update(input_tokens=inp, output_tokens=out)
        else:
            generic = match_overflow(message)
            if generic is None:
                return None
            rule, (limit, requested) = generic  # type: ignore[assignment]
    return Overflow(
        provider=PROVIDER, model=model, limit=limit, requested=requested, in_stream=_in_stream(parts),
        status=parts.status, code=etype, message=message,
        matched_by=f"structure:{etype or 'invalid_request_error'}+message:{rule}", **extra,
    )


def classify(error: Any, provider: str | None) -> ErrorInfo | None:
    """Retry classification for errors the anthropic SDK raises; ``None`` for anything else."""
    if type(error).__module__.split(".", 1)[0] != "anthropic":
        return None  # timeouts, dropped connections, truncated streams: the built-in classifier
    name = type(error).__name__
    parts = error_parts(error)
    etype = _type(error, parts)
    status = parts.status
    text = parts.message

    def info(kind: ErrorKind, retryable: bool) -> ErrorInfo:
        should = parts.headers.get("x-should-retry")
        if should in ("true", "false") and kind in (ErrorKind.RATE_LIMIT, ErrorKind.SERVER,
                                                    ErrorKind.OVERLOADED, ErrorKind.STREAM):
            retryable = should == "true"
        return ErrorInfo(kind=kind, retryable=retryable, provider=PROVIDER, status=status, code=etype,
                         message=text, retry_after=retry_after(parts))

    if name == "APITimeoutError":
        return info(ErrorKind.TIMEOUT, True)
    if name == "APIConnectionError":
        return info(ErrorKind.CONNECTION, True)
    if detect(error, PROVIDER, None) is not None:
        return info(ErrorKind.OVERFLOW, False)
    if status == 529 or etype == "overloaded_error" or name == "OverloadedError":
        return info(ErrorKind.OVERLOADED, True)
    if status == 429 or etype == "rate_limit_error":
        return info(ErrorKind.RATE_LIMIT, True)
    if status == 402 or etype == "billing_error" or _BILLING.search(text):
        # Anthropic reports an empty balance as a 400 invalid_request_error ("Your credit balance
        # is too low to access the Anthropic API. Please go to Plans & Billing ...").
        return info(ErrorKind.QUOTA, False)
    if status == 413 or etype == "request_too_large":
        return info(ErrorKind.PAYLOAD_TOO_LARGE, False)
    if status in (401, 403) or etype in ("authentication_error", "permission_error"):
        return info(ErrorKind.AUTH, False)
    if status == 404 or etype == "not_found_error":
        return info(ErrorKind.NOT_FOUND, False)
    if status in (408, 504) or etype == "timeout_error":
        return info(ErrorKind.TIMEOUT, True)
    if status is not None and status >= 500 or status == 409:
        return info(ErrorKind.SERVER, True)
    if status is not None and 400 <= status < 500:
        return info(ErrorKind.OUTPUT_CAP if _OUTPUT_CAP.search(text) else ErrorKind.BAD_REQUEST, False)
    if status in (None, 200) and (etype or text):
        # An ``event: error`` after HTTP 200 that is neither overflow nor overloaded (api_error):
        # the stream broke; a fresh attempt can succeed.
        return info(ErrorKind.STREAM, True)
    return None
