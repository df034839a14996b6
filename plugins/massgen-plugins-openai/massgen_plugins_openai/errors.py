"""Overflow detection and retry classification for errors the ``openai`` SDK raises or yields.

One implementation serves OpenAI, xAI, Nebius and OpenRouter; the shapes differ
(the documented bodies and the ones users pasted in issue threads, as the SDKs raise them) and are all handled here, structure first:

==========================  ==============================================================
OpenAI chat / Responses     ``BadRequestError``, ``code == 'context_length_exceeded'``
Responses stream (nested)   ``APIError`` without ``status_code``, same ``code``
Responses stream (flat)     yielded ``ResponseErrorEvent`` (``type == 'error'``, ``code``)
``response.failed``         yielded event, ``event.response.error.code``
xAI                         ``BadRequestError`` with ``body`` a *string*, ``code``/``type``
                            ``None`` and ``str(e) == 'Error code: 400'``: the message is the body
OpenRouter                  ``code == '400'`` (a string), ``body['metadata']``; errors after
                            generation started arrive with HTTP 200 (``APIError`` here)
Nebius (vLLM)               OpenAI-style body, vLLM wording
==========================  ==============================================================

Never overflow: HTTP 402/413/429/5xx, ``insufficient_quota``/``rate_limit_exceeded`` codes,
output-cap wordings (``max_tokens`` too large) -- see
:data:`massgen_plugins.overflow_patterns`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from massgen_plugins.errorparts import ErrorParts
    from massgen_plugins.types import ErrorInfo, Overflow

_NOT_OVERFLOW_STATUS = frozenset({402, 408, 409, 413, 429, 529})
_NOT_OVERFLOW_CODES = frozenset({"rate_limit_exceeded", "insufficient_quota", "request_too_large",
                                 "payload_too_large", "billing_hard_limit_reached"})
_OUTPUT_CAP_HINTS = ("max_tokens", "max_completion_tokens", "max_output_tokens", "output tokens",
                     "completion tokens")


def is_openai_sdk_object(error: Any) -> bool:
    """Was ``error`` raised or yielded by the ``openai`` SDK?"""
    return type(error).__module__.split(".", 1)[0] == "openai"


def _status(error: Any, parts: ErrorParts) -> int | None:
    """The HTTP status; for an error without one (an HTTP-200 body, an in-stream error), the
    numeric ``code`` of its body -- OpenRouter: *"the same status code as error.code"*."""
    status = getattr(error, "status_code", None)
    if isinstance(status, int):
        return status
    code = _body_code(parts)
    if code is not None:  # OpenRouter: "HTTP Response will have the same status code as error.code"
        return code
    return None


def _body_code(parts: ErrorParts) -> int | None:
    body = parts.body
    inner = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), dict) else body
    code = inner.get("code") if isinstance(inner, dict) else None
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, str) and code.strip().isdigit():
        return int(code)
    return None


def in_stream(error: Any) -> bool:
    """An error that arrived after HTTP 200: an in-stream event, or an ``APIError`` without status."""
    if isinstance(error, BaseException):
        return getattr(error, "status_code", None) in (None, 200) and getattr(error, "request", None) is not None \
            and not type(error).__name__.endswith(("ConnectionError", "TimeoutError"))
    return True  # a yielded SDK event


def detect(error: Any, provider: str, model: str | None) -> Overflow | None:
    """The shared ``detect_overflow`` for OpenAI-compatible providers (see module docstring):
    the openai-SDK-specific exclusions, then the built-in structural-first verdict
    (:func:`massgen_plugins.default_plugins.errors_generic.overflow_of`) with this SDK's idea of
    "in stream" and of the status of an HTTP-200 error."""
    from massgen_plugins.default_plugins.errors_generic import overflow_of
    from massgen_plugins.errorparts import error_parts

    parts = error_parts(error)
    status = _status(error, parts)
    if status is not None and status in _NOT_OVERFLOW_STATUS:
        return None
    code = (parts.code or "").lower()
    if code in _NOT_OVERFLOW_CODES:
        return None
    found = overflow_of(error, provider, model)
    if found is None:
        return None
    how = found.matched_by
    if isinstance(parts.body, str) and parts.body == parts.message and how.startswith("message:"):
        how = f"structure:string-error+{how}"  # xAI's {"code": ..., "error": "<text>"}
    elif isinstance(parts.body, dict) and "metadata" in parts.body and how.startswith("message:"):
        how = f"structure:openrouter+{how}"
    return found.model_copy(update={"in_stream": in_stream(error), "status": status, "matched_by": how})


def classify(error: Any, provider: str) -> ErrorInfo | None:
    """The shared ``classify_error``: the built-in classifier, refined for openai-SDK quirks
    (quota vs rate limit, OpenRouter's 402 and HTTP-200 errors, xAI's string errors, output
    caps, ``retry-after`` / ``retry-after-ms``)."""
    from massgen_plugins.default_plugins.errors_generic import classify_error as generic
    from massgen_plugins.errorparts import error_parts, retry_after
    from massgen_plugins.types import ErrorInfo, ErrorKind

    parts = error_parts(error)
    status = _status(error, parts)
    code = (parts.code or "").lower()
    text = parts.message.lower()
    wait = retry_after(parts)
    kind: ErrorKind | None = None
    if detect(error, provider, None) is not None:
        kind = ErrorKind.OVERFLOW
    elif status == 402 or code in ("insufficient_quota", "billing_hard_limit_reached") \
            or (parts.type or "").lower() == "insufficient_quota" or "insufficient quota" in text \
            or "insufficient credits" in text or "spending limit" in text or "used all available credits" in text:
        kind = ErrorKind.QUOTA
    elif status == 429 or code == "rate_limit_exceeded":
        kind = ErrorKind.RATE_LIMIT
    elif status == 413:
        kind = ErrorKind.PAYLOAD_TOO_LARGE
    elif status == 400 and any(h in text for h in _OUTPUT_CAP_HINTS):
        kind = ErrorKind.OUTPUT_CAP
    elif status is not None and status >= 500:
        overloaded = "overloaded" in code or "overloaded" in text
        kind = ErrorKind.OVERLOADED if overloaded else ErrorKind.SERVER
    elif status is None and in_stream(error) and parts.message and is_openai_sdk_object(error):
        kind = ErrorKind.STREAM
    if kind is None:
        info = generic(error=error, provider=provider)
        return info if isinstance(info, ErrorInfo) else None
    transient = (ErrorKind.RATE_LIMIT, ErrorKind.SERVER, ErrorKind.OVERLOADED, ErrorKind.STREAM)
    retryable = kind in transient
    should = parts.headers.get("x-should-retry")
    if should in ("true", "false") and kind in transient:
        retryable = should == "true"
    return ErrorInfo(kind=kind, retryable=retryable, provider=provider, status=status, code=parts.code,
                     message=parts.message, retry_after=wait)
