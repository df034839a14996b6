"""The gateway's ASGI application (Starlette).

``POST /v1/chat/completions`` (OpenAI), ``POST /v1/messages`` (Anthropic), ``GET /v1/models``,
``GET /health``, ``GET /metrics``, and key management for the master key under ``/admin/keys``.
Build it with :func:`create_app`; ``massgen-plugins serve`` builds it once per worker through
:func:`app_factory`, which reads its options from the environment the CLI sets.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from massgen_plugins.errors import InputError
from massgen_plugins.web import error_handlers, sse_response
from massgen_plugins.web.sse import encode_event
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import anthropic_api, openai_api, tracing
from ._version import __version__
from .access import Access
from .calls import ChatCall
from .failures import Failure, from_exception, render, stream_payload
from .guarding import GatewayRunLog, Guard, Outcome, request_key
from .keys import Caller, create_key, revoke_key
from .metrics import CONTENT_TYPE, Metrics, exposition
from .models import ModelList
from .passthrough import Passthrough
from .settings import GatewaySettings, load_settings
from .store import GatewayStore, open_gateway_store

ENV_STORE = "MASSGEN_GATEWAY_STORE"
ENV_NO_AUTH = "MASSGEN_GATEWAY_NO_AUTH"
_METRICS: Metrics | None = None


def _metrics() -> Metrics:
    global _METRICS  # prometheus collectors register once per process
    if _METRICS is None:
        _METRICS = Metrics()
    return _METRICS


class Gateway:
    """Everything one gateway process holds."""

    def __init__(self, *, settings: GatewaySettings, store: GatewayStore, run_dir: str | None = None,
                 require_key: bool = True, master_key: str | None = None, memory: Any = None) -> None:
        self.settings = settings
        self.store = store
        self.metrics = _metrics()
        self.log = GatewayRunLog.create(run_dir, title=f"gateway pid {os.getpid()}",
                                        config={"store": store.url, "aliases": settings.aliases})
        self.log.metrics = self.metrics
        self.guard = Guard(settings, self.log, store, memory=_open_memory(memory))
        self.access = Access(store, self.metrics, require_key=require_key, master_key=master_key)
        self.models = ModelList(settings)
        self.fast = Passthrough(self.log)
        self._checked: set[str] = set()

    def close(self) -> None:
        self.log.close()
        self.store.close()

    # ------------------------------------------------------------------ model requests
    def _check_provider(self, model: str) -> None:
        if model not in self._checked:
            from massgen_plugins.providers import resolve_model

            resolve_model(model)
            self._checked.add(model)

    async def handle(self, request: Request, api: str) -> Response:
        started = time.perf_counter()
        labels = ["", "", ""]
        status = 500
        streamed = False
        span: tracing.RequestSpan | None = None
        try:
            caller = await self.access.caller(request)
            labels[2] = caller.label
            try:
                body = json.loads(await request.body())
            except ValueError as exc:
                raise Failure(400, f"the request body is not valid JSON: {exc}") from None
            call = (openai_api if api == "openai" else anthropic_api).parse_request(body)
            route = self.settings.resolve(call.model, api=api)
            labels[0], labels[1] = route.model.split("/", 1)[0], route.model
            self._check_provider(route.model)
            await self.access.admit(caller, route.requested, route.model)
            session_id = request.headers.get("x-session-id") or None
            request_key.set(caller.label)
            span = tracing.RequestSpan(route.model, api=api, max_tokens=call.max_tokens, key=caller.label)
            if not session_id:
                relayed = await self._fast(request, api, body, call, route, caller, started, labels, span)
                if relayed is not None:
                    streamed, status = call.stream, relayed.status_code
                    return relayed
            if call.stream:
                response = await self._stream(call, route, caller, session_id, api, started, labels, span)
                streamed = True  # counted when the stream ends
            else:
                response = await self._complete(call, route, caller, session_id, api, started, span)
            status = response.status_code
            return response
        except Exception as exc:
            failure = from_exception(exc)
            status = failure.status
            if span is not None:
                span.end(error=failure.kind)
            if failure.status >= 500:
                self.log.event("error", agent=labels[2] or None, kind=type(exc).__name__, message=failure.message,
                               model=labels[1] or None)
            return render(api, failure)
        finally:
            if not streamed:
                self._count(labels, api, status, started)

    def _count(self, labels: list[str], api: str, status: int, started: float) -> None:
        self.metrics.requests.labels(*labels, api, str(status)).inc()
        self.metrics.latency.labels(*labels, api).observe(time.perf_counter() - started)

    async def _fast(self, request: Request, api: str, body: dict[str, Any], call: ChatCall, route: Any,
                    caller: Caller, started: float, labels: list[str], span: tracing.RequestSpan) -> Response | None:
        """Relay the request on the fast path when the guard has nothing to do (see
        :mod:`.passthrough`); ``None`` hands it to the guard."""
        upstream = self.fast.upstream(route.model.split("/", 1)[0], api)
        if upstream is None or not self.guard.fast_path_ok(call, route):
            return None
        relay = await self.fast.open(call, body, route, upstream, request.headers, caller.label)
        if relay is None:
            return None
        answered = time.perf_counter()
        headers = {"x-massgen-reused-prefix": "0", "x-massgen-model": route.model,
                   "server-timing": server_timing(relay.sent - started, answered - relay.sent)}
        overhead = self.metrics.overhead
        if not call.stream:
            data = await self.fast.body(relay)
            relay.relay_s = time.perf_counter() - (relay.first_byte or answered)
            self._overhead(relay.overhead_ms(started), labels, api)
            self.fast.finish(relay, caller.label, route.model, overhead_ms=relay.overhead_ms(started))
            span.end(model=route.model, input_tokens=relay.usage.input_tokens, output_tokens=relay.usage.output_tokens)
            await self.access.record(caller, route.model, relay.usage.input_tokens, relay.usage.output_tokens)
            return Response(data, media_type="application/json", headers=headers)

        async def relay_body() -> AsyncIterator[bytes]:
            status, first = 200, True
            relay_event = overhead.labels(*labels, api, "relay")
            try:
                async for line in self.fast.events(relay, call.include_usage, upstream.dialect):
                    if first and line.strip():
                        first = False
                        self.metrics.ttft.labels(*labels, api).observe(time.perf_counter() - started)
                    yield line
                    # resumed once the server handed the event to the client's connection
                    spent = time.perf_counter() - relay.chunk_at
                    relay.relay_s += spent
                    relay_event.observe(spent)
            except Exception as exc:
                failure = from_exception(exc)
                status = 502
                yield encode_event(stream_payload(api, failure))
            finally:
                self._overhead(relay.overhead_ms(started), labels, api, events=False)
                self.fast.finish(relay, caller.label, route.model, "ok" if status == 200 else "error",
                                 overhead_ms=relay.overhead_ms(started))
                span.end(model=route.model, input_tokens=relay.usage.input_tokens,
                         output_tokens=relay.usage.output_tokens, error=None if status == 200 else "stream_error")
                await self.access.record(caller, route.model, relay.usage.input_tokens, relay.usage.output_tokens)
                self._count(labels, api, status, started)

        from starlette.responses import StreamingResponse

        return StreamingResponse(relay_body(), media_type="text/event-stream",
                                 headers={**headers, "cache-control": "no-cache"})

    def _overhead(self, spent_ms: dict[str, float], labels: list[str], api: str, *, events: bool = True) -> None:
        """Observe the gateway's own time on one request (``events``: also its relay as one event)."""
        overhead = self.metrics.overhead
        overhead.labels(*labels, api, "before_upstream").observe(spent_ms["before_upstream"] / 1000)
        if events:
            overhead.labels(*labels, api, "relay").observe(spent_ms["relay"] / 1000)
        overhead.labels(*labels, api, "request").observe(spent_ms["total"] / 1000)

    async def _complete(self, call: ChatCall, route: Any, caller: Caller, session_id: str | None, api: str,
                        started: float, span: tracing.RequestSpan) -> Response:
        outcome = await self.guard.complete(call, route, caller.label, session_id)
        response = outcome.response
        assert response is not None
        span.end(model=response.model, input_tokens=response.usage.input_tokens,
                 output_tokens=response.usage.output_tokens, finish=response.finish_reason)
        await self._account(caller, route, outcome)
        if api == "openai":
            body = openai_api.completion_body(response, f"chatcmpl-{uuid.uuid4().hex[:24]}", call.model)
        else:
            body = anthropic_api.message_body(response, f"msg_{uuid.uuid4().hex[:24]}", call.model)
        return JSONResponse(body, headers=_headers(outcome, response.model, started))

    async def _account(self, caller: Caller, route: Any, outcome: Outcome) -> None:
        response = outcome.response
        if response is None:
            return
        if outcome.reused_prefix and not outcome.session_id:
            self.metrics.prefix_reuse.labels(route.model.split("/", 1)[0], route.model, caller.label).inc()
        await self.access.record(caller, response.model, response.usage.input_tokens, response.usage.output_tokens)

    async def _stream(self, call: ChatCall, route: Any, caller: Caller, session_id: str | None, api: str,
                      started: float, labels: list[str], span: tracing.RequestSpan) -> Response:
        outcome = Outcome()
        events = self.guard.stream(call, route, caller.label, session_id, outcome)
        first = await events.__anext__()  # failures before any output become a proper HTTP error
        ttft = time.perf_counter() - started
        self.metrics.ttft.labels(*labels, api).observe(ttft)
        request_id = (f"chatcmpl-{uuid.uuid4().hex[:24]}" if api == "openai" else f"msg_{uuid.uuid4().hex[:24]}")

        async def replay() -> AsyncIterator[Any]:
            yield first
            async for event in events:
                yield event

        async def body() -> AsyncIterator[Any]:
            status = 200
            try:
                items: AsyncIterator[Any] = (
                    openai_api.stream_chunks(replay(), request_id, call.model, call.include_usage) if api == "openai"
                    else anthropic_api.stream_events(replay(), request_id, call.model, outcome.input_tokens))
                async for item in items:
                    yield item
                await self._account(caller, route, outcome)
            except Exception as exc:
                failure = from_exception(exc)
                status = failure.status
                yield stream_payload(api, failure)
            finally:
                await events.aclose()  # type: ignore[attr-defined]
                done = outcome.response
                span.end(model=done.model if done else None, input_tokens=done.usage.input_tokens if done else 0,
                         output_tokens=done.usage.output_tokens if done else 0,
                         finish=done.finish_reason if done else None, error=None if status == 200 else "stream_error")
                self._count(labels, api, status, started)

        return sse_response(body(), headers=_headers(outcome, None, started))


def server_timing(before_s: float, upstream_s: float) -> str:
    """A ``Server-Timing`` header: the gateway's own time before the upstream request went out, and
    the upstream's time to answer (its headers)."""
    return (f'gateway;dur={max(0.0, before_s) * 1000:.3f};desc="received to upstream sent", '
            f'upstream;dur={max(0.0, upstream_s) * 1000:.3f};desc="upstream sent to its response headers"')


def _headers(outcome: Outcome, model: str | None, started: float) -> dict[str, str]:
    headers = {"x-massgen-reused-prefix": str(outcome.reused_prefix)}
    if outcome.first_call:  # the guard's time before its first provider call (counting, compression)
        spent = max(0.0, outcome.first_call - started) * 1000
        headers["server-timing"] = f'gateway;dur={spent:.3f};desc="received to first guarded provider call"'
    if model:
        headers["x-massgen-model"] = model
    if outcome.session_id:
        headers["x-massgen-session"] = outcome.session_id
    return headers


def _open_memory(memory: Any) -> Any:
    if isinstance(memory, str):
        from massgen_plugins.memory import open_store

        return open_store(memory)
    return memory


# ---------------------------------------------------------------------- other endpoints


def create_app(gateway: Gateway) -> Starlette:
    """The Starlette app serving ``gateway``."""

    async def chat(request: Request) -> Response:
        return await gateway.handle(request, "openai")

    async def messages(request: Request) -> Response:
        return await gateway.handle(request, "anthropic")

    async def models(request: Request) -> Response:
        api = "anthropic" if request.headers.get("anthropic-version") else "openai"
        try:
            await gateway.access.caller(request)
            return JSONResponse(await gateway.models.body(api))
        except Exception as exc:
            return render(api, from_exception(exc))

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__, "run_id": gateway.log.run_id,
                             "store": gateway.store.url, "pid": os.getpid()})

    async def metrics(request: Request) -> Response:
        return Response(exposition(), media_type=CONTENT_TYPE)

    async def admin_keys(request: Request) -> Response:
        try:
            caller = await gateway.access.caller(request)
            gateway.access.admin(caller)
            if request.method == "GET":
                return JSONResponse({"data": [k.model_dump() for k in gateway.store.keys(include_revoked=True)]})
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError as exc:
                raise Failure(400, f"the request body is not valid JSON: {exc}") from None
            if not isinstance(body, dict):
                raise InputError("the request body must be a JSON object")
            record, key = create_key(gateway.store, body.get("name", ""), rpm=body.get("rpm"), tpm=body.get("tpm"),
                                     max_tokens=body.get("max_tokens"), models=body.get("models"))
            return JSONResponse({"id": record.id, "key": key}, status_code=201)
        except Exception as exc:
            return render("openai", from_exception(exc))

    async def admin_key(request: Request) -> Response:
        try:
            caller = await gateway.access.caller(request)
            gateway.access.admin(caller)
            record = revoke_key(gateway.store, request.path_params["key_id"])
            return JSONResponse(record.model_dump())
        except Exception as exc:
            return render("openai", from_exception(exc))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await gateway.fast.aclose()
        gateway.close()

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/chat/completions", chat, methods=["POST"]),
            Route("/v1/messages", messages, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            Route("/admin/keys", admin_keys, methods=["GET", "POST"]),
            Route("/admin/keys/{key_id}", admin_key, methods=["DELETE"]),
        ],
        exception_handlers=error_handlers(),
        lifespan=lifespan,
    )


def build(store_url: str | None = None, *, run_dir: str | None = None, require_key: bool = True,
          master_key: str | None = None, settings: GatewaySettings | None = None) -> Starlette:
    """A ready app: settings from the home's ``config.toml``, the store at ``store_url``."""
    store = open_gateway_store(store_url)
    gateway = Gateway(settings=settings or load_settings(), store=store, run_dir=run_dir, require_key=require_key,
                      master_key=master_key, memory=store_url if store_url and store_url.startswith("postgres") else None)
    app = create_app(gateway)
    app.state.gateway = gateway
    return app


def app_factory() -> Starlette:
    """What each ``serve`` worker runs (options come from the environment the CLI set)."""
    return build(os.environ.get(ENV_STORE) or None, require_key=os.environ.get(ENV_NO_AUTH) != "1")
