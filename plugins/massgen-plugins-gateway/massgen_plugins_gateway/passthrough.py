"""The fast path: a request that needs nothing from the guard is relayed byte for byte.

When a request arrives on the API its target provider speaks natively (Chat Completions for the
OpenAI-compatible providers, Messages for Anthropic), carries no ``X-Session-Id``, has no
compressed prefix to reuse, and its counted tokens fit the model's budget, the gateway forwards
the client's own body (``model`` rewritten to the provider's id) to the provider over one shared
connection pool and relays the response unchanged, reading only the usage it needs for accounting.
That avoids building and parsing SDK objects on the hot path.

The guard still decides: the proactive count happens first, and any answer other than 200 before
the first byte (rate limit, overflow, server error, timeout, refused connection) hands the request
over to the full guard (:class:`massgen_plugins.Session`: retries, compression, fallbacks), so the
client sees exactly what the guarded path would give it. Each relayed call is a ``call_start`` /
``call_end`` pair in the run log.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

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
    """An upstream response that answered 200: its status, headers and body to relay."""

    response: httpx.Response
    stream: bool
    usage: Usage
    started: float
    call_id: str
    first_byte: float | None = None


class Passthrough:
    """Upstream endpoints and the shared connection pool of one gateway process."""

    def __init__(self, log: GatewayRunLog, *, timeout: float = 600.0) -> None:
        self.log = log
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._upstreams: dict[tuple[str, str], Upstream | None] = {}

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout, connect=10.0),
                limits=httpx.Limits(max_connections=1000, max_keepalive_connections=200))
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def upstream(self, provider: str, api: str) -> Upstream | None:
        """Where ``provider`` answers ``api`` natively, or ``None`` (then the guard's plugin calls it)."""
        key = (provider, api)
        if key not in self._upstreams:
            self._upstreams[key] = _resolve(provider, api)
        return self._upstreams[key]

    async def open(self, call: ChatCall, body: dict[str, Any], route: Route, upstream: Upstream,
                   request_headers: Any, agent: str) -> Relay | None:
        """Send the request; a 200 returns a :class:`Relay`, anything else ``None`` (hand over)."""
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
        client = self.client()
        try:
            request = client.build_request("POST", upstream.url, content=json.dumps(payload).encode(),
                                           headers=headers)
            response = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            self._end(agent, call_id, route.model, call.stream, started, "error", error_kind=type(exc).__name__)
            return None
        if response.status_code != 200:
            await response.aread()
            await response.aclose()
            self._end(agent, call_id, route.model, call.stream, started, "error", error_kind=f"http_{response.status_code}")
            self.log.event("note", agent=agent, message=f"fast path: {route.model} answered {response.status_code}; "
                           "handing the request to the guard", data={"status": response.status_code})
            return None
        return Relay(response, call.stream, Usage(), started, call_id)

    async def body(self, relay: Relay) -> bytes:
        """The whole non-streamed body (usage read from it)."""
        data = await relay.response.aread()
        await relay.response.aclose()
        relay.first_byte = time.perf_counter()
        try:
            usage = json.loads(data).get("usage") or {}
        except ValueError:
            usage = {}
        relay.usage = _usage(usage)
        return data

    async def lines(self, relay: Relay, include_usage: bool, dialect: str) -> AsyncIterator[bytes]:
        """The streamed body, event by event; the usage-only chunk the gateway added is dropped."""
        try:
            async for line in relay.response.aiter_lines():
                if relay.first_byte is None:
                    relay.first_byte = time.perf_counter()
                if b'"usage"' in (raw := line.encode()) and line.startswith("data: {"):
                    try:
                        data = json.loads(line[6:])
                    except ValueError:
                        data = {}
                    usage = data.get("usage") or (data.get("message") or {}).get("usage")
                    if usage:
                        relay.usage = _merge(relay.usage, _usage(usage))
                    if dialect == "openai" and not include_usage and data.get("choices") == [] and usage:
                        continue
                yield raw + b"\n"
        finally:
            await relay.response.aclose()

    def finish(self, relay: Relay, agent: str, model: str, outcome: str = "ok") -> None:
        ttft = None if relay.first_byte is None else (relay.first_byte - relay.started) * 1000
        self._end(agent, relay.call_id, model, relay.stream, relay.started, outcome, usage=relay.usage, ttft_ms=ttft)

    def _end(self, agent: str, call_id: str, model: str, stream: bool, started: float, outcome: str, *,
             usage: Usage | None = None, ttft_ms: float | None = None, error_kind: str | None = None) -> None:
        self.log.event("call_end", agent=agent, call_id=call_id, model=model, stream=stream, outcome=outcome,
                       latency_ms=(time.perf_counter() - started) * 1000, ttft_ms=ttft_ms, error_kind=error_kind,
                       usage=(usage or Usage()).model_dump())


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
