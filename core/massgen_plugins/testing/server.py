"""The emulator's HTTP server: one ``ThreadingHTTPServer`` serving every provider under
``/<provider>/...``, with the request log and the fault engine in front of the dialects.

Each request runs on its own thread, so a ``hang`` fault sleeps without blocking other requests;
hangs end early when the emulator is cleared or stopped. Responses use HTTP/1.1 keep-alive with
``Content-Length`` (JSON) or chunked transfer encoding (SSE), which is what httpx expects.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import catalogue
from .dialects import make_dialects
from .dialects.base import Dialect, HttpError, Reply, Request, sse
from .faults import FaultBook
from .spec import PROVIDERS, SERVED, EmulatedModel, Fault, RecordedRequest

#: The path under the emulator URL that each provider's SDK ``base_url`` points at.
BASE_PATHS: dict[str, str] = {
    "openai": "/openai/v1",
    "anthropic": "/anthropic",
    "gemini": "/gemini",
    "groq": "/groq",
    "xai": "/xai/v1",
    "nebius": "/nebius/v1",
    "openrouter": "/openrouter/api/v1",
    "vllm": "/vllm/v1",
    "ollama": "/ollama/v1",
}

#: The environment variable holding each provider's key (base URL: ``<PROVIDER>_BASE_URL``).
KEY_ENV: dict[str, str] = {p: f"{p.upper()}_API_KEY" for p in PROVIDERS}

_SECRET_HEADERS = {"authorization", "x-api-key", "x-goog-api-key", "api-key", "proxy-authorization"}
_SECRET_QUERY = {"key", "api_key", "api-key"}
_ERROR_KINDS = {"rate_limit", "quota", "server_error", "unavailable", "overloaded", "payload_too_large",
                "http200_error"}


def _redact(value: str) -> str:
    tail = value[-4:] if len(value) >= 12 else ""
    return f"<redacted…{tail}>" if tail else "<redacted>"


class Emulator:
    """A running fake of seven LLM providers on one local port.

    Use as a context manager (``with Emulator() as emu:``) or call :meth:`start`/:meth:`stop`.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.instance_tag = os.urandom(3).hex()
        self._catalogue = catalogue.default_catalogue()
        self._faults = FaultBook()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._release = threading.Event()  # set to end every pending hang
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._dialects: dict[str, Dialect] = make_dialects(self)
        self._cache_dir: str | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Emulator:
        """Bind and serve in a background thread; returns ``self``."""
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.emulator = self
        self._server = server
        self.port = server.server_address[1]
        self._release = threading.Event()
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"massgen-emulator-{self.port}", daemon=True)
        self._thread.start()
        return self

    @property
    def cache_dir(self) -> str:
        """A private cache directory for runs against this emulator (``MASSGEN_PLUGINS_CACHE_DIR``
        in :meth:`env`): the emulator's model lists never land in the user's cache. Removed by
        :meth:`stop`."""
        if self._cache_dir is None:
            import tempfile

            self._cache_dir = tempfile.mkdtemp(prefix="massgen-emulator-cache-")
        return self._cache_dir

    def stop(self) -> None:
        """Stop serving, end pending hangs and close open connections."""
        if self._cache_dir is not None:
            import shutil

            shutil.rmtree(self._cache_dir, ignore_errors=True)
            self._cache_dir = None
        server, self._server = self._server, None
        if server is None:
            return
        self._release.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the ``emulate`` command)."""
        self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(timeout=0.5)
        finally:
            self.stop()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``http://HOST:PORT`` of the running server."""
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() or use it as a context manager")
        return f"http://{self.host}:{self.port}"

    def base_url(self, provider: str) -> str:
        """The value for ``<PROVIDER>_BASE_URL`` / the SDK's ``base_url``."""
        _check_provider(provider)
        return self.url + BASE_PATHS[provider]

    def env(self) -> dict[str, str]:
        """``<PROVIDER>_BASE_URL`` and ``<PROVIDER>_API_KEY`` for every provider, and
        ``MASSGEN_PLUGINS_CACHE_DIR`` (:attr:`cache_dir`) so emulated runs keep their own cache."""
        out: dict[str, str] = {"MASSGEN_PLUGINS_CACHE_DIR": self.cache_dir}
        for p in PROVIDERS:
            out[f"{p.upper()}_BASE_URL"] = self.base_url(p)
            out[KEY_ENV[p]] = f"test-{p}-key"
        return out

    # -- catalogue --------------------------------------------------------------------------------
    def set_models(self, provider: str, models: list[EmulatedModel]) -> None:
        """Replace ``provider``'s catalogue."""
        _check_provider(provider)
        with self._lock:
            self._catalogue[provider] = list(models)

    def add_model(self, provider: str, model: EmulatedModel) -> None:
        """Add (or replace, by id) one model in ``provider``'s catalogue."""
        _check_provider(provider)
        with self._lock:
            kept = [m for m in self._catalogue[provider] if m.id != model.id]
            self._catalogue[provider] = [*kept, model]

    def models(self, provider: str) -> list[EmulatedModel]:
        """``provider``'s current catalogue."""
        _check_provider(provider)
        with self._lock:
            return list(self._catalogue[provider])

    # -- faults and the request log -----------------------------------------------------------------
    def inject(self, fault: Fault) -> Fault:
        """Add a fault; returns it (its ``hits`` counter shows how often it fired)."""
        return self._faults.add(fault)

    @property
    def faults(self) -> list[Fault]:
        """Injected faults that can still fire."""
        return self._faults.active()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received since start or the last :meth:`clear`, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_for(self, provider: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Recorded requests filtered by provider and by a substring of the path."""
        return [r for r in self.requests
                if (provider is None or r.provider == provider) and (path is None or path in r.path)]

    def clear_faults(self) -> None:
        """Forget every injected fault (keeps the request log and the catalogue)."""
        self._faults.clear()

    def clear(self) -> None:
        """Forget faults and the request log, restore the default catalogue, end pending hangs."""
        self._faults.clear()
        with self._lock:
            self._requests.clear()
            self._catalogue = catalogue.default_catalogue()
        old, self._release = self._release, threading.Event()
        old.set()

    # -- request handling -------------------------------------------------------------------------
    def _record(self, record: RecordedRequest) -> None:
        with self._lock:
            record.index = len(self._requests)
            self._requests.append(record)

    def _handle(self, h: _Handler, method: str) -> None:
        parts = urlsplit(h.path)
        segments = parts.path.split("/", 2)
        provider = segments[1] if len(segments) > 1 else ""
        raw = h.read_body()
        if provider not in self._dialects:
            h.send_bytes(404, json.dumps({"error": {"message": f"unknown provider path {parts.path!r}; "
                                                    f"serving: {', '.join(SERVED)}"}}).encode())
            return
        path = "/" + (segments[2] if len(segments) > 2 else "")
        query = {k: (_redact(v) if k.lower() in _SECRET_QUERY else v)
                 for k, v in parse_qsl(parts.query, keep_blank_values=True)}
        headers = {k.lower(): (_redact(v) if k.lower() in _SECRET_HEADERS else v) for k, v in h.headers.items()}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        record = RecordedRequest(provider=provider, method=method, path=path, query=query, headers=headers,
                                 body=body)
        req = Request(provider=provider, method=method, path=path, query=query, headers=headers, body=body,
                      record=record, credentials=_credentials(h.headers, parts.query))
        dialect = self._dialects[provider]
        record.model = dialect.model_of(req)
        record.stream = dialect.is_stream(req)
        self._record(record)
        denied = dialect.auth_error(req)
        if denied is not None:  # the real APIs check the key before anything else
            record.status = denied.status
            h.send_reply(denied)
            return
        fault = self._faults.take(provider=provider, model=record.model, path=path, stream=record.stream)
        if fault is not None:
            record.fault = fault.kind
        reply = self._reply(dialect, req, fault, h)
        if reply is None:  # dropped
            return
        record.status = reply.status
        if reply.events is None:
            h.send_reply(reply)
            return
        events = reply.events
        abrupt = False
        pause: tuple[int, float, threading.Event] | None = None
        if fault is not None and fault.kind == "hang" and fault.after_events is not None:
            pause = (min(len(events), fault.after_events), max(0.0, fault.seconds), self._release)
        if fault is not None and fault.kind in ("truncated_stream", "stream_error"):
            keep = reply.partial if fault.after_events is None else min(len(events), fault.after_events)
            events = events[:keep]
            if fault.kind == "stream_error":
                events = events + dialect.stream_error_frames(req, fault, reply, keep)
            else:
                abrupt = fault.abrupt
        h.send_stream(reply, events, abrupt=abrupt, pause=pause)

    def _reply(self, dialect: Dialect, req: Request, fault: Fault | None, h: _Handler) -> Reply | None:
        if fault is not None and fault.kind == "hang":
            if fault.after_events is not None and req.record.stream:
                return dialect.handle(req, None)  # the hang happens mid-stream, in _handle
            self._release.wait(max(0.0, fault.seconds))
            fault = None
        if fault is not None and fault.kind == "drop":
            h.drop()
            return None
        if fault is not None and fault.kind == "malformed":
            return dialect.malformed(req)
        if fault is not None and fault.kind == "custom":
            if fault.sse:
                return Reply(status=fault.status or 200, headers=dict(fault.headers), events=[sse(fault.body)])
            return _override(Reply(status=fault.status or 500), fault)
        try:
            if fault is not None and fault.kind in _ERROR_KINDS:
                return _override(dialect.fault_reply(req, fault), fault)
            reply = dialect.handle(req, fault)
            if fault is not None and fault.kind in ("overflow", "output_cap"):
                reply = _override(reply, fault)
            return reply
        except HttpError as err:
            if fault is not None and fault.kind in ("overflow", "output_cap"):
                return _override(err.reply, fault)
            return err.reply
        except Exception as exc:  # a request the emulator cannot model: say so, loudly
            traceback.print_exc(file=sys.stderr)
            message = (f"the massgen-plugins emulator could not handle {req.method} {req.path}: "
                       f"{type(exc).__name__}: {exc}")
            return Reply(status=500, body={"type": "error", "error": {"type": "emulator_error", "message": message,
                                                                      "code": 500, "status": "INTERNAL"}})


def _credentials(headers: Any, query: str) -> frozenset[str]:
    """Which credentials a request carries (non-empty values only), never the values themselves."""
    found = set()
    auth = (headers.get("authorization") or "").strip()
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        found.add("bearer")
    for name in ("x-api-key", "x-goog-api-key"):
        if (headers.get(name) or "").strip():
            found.add(name)
    if any(k == "key" and v.strip() for k, v in parse_qsl(query, keep_blank_values=True)):
        found.add("key")
    return frozenset(found)


def _override(reply: Reply, fault: Fault) -> Reply:
    """Apply a fault's verbatim ``status``/``body``/``headers`` overrides."""
    if fault.status is not None:
        reply.status = fault.status
    if fault.body is not None:
        reply.body = fault.body
        reply.events = None
        reply.content_type = "application/json" if isinstance(fault.body, (dict, list)) else "text/plain"
    reply.headers.update(fault.headers)
    return reply


def _check_provider(provider: str) -> None:
    if provider not in SERVED:
        raise ValueError(f"unknown provider {provider!r}; the emulator serves: {', '.join(SERVED)}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # listen backlog: the default of 5 drops connections when hundreds of clients connect at once
    request_queue_size = 1024
    emulator: Emulator

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._conns_lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up mid-reply (timeouts, hang faults) is not an error here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "massgen-emulator"
    sys_version = ""

    # StreamRequestHandler: no Nagle delay on replies written in pieces (headers, then body);
    # without it a keep-alive client can wait ~40 ms for a delayed ACK on every request
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.emulator._handle(self, "GET")

    def do_POST(self) -> None:
        self.server.emulator._handle(self, "POST")

    def do_DELETE(self) -> None:
        self.server.emulator._handle(self, "DELETE")

    # -- io ---------------------------------------------------------------------------------------
    def read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0] or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _head(self, status: int, headers: dict[str, str], content_type: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)

    def send_bytes(self, status: int, data: bytes, headers: dict[str, str] | None = None,
                   content_type: str = "application/json") -> None:
        self._head(status, headers or {}, content_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def send_reply(self, reply: Reply) -> None:
        body = reply.body
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body or b""
        self.send_bytes(reply.status, data, reply.headers, reply.content_type)

    def send_stream(self, reply: Reply, events: list[bytes], *, abrupt: bool = False,
                    pause: tuple[int, float, threading.Event] | None = None) -> None:
        """Send ``events`` as a chunked SSE body; ``pause=(index, seconds, release)`` stalls
        before frame ``index`` (a mid-stream hang)."""
        self._head(reply.status, reply.headers, "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        for index, frame in enumerate(events):
            if pause is not None and index == pause[0]:
                pause[2].wait(pause[1])
            self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
            self.wfile.flush()
        if abrupt:
            self.drop()
            return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def drop(self) -> None:
        """Close the connection without (the rest of) a response."""
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
