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


#: Statuses that are never a context overflow, whatever the text says (rate limit, quota, auth,
#: not found, Anthropic's overload).
NEVER_OVERFLOW_STATUS = frozenset({401, 402, 403, 404, 408, 429, 498, 529})
#: Error codes/types that name another failure (OpenAI, Anthropic, Groq, OpenRouter, Gemini).
NOT_OVERFLOW_CODES = frozenset({
    "rate_limit_exceeded", "rate_limit_error", "insufficient_quota", "billing_hard_limit_reached", "billing_error",
    "overloaded_error", "authentication_error", "permission_error", "invalid_api_key", "request_too_large",
    "payload_too_large", "resource_exhausted", "unavailable", "tokens", "throttlingexception",
})
#: Error codes/types that *are* an overflow.
OVERFLOW_CODES = frozenset({
    "context_length_exceeded", "exceed_context_size_error", "model_context_window_exceeded",
    "context_window_exceeded",
})
#: Exception classes that are an overflow by name (LiteLLM's, MassGen's).
OVERFLOW_EXCEPTIONS = frozenset({"ContextWindowExceededError", "ContextLengthExceededError"})


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def overflow_of(error: Any, provider: str | None, model: str | None) -> Any:
    """The generic, structural-first verdict on any error: an ``Overflow`` or ``None``.

    1. statuses and codes that name another failure end it (429, 402, ``insufficient_quota`` ...);
    2. an overflow code/type (``context_length_exceeded``, llama.cpp's
       ``exceed_context_size_error`` with its ``n_ctx``/``n_prompt_tokens``) or exception class
       (LiteLLM's ``ContextWindowExceededError``) decides it, at any status;
    3. otherwise the message rules of :mod:`massgen_plugins.overflow_patterns` read every text the
       error carries -- behind a 413 or a 5xx (a proxy's status) only the unambiguous wordings count.
    """
    from massgen_plugins.errorparts import error_parts
    from massgen_plugins.overflow_patterns import classify_text, counts_in
    from massgen_plugins.types import Overflow

    parts = error_parts(error)
    status = parts.status
    if status in NEVER_OVERFLOW_STATUS:
        return None
    code, etype = (parts.code or "").lower(), (parts.type or "").lower()

    def verdict(how: str, limit: int | None, requested: int | None) -> Overflow:
        return Overflow(provider=provider, model=model, limit=limit, requested=requested, in_stream=parts.in_stream,
                        status=status, code=parts.code, message=parts.message[:4000], matched_by=how)

    structural = "code" if code in OVERFLOW_CODES else "type" if etype in OVERFLOW_CODES else None
    if structural is None and parts.exception in OVERFLOW_EXCEPTIONS:
        structural = f"exception:{parts.exception}"
    if structural is not None:
        limit, requested = _count(parts.inner.get("n_ctx")), _count(parts.inner.get("n_prompt_tokens"))
        if limit is None and requested is None:
            limit, requested = counts_in(parts.text)
        return verdict(f"structure:{structural}", limit, requested)
    if code in NOT_OVERFLOW_CODES or etype in NOT_OVERFLOW_CODES:
        return None
    strong_only = status is not None and (status == 413 or status >= 500)
    found = classify_text(parts.text, strong_only=strong_only)
    if found is None or found[0].tier == "not_overflow":
        return None
    rule, (limit, requested) = found
    return verdict(f"message:{rule.name}", limit, requested)


@hookimpl(trylast=True)
def detect_overflow(error: BaseException, provider: str | None, model: str | None) -> Any:
    return overflow_of(error, provider, model)


@hookimpl(trylast=True)
def classify_error(error: BaseException, provider: str | None) -> Any:
    from massgen_plugins.errorparts import error_parts, retry_after
    from massgen_plugins.types import ErrorInfo, ErrorKind

    parts = error_parts(error)
    name = type(error).__name__
    text = parts.message.lower()
    kind: ErrorKind
    if isinstance(error, TimeoutError) or any(n in name for n in _TIMEOUT_NAMES) or parts.status == 408:
        kind = ErrorKind.TIMEOUT
    elif isinstance(error, ConnectionError) or any(n in name for n in _CONNECTION_NAMES):
        kind = ErrorKind.CONNECTION
    elif overflow_of(error, provider, None) is not None:
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
