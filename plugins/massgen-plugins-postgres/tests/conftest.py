"""A real PostgreSQL server for the plugin's tests.

``MASSGEN_TEST_POSTGRES_URL`` (set by ``eval "$(.ci/postgres.sh start)"``) wins. Otherwise, when
PostgreSQL's server binaries are installed, a throwaway server is started in a temporary
directory for the test session. Without binaries the tests are skipped with the reason -- except
in CI (``CI=true``), where a missing server is a failure.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

URL_ENV = "MASSGEN_TEST_POSTGRES_URL"


def _bindir() -> str | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    found = shutil.which("initdb")
    if found:
        candidates.append(os.path.dirname(found))
    for candidate in candidates:
        if os.access(os.path.join(candidate, "initdb"), os.X_OK) and os.access(os.path.join(candidate, "pg_ctl"),
                                                                               os.X_OK):
            return candidate
    return None


def _as_server_user(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *args]
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(args)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is required in CI: {reason} (run: eval \"$(.ci/postgres.sh start)\")")
    pytest.skip(f"no PostgreSQL server: {reason}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a database on a real PostgreSQL server."""
    configured = os.environ.get(URL_ENV, "").strip()
    if configured:
        yield configured
        return
    bindir = _bindir()
    if bindir is None:
        _unavailable(f"PostgreSQL server binaries (initdb, pg_ctl) are not installed and {URL_ENV} is not set")
    assert bindir is not None
    if os.geteuid() == 0 and subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
        _unavailable("running as root and there is no 'postgres' user to run the server as")
    directory = Path(tempfile.mkdtemp(prefix="massgen-pg-test."))
    directory.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(directory, user="postgres")
    port = _free_port()
    data = directory / "data"
    run = lambda args: subprocess.run(_as_server_user(args), capture_output=True, text=True, timeout=120)  # noqa: E731
    steps = [
        [f"{bindir}/initdb", "-D", str(data), "-U", "massgen", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"],
        [f"{bindir}/pg_ctl", "-D", str(data), "-l", str(directory / "server.log"), "-w", "-t", "60", "-o",
         f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off", "start"],
    ]
    try:
        for step in steps:
            done = run(step)
            if done.returncode != 0:
                log = (directory / "server.log").read_text() if (directory / "server.log").exists() else ""
                pytest.fail(f"could not start PostgreSQL ({step[0]}): {done.stderr or done.stdout}\n{log}")
        yield f"postgresql://massgen@127.0.0.1:{port}/postgres"
    finally:
        run([f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def new_url(postgres_server: str) -> Iterator[Callable[..., str]]:
    """URLs of fresh, empty stores: one PostgreSQL schema each, dropped after the test."""
    import psycopg

    schemas: list[str] = []

    def make(**params: object) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        schemas.append(name)
        query = urlencode({"schema": name, **params})
        joiner = "&" if "?" in postgres_server else "?"
        return f"{postgres_server}{joiner}{query}"

    yield make
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        for name in schemas:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
