"""The shared ASGI layer of the gateway and the explorer (Starlette served by uvicorn).

- :mod:`.server`: :func:`~.server.serve` runs an app in the foreground (host, port, workers,
  graceful stop on SIGINT/SIGTERM); :class:`~.server.BackgroundServer` runs one on a free
  127.0.0.1 port in a thread, for tests and benchmarks.
- :mod:`.sse`: :func:`~.sse.sse_response` streams server-sent events from an async iterator.
- :mod:`.errors`: JSON error bodies and the exception handlers that produce them.

Nothing here is imported by the CLI until a web command runs, so ``massgen-plugins list`` never
pays for Starlette or uvicorn.
"""

from __future__ import annotations

from .errors import error_handlers, json_error
from .server import BackgroundServer, serve
from .sse import ServerSentEvent, sse_response

__all__ = ["BackgroundServer", "ServerSentEvent", "error_handlers", "json_error", "serve", "sse_response"]
