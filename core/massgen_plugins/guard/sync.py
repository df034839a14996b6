"""A blocking facade over :class:`~massgen_plugins.guard.session.Session` for scripts.

The async session runs on a private event loop in a daemon thread, so the provider SDKs' async
clients stay bound to one loop for the session's whole life (``asyncio.run`` per call would
give each call a new loop).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ..types import CompletionResponse, StreamEvent
    from .session import Session

T = TypeVar("T")


class _LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="massgen-session-loop", daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)


class SyncSession:
    """``SyncSession(session).send("hi")`` -- the same guard, blocking calls."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._loop = _LoopThread()

    def send(self, content: Any, *, max_tokens: int | None = None, options: Any = None) -> CompletionResponse:
        return self._loop.run(self.session.send(content, max_tokens=max_tokens, options=options))

    def stream(self, content: Any, *, max_tokens: int | None = None, options: Any = None) -> Iterator[StreamEvent]:
        """Yield stream events as they arrive (blocking iterator)."""
        agen = self.session.stream(content, max_tokens=max_tokens, options=options)

        async def next_event() -> StreamEvent:
            return await agen.__anext__()

        while True:
            try:
                yield self._loop.run(next_event())
            except StopAsyncIteration:
                return

    def recall(self, query: str, *, limit: int = 5) -> list[dict[str, Any]]:
        return self._loop.run(self.session.recall(query, limit=limit))

    def remember(self, text: str, **kwargs: Any) -> str:
        return self._loop.run(self.session.remember(text, **kwargs))

    @property
    def messages(self) -> list[Any]:
        return self.session.messages

    def close(self, status: str = "ok", *, error: BaseException | str | None = None) -> None:
        self.session.close(status, error=error)
        self._loop.stop()

    def __enter__(self) -> SyncSession:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        from ..runlog.lifecycle import exit_status

        status = exit_status(exc)
        self.close(status, error=exc if status != "ok" else None)
