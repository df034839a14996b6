"""Gateway failures and how each API reports them.

:class:`Failure` carries an HTTP status, a message and a neutral kind; :func:`render` turns it into
the error body of the API the client called, so the client's own SDK raises its own typed
exception (``openai.RateLimitError``, ``anthropic.AuthenticationError``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from massgen_plugins.errors import InputError, UnknownProviderError
from massgen_plugins.guard import AllModelsFailedError, ContextOverflowError
from massgen_plugins.redact import redact
from massgen_plugins.web.sse import ServerSentEvent
from starlette.responses import Response

from . import anthropic_api, openai_api

# kind -> (OpenAI type, OpenAI code, Anthropic type)
KINDS: dict[str, tuple[str, str | None, str]] = {
    "invalid_request": ("invalid_request_error", None, "invalid_request_error"),
    "context_length": ("invalid_request_error", "context_length_exceeded", "invalid_request_error"),
    "authentication": ("authentication_error", "invalid_api_key", "authentication_error"),
    "permission": ("permission_error", "model_not_allowed", "permission_error"),
    "not_found": ("invalid_request_error", "model_not_found", "not_found_error"),
    "rate_limit": ("rate_limit_error", "rate_limit_exceeded", "rate_limit_error"),
    "insufficient_quota": ("insufficient_quota", "insufficient_quota", "rate_limit_error"),
    "overloaded": ("server_error", "overloaded", "overloaded_error"),
    "upstream": ("server_error", "upstream_error", "api_error"),
    "timeout": ("server_error", "timeout", "api_error"),
    "internal": ("server_error", None, "api_error"),
}


@dataclass
class Failure(Exception):
    """A request the gateway answers with an error."""

    status: int
    message: str
    kind: str = "invalid_request"
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


# the guard's last attempt outcome -> (status, kind)
_UPSTREAM = {
    "rate_limit": (429, "rate_limit"),
    "quota": (429, "insufficient_quota"),
    "overloaded": (529, "overloaded"),
    "server": (502, "upstream"),
    "timeout": (504, "timeout"),
    "connection": (502, "upstream"),
    "stream": (502, "upstream"),
    "auth": (502, "upstream"),  # the gateway's own provider key was refused: an operator problem
    "not_found": (404, "not_found"),
    "bad_request": (400, "invalid_request"),
    "output_cap": (400, "invalid_request"),
    "payload_too_large": (413, "invalid_request"),
    "unavailable": (502, "upstream"),
}


def from_exception(exc: BaseException) -> Failure:
    """The failure to report for an exception raised while serving a request."""
    if isinstance(exc, Failure):
        return exc
    if isinstance(exc, ContextOverflowError):
        return Failure(400, redact(str(exc)), "context_length")
    if isinstance(exc, AllModelsFailedError):
        last = exc.attempts[-1].outcome if exc.attempts else "upstream"
        status, kind = _UPSTREAM.get(last, (502, "upstream"))
        return Failure(status, redact(str(exc)), kind)
    if isinstance(exc, UnknownProviderError):
        return Failure(404, redact(str(exc)), "not_found")
    if isinstance(exc, InputError):
        return Failure(400, redact(str(exc)), "invalid_request")
    return Failure(500, f"internal error: {type(exc).__name__}: {redact(str(exc))}"[:500], "internal")


def render(api: str, failure: Failure) -> Response:
    """The error response in ``api``'s envelope (``openai`` or ``anthropic``)."""
    openai_type, code, anthropic_type = KINDS.get(failure.kind, KINDS["internal"])
    if api == "anthropic":
        return anthropic_api.error_response(failure.status, failure.message, type=anthropic_type, headers=failure.headers)
    status = 503 if failure.status == 529 else failure.status
    return openai_api.error_response(status, failure.message, type=openai_type, code=code, headers=failure.headers)


def stream_payload(api: str, failure: Failure) -> str | ServerSentEvent:
    """The in-stream error event for ``api`` after a stream has started."""
    openai_type, code, anthropic_type = KINDS.get(failure.kind, KINDS["internal"])
    if api == "anthropic":
        return anthropic_api.stream_error(failure.message, type=anthropic_type)
    return openai_api.stream_error(failure.message, type=openai_type, code=code)
