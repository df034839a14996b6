"""Running an ASGI app with uvicorn: in the foreground (the CLI) or in a background thread
(tests and benchmarks).

:func:`serve` blocks until SIGINT/SIGTERM, then stops gracefully: it stops accepting, lets
in-flight requests finish for up to ``graceful_seconds``, then closes what is left. With
``workers > 1`` uvicorn forks worker processes, which needs the app as an import string
(``"package.module:factory"``, called once per worker when ``factory=True``).

:class:`BackgroundServer` binds 127.0.0.1 port 0 (a free port) unless told otherwise, waits until
the socket accepts, exposes :attr:`~BackgroundServer.url`, and :meth:`~BackgroundServer.stop`
returns within a bounded time.
"""

from __future__ import annotations

import asyncio
import threading
import time
from types import TracebackType
from typing import Any

from ..errors import InputError


def _config(app: Any, host: str, port: int, **options: Any) -> Any:
    import uvicorn

    options.setdefault("log_level", "warning")
    options.setdefault("access_log", False)
    options.setdefault("lifespan", "auto")
    return uvicorn.Config(app, host=host, port=port, **options)


def serve(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    factory: bool = False,
    graceful_seconds: float = 10.0,
    log_level: str = "warning",
    **options: Any,
) -> None:
    """Serve ``app`` (an ASGI app, or an import string) until interrupted.

    :raises InputError: for a port outside 0..65535, ``workers < 1``, or ``workers > 1`` with an
        app object instead of an import string.
    """
    import uvicorn

    if not 0 <= port <= 65535:
        raise InputError(f"port {port} is outside 0..65535")
    if workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}")
    if workers > 1 and not isinstance(app, str):
        raise InputError("several workers need the app as an import string 'module:attribute'")
    options.setdefault("access_log", False)
    uvicorn.run(
        app, host=host, port=port, workers=workers, factory=factory, log_level=log_level,
        timeout_graceful_shutdown=int(graceful_seconds), **options,
    )


class BackgroundServer:
    """An ASGI app served by uvicorn in a daemon thread (its own event loop).

    Use as a context manager, or call :meth:`start` and :meth:`stop`::

        with BackgroundServer(app) as server:
            httpx.get(server.url + "/health")
    """

    def __init__(
        self, app: Any, *, host: str = "127.0.0.1", port: int = 0, start_timeout: float = 15.0, **options: Any
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.start_timeout = start_timeout
        self.options = options
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        if self._server is None:
            raise RuntimeError("the server is not running; call start() first")
        return f"http://{self.host}:{self.port}"

    def start(self) -> BackgroundServer:
        """Start serving and return once the socket accepts connections."""
        import uvicorn

        if self._thread is not None:
            raise RuntimeError("the server is already running")
        options = {"timeout_graceful_shutdown": 5, **self.options}
        self._server = uvicorn.Server(_config(self.app, self.host, self.port, **options))
        self._server.install_signal_handlers = lambda: None  # uvicorn < 0.29; harmless later
        self._thread = threading.Thread(target=self._run, name="massgen-web-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"the server failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"the server did not start within {self.start_timeout:.0f} s")
            time.sleep(0.01)
        sockets = [s for srv in self._server.servers for s in srv.sockets]
        self.port = sockets[0].getsockname()[1]
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve())
        except BaseException as exc:  # reported by start()
            self._error = exc

    def stop(self, timeout: float = 10.0) -> None:
        """Stop gracefully; force-close connections still open after ``timeout`` / 2 seconds."""
        if self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout / 2)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout / 2)
        self._thread = None

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
