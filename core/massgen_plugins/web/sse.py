"""Server-sent events: one response helper over any async iterator of events.

Each item the iterator yields is a :class:`ServerSentEvent`, a ``dict``/``list`` (sent as one
``data:`` line of JSON) or a ``str`` (sent as is, as the data). With ``ping_seconds`` a comment
line is sent whenever the source has been silent that long, so proxies keep the connection open.
The source is closed when the client disconnects.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import StreamingResponse

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}


@dataclass(frozen=True)
class ServerSentEvent:
    """One event: ``data`` (str, or JSON-encoded), optional ``event`` name, ``id`` and ``retry``."""

    data: Any
    event: str | None = None
    id: str | None = None
    retry_ms: int | None = None

    def encode(self) -> bytes:
        lines: list[str] = []
        if self.event:
            lines.append(f"event: {self.event}")
        if self.id is not None:
            lines.append(f"id: {self.id}")
        if self.retry_ms is not None:
            lines.append(f"retry: {self.retry_ms}")
        data = self.data if isinstance(self.data, str) else json.dumps(self.data, separators=(",", ":"))
        lines.extend(f"data: {line}" for line in data.split("\n"))
        return ("\n".join(lines) + "\n\n").encode()


def encode_event(item: ServerSentEvent | Mapping[str, Any] | list[Any] | str | bytes) -> bytes:
    """The wire bytes of one event (``bytes`` pass through unchanged)."""
    if isinstance(item, bytes):
        return item
    if isinstance(item, ServerSentEvent):
        return item.encode()
    return ServerSentEvent(item).encode()


async def _with_pings(source: AsyncIterable[Any], ping_seconds: float) -> AsyncIterator[bytes]:
    iterator = source.__aiter__()
    pending: asyncio.Task[Any] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(iterator.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=ping_seconds)
            if not done:
                yield b": ping\n\n"
                continue
            try:
                item = pending.result()
            except StopAsyncIteration:
                return
            finally:
                pending = None
            yield encode_event(item)
    finally:
        if pending is not None:
            pending.cancel()
            try:  # let the cancelled step finish, else the generator is still running at aclose()
                await pending
            except BaseException:
                pass
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


async def _plain(source: AsyncIterable[Any]) -> AsyncIterator[bytes]:
    async for item in source:
        yield encode_event(item)


def sse_response(
    events: AsyncIterable[Any],
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    ping_seconds: float | None = None,
) -> StreamingResponse:
    """A ``text/event-stream`` response streaming ``events``."""
    body = _with_pings(events, ping_seconds) if ping_seconds else _plain(events)
    return StreamingResponse(
        body, status_code=status_code, media_type="text/event-stream", headers={**SSE_HEADERS, **(headers or {})}
    )
