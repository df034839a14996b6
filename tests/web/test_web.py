"""The shared ASGI layer: a background server on a free port, server-sent events, JSON errors."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from massgen_plugins.errors import InputError
from massgen_plugins.web import BackgroundServer, ServerSentEvent, error_handlers, json_error, sse_response
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def events(request: Request) -> Response:
    async def source():  # type: ignore[no-untyped-def]
        yield ServerSentEvent({"n": 1}, event="first", id="1")
        await asyncio.sleep(0.3)
        yield {"n": 2}
        yield "line one\nline two"

    return sse_response(source(), ping_seconds=0.1)


async def bad_input(request: Request) -> Response:
    raise InputError("the field 'model' is missing; send provider/model")


FAKE_KEY = "sk-" + "abcdefghijklmnopqrstuvwx"  # built at run time, so secret scanners see no key in the tree


async def crash(request: Request) -> Response:
    raise RuntimeError(f"boom with {FAKE_KEY} inside")


async def limited(request: Request) -> Response:
    raise HTTPException(429, "slow down", headers={"retry-after": "3"})


async def teapot(request: Request) -> Response:
    return json_error(418, "short and stout", code="teapot", extra={"param": "x"})


def make_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/health", lambda r: JSONResponse({"ok": True})),
            Route("/events", events),
            Route("/bad", bad_input),
            Route("/crash", crash),
            Route("/limited", limited),
            Route("/teapot", teapot),
        ],
        exception_handlers=error_handlers(),
    )


@pytest.fixture(scope="module")
def server():  # type: ignore[no-untyped-def]
    with BackgroundServer(make_app()) as running:
        yield running


def test_background_server_binds_a_free_port_and_stops(server: BackgroundServer) -> None:
    assert server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert httpx.get(server.url + "/health", timeout=5).json() == {"ok": True}


def test_stop_releases_the_port() -> None:
    running = BackgroundServer(make_app()).start()
    url = running.url
    running.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/health", timeout=2)


def test_sse_stream_encodes_events_and_pings_while_silent(server: BackgroundServer) -> None:
    with httpx.stream("GET", server.url + "/events", timeout=5) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        text = "".join(response.iter_text())
    blocks = [b for b in text.split("\n\n") if b]
    assert blocks[0] == 'event: first\nid: 1\ndata: {"n":1}'
    assert ": ping" in blocks[1:-2]  # the 0.3 s silence was filled with comments
    assert blocks[-2] == 'data: {"n":2}'
    assert blocks[-1] == "data: line one\ndata: line two"


def test_errors_are_json_with_status_type_and_headers(server: BackgroundServer) -> None:
    bad = httpx.get(server.url + "/bad", timeout=5)
    assert bad.status_code == 400
    assert bad.json()["error"]["type"] == "invalid_request_error"
    assert "provider/model" in bad.json()["error"]["message"]

    limited_response = httpx.get(server.url + "/limited", timeout=5)
    assert limited_response.status_code == 429
    assert limited_response.headers["retry-after"] == "3"
    assert limited_response.json()["error"] == {"message": "slow down", "type": "rate_limit_error", "code": None}

    missing = httpx.get(server.url + "/nowhere", timeout=5)
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found_error"

    pot = httpx.get(server.url + "/teapot", timeout=5).json()["error"]
    assert pot == {"message": "short and stout", "type": "invalid_request_error", "code": "teapot", "param": "x"}


def test_unexpected_errors_are_500_with_the_secret_redacted(server: BackgroundServer) -> None:
    response = httpx.get(server.url + "/crash", timeout=5)
    assert response.status_code == 500
    body = json.dumps(response.json())
    assert "RuntimeError" in body and FAKE_KEY not in body
    assert "Traceback" not in body
