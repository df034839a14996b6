"""The explorer web app: pages (plain HTML/CSS/JS shipped in ``static/``) over a JSON API.

Routes (documented in ``docs/explorer.md``):

=====================================  ======================================================
``GET /``, ``/runs/<id>``, ``/memory``  the pages
``GET /api/runs``                       run summaries; ``?q=`` filter, ``status``, ``source``,
                                        ``limit``, ``offset``; ``?follow=1``: server-sent events
                                        with the list each time it changes
``GET /api/runs/<id>``                  everything the run page draws
``GET /api/runs/<id>/events``           events after ``?after=SEQ`` (``limit``); ``?follow=1``
                                        (or ``Accept: text/event-stream``): new events as they land
``GET /api/runs/<id>/compressions/<seq>`` a compression's side-by-side diff
``GET /api/memory/stores``              the stores the explorer may open
``GET /api/memory/search``              ``?q=&store=&user=&agent=&session=&team=&include=&limit=``
``GET /api/memory/sessions``            sessions of a scope; ``/api/memory/sessions/<id>``: its turns
=====================================  ======================================================

Built on the shared ASGI layer (:mod:`massgen_plugins.web`). Requests are answered only for the
host names the server was bound to (a page on another site cannot read runs through DNS
rebinding). Blocking work (files, SQLite) runs in Starlette's thread pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import InputError
from ..web import ServerSentEvent, error_handlers, sse_response
from .index import RunIndex
from .stores import StoreRegistry

__all__ = ["Explorer", "create_app"]

STATIC = Path(__file__).with_name("static")
POLL_SECONDS = 0.5
"""How often a live stream looks for new events (updates reach the page well within 2 s)."""


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"query parameter {name!r} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise InputError(f"query parameter {name!r} must be between {low} and {high}, got {value}")
    return value


def _json(model: Any) -> JSONResponse:
    data = model.model_dump(mode="json") if hasattr(model, "model_dump") else model
    return JSONResponse(data)


class Explorer:
    """The app's state: the run index and the memory stores."""

    def __init__(self, run_dirs: Iterable[str | Path], stores: Iterable[str] = (), *,
                 cache_file: Path | None | bool = None) -> None:
        self.index = RunIndex(run_dirs, cache_file=cache_file)
        self.stores = StoreRegistry(list(stores))

    # ------------------------------------------------------------------ pages
    async def page(self, request: Request) -> Response:
        name = {"/": "runs.html", "/memory": "memory.html"}.get(request.url.path, "run.html")
        return FileResponse(STATIC / name, headers={"Cache-Control": "no-store"})

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    # ------------------------------------------------------------------ runs
    def _filtered(self, request: Request) -> bytes:
        """The ``/api/runs`` body. Each run's JSON was encoded when it last changed; a request
        only filters and joins them."""
        listing = self.index.listing()
        q = request.query_params.get("q", "").strip().lower()
        status = request.query_params.get("status", "").strip()
        source = request.query_params.get("source", "").strip()
        limit = _int(request, "limit", 100_000, 1, 100_000)
        offset = _int(request, "offset", 0, 0, 10_000_000)
        chosen = listing if not (q or status or source) else [
            (r, raw) for r, raw in listing
            if (not status or r.status == status) and (not source or r.source == source)
            and (not q or q in " ".join([r.id, r.title or "", r.status, r.source, *r.agents, *r.models]).lower())]
        tail = json.dumps({"total": len(listing), "matched": len(chosen), "dirs": [str(d) for d in self.index.dirs]})
        return b'{"runs":[' + b",".join(raw for _, raw in chosen[offset:offset + limit]) + b"]," + tail[1:].encode()

    async def runs(self, request: Request) -> Response:
        if request.query_params.get("follow") == "1":
            return sse_response(self._runs_stream(request), ping_seconds=15)
        from starlette.concurrency import run_in_threadpool

        return Response(await run_in_threadpool(self._filtered, request), media_type="application/json")

    async def _runs_stream(self, request: Request) -> AsyncIterator[ServerSentEvent]:
        """``runs`` (the whole list) once, then ``changes`` (``{"changed": [runs], "removed":
        [ids], "total"}``) whenever runs start, grow or end: a live run among 1,000 costs its
        own row per second, not the whole list."""
        yield ServerSentEvent((await asyncio.to_thread(self._filtered, request)).decode(), event="runs")
        seen = {r.id: raw for r, raw in await asyncio.to_thread(self.index.listing)}
        while not await request.is_disconnected():
            await asyncio.sleep(POLL_SECONDS * 2)
            now = {r.id: raw for r, raw in await asyncio.to_thread(self.index.listing)}
            changed = [raw for rid, raw in now.items() if seen.get(rid) != raw]
            removed = [rid for rid in seen if rid not in now]
            if changed or removed:
                seen = now
                body = b'{"changed":[' + b",".join(changed) + b"],"
                body += json.dumps({"removed": removed, "total": len(now)})[1:].encode()
                yield ServerSentEvent(body.decode(), event="changes")

    def _summary(self, run_id: str) -> Any:
        summary = self.index.summary_of(run_id)
        if summary is None:
            raise HTTPException(404, f"no run {run_id!r}; see /api/runs")
        return summary

    def run(self, request: Request) -> Response:
        from .detail import run_detail

        return _json(run_detail(self._summary(request.path_params["run_id"]), self.stores))

    async def events(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        summary = await asyncio.to_thread(self._summary, run_id)
        after = _int(request, "after", -1, -1, 1 << 62)
        follow = request.query_params.get("follow") == "1" or "text/event-stream" in request.headers.get("accept", "")
        if follow:
            return sse_response(self._follow(request, Path(summary.path), after), ping_seconds=15)
        limit = _int(request, "limit", 1000, 1, 10_000)

        def page() -> dict[str, Any]:
            from ..runlog.reader import read_run

            events = [e for e in read_run(summary.path).events if int(e.get("seq", -1)) > after]
            shown = events[:limit]
            return {"events": shown, "next_seq": (int(shown[-1]["seq"]) + 1) if shown else after + 1,
                    "more": len(events) > limit}

        return JSONResponse(await asyncio.to_thread(page))

    async def _follow(self, request: Request, path: Path, after: int) -> AsyncIterator[ServerSentEvent]:
        from ..runlog.tail import RunFollower

        follower = RunFollower(path, after_seq=after)
        while not await request.is_disconnected():
            fresh = await asyncio.to_thread(follower.poll)
            if fresh:
                yield ServerSentEvent({"events": fresh, "ended": follower.ended}, event="events",
                                      id=str(follower.last_seq))
            await asyncio.sleep(POLL_SECONDS)

    def compression(self, request: Request) -> Response:
        from ..runlog.reader import read_run
        from .detail import run_store_url
        from .diff import compression_diff

        run_id = request.path_params["run_id"]
        summary = self._summary(run_id)
        events = read_run(summary.path).events
        if summary.source == "massgen":
            from .diff import massgen_compression_diff

            return _json(massgen_compression_diff(run_id, Path(summary.path), events, request.path_params["seq"]))
        key = request.query_params.get("store") or None
        url = run_store_url(events, Path(summary.path))
        if key is None and url:
            key = self.stores.add(url, f"run {run_id}")
        store = None
        try:
            key, store = self.stores.open(key)
        except InputError:
            if request.query_params.get("store"):
                raise
        return _json(compression_diff(run_id, events, request.path_params["seq"], store, key if store else None))

    # ------------------------------------------------------------------ memory
    def memory_stores(self, request: Request) -> Response:
        return JSONResponse([s.model_dump(mode="json") for s in self.stores.infos()])

    def _scope_args(self, request: Request) -> dict[str, str | None]:
        return {k: request.query_params.get(k) or None for k in ("user", "agent", "team")}

    def memory_search(self, request: Request) -> Response:
        from .memory_view import search_memory

        key, store = self.stores.open(request.query_params.get("store") or None)
        include = tuple(i for i in request.query_params.get("include", "memory,archive").split(",") if i)
        return _json(search_memory(store, key, request.query_params.get("q", ""), include=include,
                                   session=request.query_params.get("session") or None,
                                   limit=_int(request, "limit", 20, 1, 200), **self._scope_args(request)))

    def memory_sessions(self, request: Request) -> Response:
        from .memory_view import list_sessions

        key, store = self.stores.open(request.query_params.get("store") or None)
        return JSONResponse({"store": key, "sessions": list_sessions(store, limit=_int(request, "limit", 100, 1, 1000),
                                                                     **self._scope_args(request))})

    def memory_session(self, request: Request) -> Response:
        from .memory_view import session_view

        key, store = self.stores.open(request.query_params.get("store") or None)
        return _json(session_view(store, key, request.path_params["session_id"]))


def create_app(run_dirs: Iterable[str | Path], stores: Iterable[str] = (), *, hosts: Iterable[str] = (),
               cache_file: Path | None | bool = None) -> Starlette:
    """The explorer as an ASGI app over ``run_dirs`` and the memory ``stores`` (URLs).

    :param hosts: extra host names to answer for (besides localhost and 127.0.0.1); ``"*"``
        answers any (for a server bound to a public interface on purpose).
    """
    explorer = Explorer(run_dirs, stores, cache_file=cache_file)
    routes = [
        Route("/", explorer.page),
        Route("/memory", explorer.page),
        Route("/runs/{run_id}", explorer.page),
        Route("/health", explorer.health),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Route("/api/runs", explorer.runs),
        Route("/api/runs/{run_id}", explorer.run),
        Route("/api/runs/{run_id}/events", explorer.events),
        Route("/api/runs/{run_id}/compressions/{seq:int}", explorer.compression),
        Route("/api/memory/stores", explorer.memory_stores),
        Route("/api/memory/search", explorer.memory_search),
        Route("/api/memory/sessions", explorer.memory_sessions),
        Route("/api/memory/sessions/{session_id}", explorer.memory_session),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    allowed = ["127.0.0.1", "localhost", "[::1]", "::1", *hosts]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        import threading

        # build the index while the browser opens, so the first page does not wait for it all
        threading.Thread(target=explorer.index.listing, name="explorer-index-warmup", daemon=True).start()
        yield
        explorer.stores.close()

    app = Starlette(routes=routes, exception_handlers=error_handlers(),
                    middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=allowed)], lifespan=lifespan)
    app.state.explorer = explorer
    return app
