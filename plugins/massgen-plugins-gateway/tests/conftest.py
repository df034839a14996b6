"""Fixtures: a real gateway (uvicorn on a free port) in front of the provider emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

MASTER = "mgp-master-" + "x" * 24


@pytest.fixture
def write_config(emulator_env: Any) -> Callable[[str], Path]:
    """Write ``<MASSGEN_PLUGINS_HOME>/config.toml`` (before the gateway starts)."""
    import os

    def write(text: str) -> Path:
        path = Path(os.environ["MASSGEN_PLUGINS_HOME"]) / "config.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def start_gateway(emulator_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                  ) -> Iterator[Callable[..., Any]]:
    """Start gateways (``start(store=None, **options)``); each is stopped after the test."""
    from massgen_plugins.web import BackgroundServer
    from massgen_plugins_gateway.app import build

    monkeypatch.setenv("MASSGEN_PLUGINS_MASTER_KEY", MASTER)
    running: list[Any] = []

    def start(store: str | None = None, **options: Any) -> Any:
        index = len(running)
        options.setdefault("run_dir", str(tmp_path / f"run{index}"))
        app = build(store or f"sqlite:///{tmp_path / 'gateway.db'}", **options)
        server = BackgroundServer(app).start()
        server.gateway = app.state.gateway
        server.run_dir = Path(options["run_dir"])
        server.events = lambda: events(server.run_dir)
        server.master = MASTER
        running.append(server)
        return server

    yield start
    for server in running:
        server.stop()


@pytest.fixture
def gateway(start_gateway: Callable[..., Any]) -> Any:
    """One running gateway with a fresh SQLite store; ``gateway.url`` is its base URL."""
    return start_gateway()


@pytest.fixture
def new_key(gateway: Any) -> Callable[..., str]:
    """Create a key in the gateway's store: ``new_key(name="k", rpm=..., ...)`` → the key."""
    from massgen_plugins_gateway.keys import create_key

    def make(name: str = "tester", **limits: Any) -> str:
        return create_key(gateway.gateway.store, name, **limits)[1]

    return make


def events(run_dir: Path) -> list[dict[str, Any]]:
    """The run log's events so far."""
    import json

    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines() if line.strip()]


@pytest.fixture
def postgres_store() -> Iterator[str]:
    """A ``postgresql://...?schema=...`` store URL in a fresh schema (dropped afterwards).

    Needs ``MASSGEN_TEST_POSTGRES_URL``; skipped without it, except in CI where it is required.
    """
    import os
    import uuid

    url = os.environ.get("MASSGEN_TEST_POSTGRES_URL", "").strip()
    if not url:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("MASSGEN_TEST_POSTGRES_URL is required in CI (run: eval \"$(.ci/postgres.sh start)\")")
        pytest.skip("MASSGEN_TEST_POSTGRES_URL is not set")
    import psycopg

    schema = f"gw_{uuid.uuid4().hex[:12]}"
    yield f"{url}{'&' if '?' in url else '?'}schema={schema}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
