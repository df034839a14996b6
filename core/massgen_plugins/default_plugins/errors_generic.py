"""Built-in error classification: the generic overflow detector and the generic retry classifier.

Both answer *last* (``trylast``), after any provider plugin, and read errors structurally first
(status, code, type), message text second. Provider plugins refine these for their own SDK.
"""

from __future__ import annotations

from typing import Any

from massgen_plugins.hookspecs import hookimpl

_TIMEOUT_NAMES = ("Timeout", "TimedOut")
_CONNECTION_NAMES = ("ConnectError", "ConnectionError", "RemoteProtocolError", "ReadError",
                     "APIConnectionError", "ServerDisconnected", "IncompleteRead", "WriteError")


@hookimpl(trylast=True)
def detect_overflow(error: BaseException, provider: str | None, model: str | None) -> Any:
    from massgen_plugins.errorparts import error_parts
    from massgen_plugins.overflow_patterns import counts_in, match_overflow
    from massgen_plugins.types import Overflow

    parts = error_parts(error)
    if parts.status in (402, 413, 429, 529) or (parts.status or 0) >= 500:
        return None
    in_stream = parts.in_stream
    if parts.code == "context_length_exceeded":
        limit, requested = counts_in(parts.message)
        return Overflow(provider=provider, model=model, limit=limit, requested=requested,
                        in_stream=in_stream, status=parts.status, code=parts.code,
                        message=parts.message, matched_by="structure:code")
    found = match_overflow(parts.message)
    if found is None:
        return None
    rule, (limit, requested) = found
    return Overflow(provider=provider, model=model, limit=limit, requested=requested,
                    in_stream=in_stream, status=parts.status, code=parts.code,
                    message=parts.message, matched_by=f"message:{rule}")


@hookimpl(trylast=True)
def classify_error(error: BaseException, provider: str | None) -> Any:
    from massgen_plugins.errorparts import error_parts, retry_after
    from massgen_plugins.overflow_patterns import match_overflow
    from massgen_plugins.types import ErrorInfo, ErrorKind

    parts = error_parts(error)
    name = type(error).__name__
    text = parts.message.lower()
    kind: ErrorKind
    if isinstance(error, TimeoutError) or any(n in name for n in _TIMEOUT_NAMES) or parts.status == 408:
        kind = ErrorKind.TIMEOUT
    elif isinstance(error, ConnectionError) or any(n in name for n in _CONNECTION_NAMES):
        kind = ErrorKind.CONNECTION
    elif parts.code == "context_length_exceeded" or (
        parts.status not in (413, 429) and match_overflow(parts.message) is not None
    ):
        kind = ErrorKind.OVERFLOW
    elif parts.status == 529 or parts.type == "overloaded_error" or "overloaded" in (parts.code or "").lower():
        kind = ErrorKind.OVERLOADED
    elif parts.status == 402 or parts.code == "insufficient_quota" or "insufficient_quota" in text:
        kind = ErrorKind.QUOTA
    elif parts.status == 429 or parts.code in ("rate_limit_exceeded", "RESOURCE_EXHAUSTED") \
            or parts.type == "rate_limit_error" or "tokens per min" in text:
        quota = "quota" in text and retry_after(parts) is None
        kind = ErrorKind.QUOTA if quota else ErrorKind.RATE_LIMIT
    elif parts.status == 413:
        kind = ErrorKind.PAYLOAD_TOO_LARGE
    elif parts.status in (401, 403):
        kind = ErrorKind.AUTH
    elif parts.status == 404:
        kind = ErrorKind.NOT_FOUND
    elif parts.status is not None and parts.status >= 500 or parts.status == 409:
        kind = ErrorKind.SERVER
    elif parts.status is not None and 400 <= parts.status < 500:
        output_cap = "output tokens" in text or "completion tokens" in text or "max_tokens" in text
        kind = ErrorKind.OUTPUT_CAP if output_cap else ErrorKind.BAD_REQUEST
    elif parts.status in (None, 200) and parts.message:
        kind = ErrorKind.STREAM  # an in-stream error event after HTTP 200
    else:
        kind = ErrorKind.UNKNOWN
    retryable = kind in {ErrorKind.RATE_LIMIT, ErrorKind.OVERLOADED, ErrorKind.SERVER, ErrorKind.TIMEOUT,
                         ErrorKind.CONNECTION, ErrorKind.STREAM}
    should = parts.headers.get("x-should-retry")
    if should in ("true", "false") and kind not in (ErrorKind.OVERFLOW, ErrorKind.QUOTA, ErrorKind.AUTH):
        retryable = should == "true"
    return ErrorInfo(kind=kind, retryable=retryable, provider=provider, status=parts.status,
                     code=parts.code, message=parts.message, retry_after=retry_after(parts))
