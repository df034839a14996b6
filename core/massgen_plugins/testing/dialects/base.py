"""What every provider dialect shares: the parsed request, the reply, SSE framing, window checks.

A dialect turns a :class:`Request` (already stripped of the provider prefix) into a
:class:`Reply`. Error kinds that need no request content (rate limit, 5xx, ...) go through
:meth:`Dialect.fault_reply`; overflow and output-cap checks need the token counts, so they run
inside :meth:`Dialect.handle` via :meth:`Dialect.check_window`.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import catalogue, tokens
from ..spec import EmulatedModel, Fault, RecordedRequest

if TYPE_CHECKING:
    from ..server import Emulator


@dataclass
class Request:
    """One HTTP request, as the real provider would have seen it."""

    provider: str
    method: str
    path: str  # provider-relative, e.g. "/v1/chat/completions"
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    record: RecordedRequest
    #: Which credentials came with the request (never their values): ``bearer`` (a non-empty
    #: ``Authorization: Bearer``), ``x-api-key``, ``x-goog-api-key``, ``key`` (the ``?key=`` query).
    credentials: frozenset[str] = frozenset()

    @property
    def json(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}


@dataclass
class Reply:
    """What to send back. ``events`` (pre-encoded SSE frames) makes it a stream; ``partial`` is
    how many frames carry the opening of the output (where stream faults cut in)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    events: list[bytes] | None = None
    partial: int = 0
    content_type: str = "application/json"
    meta: dict[str, Any] = field(default_factory=dict)  # dialect state for stream faults (e.g. ids)


class HttpError(Exception):
    """Raised inside a dialect to answer with ``reply`` (an error envelope)."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def sse(data: Any, event: str | None = None, *, crlf: bool = False) -> bytes:
    """One server-sent event frame."""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    nl = "\r\n" if crlf else "\n"
    head = f"event: {event}{nl}" if event else ""
    return f"{head}data: {payload}{nl}{nl}".encode()


def retry_headers(fault: Fault | None) -> dict[str, str]:
    """``retry-after`` / ``retry-after-ms`` for a fault's ``retry_after`` (none when ``None``)."""
    if fault is None or fault.retry_after is None:
        return {}
    seconds = max(0.0, float(fault.retry_after))
    text = f"{seconds:g}" if seconds != int(seconds) else str(int(seconds))
    return {"retry-after": text, "retry-after-ms": str(int(math.ceil(seconds * 1000)))}


@dataclass
class Sizes:
    """The token arithmetic of one generation request."""

    input: int
    requested_output: int | None  # what the request asked for (None: not stated)
    default_output: int  # what counts against the window when not stated


class Dialect:
    """Base for one provider's wire format."""

    provider: str = ""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._ids = 0
        self._lock = threading.Lock()

    # -- hooks for the server -------------------------------------------------------------------
    def model_of(self, req: Request) -> str | None:
        """The model id a request is for (used for fault scoping and the request log)."""
        model = req.json.get("model")
        return model if isinstance(model, str) else None

    def is_stream(self, req: Request) -> bool:
        return bool(req.json.get("stream"))

    #: Credentials this provider accepts (any one of them will do).
    accepted_credentials: frozenset[str] = frozenset({"bearer"})

    def needs_credentials(self, req: Request) -> bool:
        """Whether the real API refuses ``req`` without a key (every endpoint, unless overridden)."""
        return True

    def unauthenticated(self, req: Request) -> Reply:  # pragma: no cover - abstract
        """The provider's real reply to a request that carries no key."""
        raise NotImplementedError

    def auth_error(self, req: Request) -> Reply | None:
        """The refusal a keyless request gets, before anything else is looked at; else ``None``."""
        if not self.needs_credentials(req) or req.credentials & self.accepted_credentials:
            return None
        return self.unauthenticated(req)

    def handle(self, req: Request, fault: Fault | None) -> Reply:  # pragma: no cover - abstract
        raise NotImplementedError

    def fault_reply(self, req: Request, fault: Fault) -> Reply:  # pragma: no cover - abstract
        """The HTTP reply for an error-kind fault (rate_limit, quota, 5xx, 413, ...)."""
        raise NotImplementedError

    def stream_error_frames(self, req: Request, fault: Fault, reply: Reply, sent: int) -> list[bytes]:  # pragma: no cover
        """The in-stream error event(s) a ``stream_error`` fault appends after the first ``sent``
        frames of ``reply``."""
        raise NotImplementedError

    def malformed(self, req: Request) -> Reply:
        if self.is_stream(req):
            return Reply(events=[b'data: {"id": "broken", "choices": [\n\n'], content_type="text/event-stream")
        return Reply(body=b'{"id": "broken", "object": ', content_type="application/json")

    # -- helpers for subclasses -----------------------------------------------------------------
    def next_id(self, prefix: str) -> str:
        with self._lock:
            self._ids += 1
            return f"{prefix}{self._ids:06d}{self.emulator.instance_tag}"

    def catalogue(self) -> list[EmulatedModel]:
        return self.emulator.models(self.provider)

    def find_model(self, model_id: str | None) -> EmulatedModel | None:
        if not model_id:
            return None
        return catalogue.find(self.catalogue(), model_id)

    @staticmethod
    def forced_overflow(fault: Fault | None) -> bool:
        return fault is not None and fault.kind == "overflow"

    @staticmethod
    def forced_output_cap(fault: Fault | None) -> bool:
        return fault is not None and fault.kind == "output_cap"

    @staticmethod
    def overflow_sizes(model: EmulatedModel, sizes: Sizes, forced: bool) -> tuple[int, int] | None:
        """``(input, output)`` to report when this request overflows ``model``, else ``None``.

        A forced overflow reports the window plus the real input, so numbers stay plausible."""
        output = sizes.requested_output if sizes.requested_output is not None else sizes.default_output
        if forced:
            return model.context_window + sizes.input, output
        if sizes.input > model.effective_input_limit or sizes.input + output > model.context_window:
            return sizes.input, output
        return None

    @staticmethod
    def output_over_cap(model: EmulatedModel, sizes: Sizes, forced: bool) -> int | None:
        """The requested output when it exceeds the model's cap (or is forced to), else ``None``."""
        if forced:
            return max(sizes.requested_output or 0, model.max_output + 1)
        if sizes.requested_output is not None and sizes.requested_output > model.max_output:
            return sizes.requested_output
        return None

    @staticmethod
    def count(texts: list[str], messages: int) -> int:
        return tokens.count_request(texts, messages)
