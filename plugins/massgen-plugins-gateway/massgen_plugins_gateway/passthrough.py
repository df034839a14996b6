"""The fast path: a request that needs nothing from the guard is relayed byte for byte.

When a request arrives on the API its target provider speaks natively (Chat Completions for the
OpenAI-compatible providers, Messages for Anthropic), carries no ``X-Session-Id``, has no
compressed prefix to reuse, and its counted tokens fit the model's budget, the gateway forwards
the client's own body (``model`` rewritten to the provider's id) to the provider over one shared
aiohttp connection pool and relays the response unchanged, event by event as the upstream's chunks
arrive, reading only the usage it needs for accounting. That avoids building and parsing SDK
objects on the hot path (the SDK's request transformation alone costs more than the overhead
budget).

The guard still decides: the proactive count happens first, and any answer other than 200 before
the first byte (rate limit, overflow, server error, timeout, refused connection) hands the request
over to the full guard (:class:`massgen_plugins.Session`: retries, compression, fallbacks), so the
client sees exactly what the guarded path would give it. Each relayed call is a ``call_start`` /
``call_end`` pair in the run log. Bounded like the provider plugins' calls: 10 s to connect and 60 s
of silence from the provider at most.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from massgen_plugins.types import Usage

from .calls import ChatCall
from .guarding import GatewayRunLog
from .settings import Route

FORWARDED_HEADERS = ("anthropic-version", "anthropic-beta")


@dataclass
class Upstream:
    url: str
    headers: dict[str, str]
    dialect: str  # "openai" or "anthropic"


@dataclass
class Relay:
    """An upstream response that answered 200, to relay."""

    response: Any  # aiohttp.ClientResponse
    stream: bool
    usage: Usage
    started: float
    call_id: str
    first_byte: float | None = None
    sent: float = 0.0  # when the upstream request's last byte was handed to the socket
    chunk_at: float = 0.0  # when the latest upstream chunk was received
    relay_s: float = 0.0  # time from upstream chunks received to their hand-over to the client, summed

    def overhead_ms(self, received: float) -> dict[str, float]:
        """The gateway's own time on this request, in ms: before the upstream request, relaying, both."""
        before = max(0.0, self.sent - received) * 1000
        return {"before_upstream": round(before, 4), "relay": round(self.relay_s * 1000, 4),
                "total": round(before + self.relay_s * 1000, 4)}


class _SentAt:
    """Filled by the aiohttp trace hooks: when the request went out."""

    at: float = 0.0


async def _on_sent(session: Any, context: Any, params: Any) -> None:
    holder = context.trace_request_ctx
    if isinstance(holder, _SentAt):
        holder.at = time.perf_counter()


class Passthrough:
    """Upstream endpoints and the shared connection pool of one gateway process."""

    def __init__(self, log: GatewayRunLog, *, timeout: float = 60.0) -> None:
        self.log = log
        self.timeout = timeout
        self._session: Any = None
        self._upstreams: dict[tuple[str, str], Upstream | None] = {}

    def session(self) -> Any:
        if self._session is None:
            import aiohttp

            trace = aiohttp.TraceConfig()
            trace.on_request_headers_sent.append(_on_sent)
            trace.on_request_chunk_sent.append(_on_sent)  # the body follows the headers: the last one wins
            self._session = aiohttp.ClientSession(
                trace_configs=[trace],
                connector=aiohttp.TCPConnector(limit=1000, limit_per_host=0, keepalive_timeout=30),
                # bounded: 10 s to connect, and at most `timeout` seconds of silence from the provider
                # (not a cap on the whole answer: a long stream that keeps sending is never cut)
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10.0, sock_read=self.timeout),
                auto_decompress=False)
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    def upstream(self, provider: str, api: str) -> Upstream | None:
        """Where ``provider`` answers ``api`` natively, or ``None`` (then the guard's plugin calls it)."""
        key = (provider, api)
        if key not in self._upstreams:
            self._upstreams[key] = _resolve(provider, api)
        return self._upstreams[key]

    async def open(self, call: ChatCall, body: dict[str, Any], route: Route, upstream: Upstream,
                   request_headers: Any, agent: str) -> Relay | None:
        """Send the request; a 200 returns a :class:`Relay`, anything else ``None`` (hand over)."""
        import aiohttp

        model_id = route.model.split("/", 1)[1]
        payload = {**body, "model": model_id}
        if call.stream and upstream.dialect == "openai":
            payload["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
        headers = dict(upstream.headers)
        for name in FORWARDED_HEADERS:
            if name in request_headers:
                headers[name] = request_headers[name]
        call_id = f"call-{uuid.uuid4().hex[:12]}"
        self.log.event("call_start", agent=agent, call_id=call_id, model=route.model, stream=call.stream,
                       max_tokens=call.max_tokens, messages=len(call.messages), data={"path": "passthrough"})
        started = time.perf_counter()
        sent = _SentAt()
        try:
            response = await self.session().post(upstream.url, data=json.dumps(payload).encode(), headers=headers,
                                                 trace_request_ctx=sent)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            self._end(agent, call_id, route.model, call.stream, started, "error", error_kind=type(exc).__name__)
            self.log.event("note", agent=agent, message=f"fast path: {route.model} unreachable ({type(exc).__name__}); "
                           "handing the request to the guard")
            return None
        if response.status != 200:
            await response.read()
            response.release()
            self._end(agent, call_id, route.model, call.stream, started, "error",
                      error_kind=f"http_{response.status}")
            self.log.event("note", agent=agent, message=f"fast path: {route.model} answered {response.status}; "
                           "handing the request to the guard", data={"status": response.status})
            return None
        return Relay(response, call.stream, Usage(), started, call_id, sent=sent.at or started)

    async def body(self, relay: Relay) -> bytes:
        """The whole non-streamed body (usage read from it)."""
        try:
            data: bytes = await relay.response.read()
        finally:
            relay.response.release()
        relay.first_byte = time.perf_counter()
        try:
            usage = json.loads(data).get("usage") or {}
        except (ValueError, AttributeError):
            usage = {}
        relay.usage = _usage(usage)
        return data

    async def events(self, relay: Relay, include_usage: bool, dialect: str) -> AsyncIterator[bytes]:
        """The streamed body in whole server-sent events, as the upstream's chunks arrive.

        Only events that mention ``"usage"`` are parsed; the usage-only chunk the gateway asked an
        OpenAI-compatible upstream for is dropped when the client did not ask for it.
        """
        pending = b""
        try:
            async for chunk in relay.response.content.iter_any():
                relay.chunk_at = time.perf_counter()
                if relay.first_byte is None:
                    relay.first_byte = relay.chunk_at
                data = pending + chunk
                cut = data.rfind(b"\n\n")
                if cut < 0:
                    pending = data
                    continue
                complete, pending = data[: cut + 2], data[cut + 2:]
                if b'"usage"' in complete:
                    complete = self._usage_events(relay, complete, include_usage, dialect)
                if complete:
                    yield complete
            if pending:
                yield pending
        finally:
            relay.response.release()

    def _usage_events(self, relay: Relay, block: bytes, include_usage: bool, dialect: str) -> bytes:
        kept: list[bytes] = []
        for event in block.split(b"\n\n"):
            if b'"usage"' in event:
                for line in event.split(b"\n"):
                    if not line.startswith(b"data: {"):
                        continue
                    try:
                        data = json.loads(line[6:])
                    except ValueError:
                        continue
                    usage = data.get("usage") or (data.get("message") or {}).get("usage")
                    if usage:
                        relay.usage = _merge(relay.usage, _usage(usage))
                    if dialect == "openai" and not include_usage and data.get("choices") == [] and usage:
                        event = b""
            if event:
                kept.append(event)
        return b"\n\n".join(kept) + b"\n\n" if kept else b""

    def finish(self, relay: Relay, agent: str, model: str, outcome: str = "ok",
               overhead_ms: dict[str, float] | None = None) -> None:
        """Log the call's end (with the gateway's own time on it, ``overhead_ms``, when given)."""
        ttft = None if relay.first_byte is None else (relay.first_byte - relay.started) * 1000
        self._end(agent, relay.call_id, model, relay.stream, relay.started, outcome, usage=relay.usage, ttft_ms=ttft,
                  data={"path": "passthrough", "overhead_ms": overhead_ms} if overhead_ms else None)

    def _end(self, agent: str, call_id: str, model: str, stream: bool, started: float, outcome: str, *,
             usage: Usage | None = None, ttft_ms: float | None = None, error_kind: str | None = None,
             data: dict[str, Any] | None = None) -> None:
        self.log.event("call_end", agent=agent, call_id=call_id, model=model, stream=stream, outcome=outcome,
                       latency_ms=(time.perf_counter() - started) * 1000, ttft_ms=ttft_ms, error_kind=error_kind,
                       usage=(usage or Usage()).model_dump(), **({"data": data} if data else {}))


def _usage(raw: dict[str, Any]) -> Usage:
    return Usage(input_tokens=int(raw.get("prompt_tokens") or raw.get("input_tokens") or 0),
                 output_tokens=int(raw.get("completion_tokens") or raw.get("output_tokens") or 0))


def _merge(old: Usage, new: Usage) -> Usage:
    return Usage(input_tokens=new.input_tokens or old.input_tokens, output_tokens=new.output_tokens or old.output_tokens)


def _resolve(provider: str, api: str) -> Upstream | None:
    from massgen_plugins.errors import MassgenError
    from massgen_plugins.providers import provider_info, resolve_settings

    try:
        info = provider_info(provider)
        settings = resolve_settings(provider)
    except MassgenError:
        return None  # the guard path reports it properly
    base = (settings.base_url or "").rstrip("/")
    key = settings.key() or ""
    if api == "openai" and info.sdk == "openai" and base:
        return Upstream(base + "/chat/completions", {"authorization": f"Bearer {key}",
                                                     "content-type": "application/json"}, "openai")
    if api == "anthropic" and provider == "anthropic" and base:
        return Upstream(base + "/v1/messages", {"x-api-key": key, "anthropic-version": "2023-06-01",
                                                "content-type": "application/json"}, "anthropic")
    return None
