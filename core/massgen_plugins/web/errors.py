"""JSON error responses and the Starlette exception handlers that produce them.

The default body is ``{"error": {"message", "type", "code"}}`` (the OpenAI shape, which most HTTP
clients understand). An application that speaks another API's envelope passes its own
``render`` callable to :func:`error_handlers`. Messages of unexpected exceptions are redacted
before they leave the process, and their tracebacks never do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import InputError
from ..redact import redact

log = logging.getLogger("massgen_plugins.web")

#: ``render(request, status, message, type, code) -> Response``
Render = Callable[[Request, int, str, str, "str | None"], Response]

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def error_type(status: int) -> str:
    """The conventional error ``type`` string for an HTTP status."""
    return _TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")


def json_error(
    status: int,
    message: str,
    *,
    type: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """A JSON error response ``{"error": {"message", "type", "code", **extra}}``."""
    body: dict[str, Any] = {"message": message, "type": type or error_type(status), "code": code}
    if extra:
        body.update(extra)
    return JSONResponse({"error": body}, status_code=status, headers=dict(headers or {}))


def _default_render(request: Request, status: int, message: str, type: str, code: str | None) -> Response:
    return json_error(status, message, type=type, code=code)


def error_handlers(render: Render | None = None) -> dict[Any, Callable[..., Any]]:
    """Exception handlers for ``Starlette(exception_handlers=...)``.

    ``HTTPException`` keeps its status and detail; :class:`~massgen_plugins.errors.InputError`
    becomes 400 with its message; anything else becomes 500 with a redacted one-line message (the
    traceback goes to the server log only).
    """
    out = render or _default_render

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        response = out(request, exc.status_code, str(exc.detail), error_type(exc.status_code), None)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    async def input_error(request: Request, exc: Exception) -> Response:
        return out(request, 400, redact(str(exc)), "invalid_request_error", None)

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error serving %s %s", request.method, request.url.path)
        message = f"internal error: {type(exc).__name__}: {redact(str(exc))}"
        return out(request, 500, message, "api_error", None)

    return {HTTPException: http_error, InputError: input_error, Exception: unexpected}
