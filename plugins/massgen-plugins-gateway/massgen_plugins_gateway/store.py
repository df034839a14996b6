"""Where the gateway keeps keys, rate-limit windows, spend and session cursors.

One SQL core, two engines: SQLite (a file under ``MASSGEN_PLUGINS_HOME``, one host, any number
of worker processes) and PostgreSQL (``--store postgresql://...``: several hosts share it). The
statements differ only in the driver's placeholder; every update is a single atomic statement,
so processes sharing a store never lose a count.

Rate windows are fixed one-minute buckets keyed by ``floor(epoch / 60)``; a request is admitted
by incrementing the bucket and checking the result (``INSERT ... ON CONFLICT DO UPDATE ...
RETURNING``), so two processes can never both take the last slot.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from massgen_plugins.errors import InputError

from .records import KeyRecord, SessionCursor, Spend, Window

WINDOW_SECONDS = 60
KEEP_WINDOWS = 10  # old buckets are deleted once in a while

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS gw_keys (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL,
        rpm INTEGER, tpm INTEGER, max_tokens BIGINT, models TEXT,
        created DOUBLE PRECISION NOT NULL, revoked DOUBLE PRECISION)""",
    """CREATE TABLE IF NOT EXISTS gw_windows (
        key_id TEXT NOT NULL, bucket BIGINT NOT NULL, requests INTEGER NOT NULL DEFAULT 0,
        tokens BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (key_id, bucket))""",
    """CREATE TABLE IF NOT EXISTS gw_spend (
        key_id TEXT PRIMARY KEY, requests BIGINT NOT NULL DEFAULT 0, input_tokens BIGINT NOT NULL DEFAULT 0,
        output_tokens BIGINT NOT NULL DEFAULT 0, cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS gw_sessions (
        session_id TEXT PRIMARY KEY, inner_id TEXT NOT NULL, consumed INTEGER NOT NULL, digest TEXT NOT NULL,
        generation INTEGER NOT NULL DEFAULT 0, updated DOUBLE PRECISION NOT NULL)""",
)

_KEY_COLUMNS = "id, name, prefix, rpm, tpm, max_tokens, models, created, revoked"


class GatewayStore:
    """The SQL core; subclasses provide a connection and the placeholder."""

    url: str
    placeholder = "?"
    #: True when a call may block for a network round trip (run it off the event loop)
    remote = False

    # -- engine ----------------------------------------------------------------------------
    @contextmanager
    def _cursor(self) -> Iterator[Any]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    def _sql(self, statement: str) -> str:
        return statement.replace("?", self.placeholder) if self.placeholder != "?" else statement

    def _one(self, statement: str, params: Sequence[Any] = ()) -> Any:
        with self._cursor() as cur:
            cur.execute(self._sql(statement), tuple(params))
            return cur.fetchone()

    def _all(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._cursor() as cur:
            cur.execute(self._sql(statement), tuple(params))
            return list(cur.fetchall())

    def _exec(self, statement: str, params: Sequence[Any] = ()) -> int:
        with self._cursor() as cur:
            cur.execute(self._sql(statement), tuple(params))
            return int(cur.rowcount or 0)

    def close(self) -> None:  # pragma: no cover - overridden
        pass

    # -- keys ------------------------------------------------------------------------------
    def add_key(self, record: KeyRecord, digest: str) -> None:
        self._exec(
            f"INSERT INTO gw_keys (hash, {_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (digest, record.id, record.name, record.prefix, record.rpm, record.tpm, record.max_tokens,
             record.models, record.created, record.revoked),
        )

    def key_by_hash(self, digest: str) -> KeyRecord | None:
        row = self._one(f"SELECT {_KEY_COLUMNS} FROM gw_keys WHERE hash = ?", (digest,))
        return _key(row) if row else None

    def keys(self, *, include_revoked: bool = False) -> list[KeyRecord]:
        where = "" if include_revoked else " WHERE revoked IS NULL"
        return [_key(r) for r in self._all(f"SELECT {_KEY_COLUMNS} FROM gw_keys{where} ORDER BY created, id")]

    def find_keys(self, id_or_name: str) -> list[KeyRecord]:
        rows = self._all(f"SELECT {_KEY_COLUMNS} FROM gw_keys WHERE id = ? OR name = ?", (id_or_name, id_or_name))
        return [_key(r) for r in rows]

    def revoke(self, key_id: str, now: float | None = None) -> bool:
        return self._exec("UPDATE gw_keys SET revoked = ? WHERE id = ? AND revoked IS NULL",
                          (now or time.time(), key_id)) > 0

    # -- rate windows ----------------------------------------------------------------------
    def admit(self, key_id: str, rpm: int | None, tpm: int | None, now: float | None = None
              ) -> tuple[bool, str | None, Window]:
        """Count one request in the current window unless it is over ``rpm`` or ``tpm``.

        Returns ``(admitted, reason, window)``; ``reason`` is ``"rpm"`` or ``"tpm"`` when refused.
        """
        now = time.time() if now is None else now
        bucket = int(now // WINDOW_SECONDS)
        resets_in = (bucket + 1) * WINDOW_SECONDS - now
        if tpm is not None:
            row = self._one("SELECT requests, tokens FROM gw_windows WHERE key_id = ? AND bucket = ?",
                            (key_id, bucket))
            if row and int(row[1]) >= tpm:
                return False, "tpm", Window(requests=int(row[0]), tokens=int(row[1]), resets_in=resets_in)
        row = self._one(
            "INSERT INTO gw_windows (key_id, bucket, requests, tokens) VALUES (?, ?, 1, 0) "
            "ON CONFLICT (key_id, bucket) DO UPDATE SET requests = gw_windows.requests + 1 "
            "RETURNING requests, tokens",
            (key_id, bucket),
        )
        window = Window(requests=int(row[0]), tokens=int(row[1]), resets_in=resets_in)
        if rpm is not None and window.requests > rpm:
            self._exec("UPDATE gw_windows SET requests = requests - 1 WHERE key_id = ? AND bucket = ?",
                       (key_id, bucket))
            return False, "rpm", window
        if bucket % KEEP_WINDOWS == 0 and window.requests == 1:
            self._exec("DELETE FROM gw_windows WHERE bucket < ?", (bucket - KEEP_WINDOWS,))
        return True, None, window

    def record_usage(self, key_id: str, input_tokens: int, output_tokens: int, cost_usd: float,
                     now: float | None = None) -> None:
        """Add a finished request's tokens to the key's window and lifetime spend."""
        now = time.time() if now is None else now
        tokens = input_tokens + output_tokens
        self._exec(
            "INSERT INTO gw_windows (key_id, bucket, requests, tokens) VALUES (?, ?, 0, ?) "
            "ON CONFLICT (key_id, bucket) DO UPDATE SET tokens = gw_windows.tokens + excluded.tokens",
            (key_id, int(now // WINDOW_SECONDS), tokens),
        )
        self._exec(
            "INSERT INTO gw_spend (key_id, requests, input_tokens, output_tokens, cost_usd) VALUES (?, 1, ?, ?, ?) "
            "ON CONFLICT (key_id) DO UPDATE SET requests = gw_spend.requests + 1, "
            "input_tokens = gw_spend.input_tokens + excluded.input_tokens, "
            "output_tokens = gw_spend.output_tokens + excluded.output_tokens, "
            "cost_usd = gw_spend.cost_usd + excluded.cost_usd",
            (key_id, input_tokens, output_tokens, cost_usd),
        )

    def spend(self, key_id: str) -> Spend:
        row = self._one("SELECT requests, input_tokens, output_tokens, cost_usd FROM gw_spend WHERE key_id = ?",
                        (key_id,))
        if not row:
            return Spend(key_id=key_id)
        return Spend(key_id=key_id, requests=int(row[0]), input_tokens=int(row[1]), output_tokens=int(row[2]),
                     cost_usd=float(row[3]))

    # -- session cursors -------------------------------------------------------------------
    def cursor(self, session_id: str) -> SessionCursor | None:
        row = self._one("SELECT inner_id, consumed, digest, generation FROM gw_sessions WHERE session_id = ?",
                        (session_id,))
        if not row:
            return None
        return SessionCursor(session_id=session_id, inner_id=row[0], consumed=int(row[1]), digest=row[2],
                             generation=int(row[3]))

    def save_cursor(self, cursor: SessionCursor) -> None:
        self._exec(
            "INSERT INTO gw_sessions (session_id, inner_id, consumed, digest, generation, updated) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET inner_id = excluded.inner_id, "
            "consumed = excluded.consumed, digest = excluded.digest, generation = excluded.generation, "
            "updated = excluded.updated",
            (cursor.session_id, cursor.inner_id, cursor.consumed, cursor.digest, cursor.generation, time.time()),
        )


def _key(row: Sequence[Any]) -> KeyRecord:
    return KeyRecord(id=row[0], name=row[1], prefix=row[2], rpm=row[3], tpm=row[4], max_tokens=row[5],
                     models=row[6], created=float(row[7]), revoked=None if row[8] is None else float(row[8]))


class SQLiteGatewayStore(GatewayStore):
    """One SQLite file (WAL), shared by the worker processes of one host."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.url = f"sqlite:///{path}"
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
        path.chmod(0o600)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=10000")
        for statement in SCHEMA:
            self._conn.execute(statement)

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        with self._lock:
            cur = self._conn.cursor()
            try:
                yield cur
            finally:
                cur.close()

    def close(self) -> None:
        self._conn.close()


class PostgresGatewayStore(GatewayStore):
    """Tables in one PostgreSQL schema (``?schema=`` in the URL, default ``massgen_gateway``),
    shared by gateway processes on any number of hosts. A small connection pool per process."""

    placeholder = "%s"
    remote = True

    def __init__(self, url: str, *, pool_size: int = 4, connect_timeout: float = 10.0) -> None:
        import psycopg

        parts = urlsplit(url)
        params = dict(parse_qsl(parts.query))
        self.schema = params.pop("schema", "massgen_gateway")
        if not self.schema.replace("_", "").isalnum():
            raise InputError(f"invalid schema name {self.schema!r} in the store URL: use letters, digits and _")
        self._dsn = urlunsplit((parts.scheme.replace("+psycopg", ""), parts.netloc, parts.path,
                                urlencode(params), ""))
        from massgen_plugins.redact import redact

        self.url = redact(urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path, "", "")))
        self._timeout = connect_timeout
        self._pool: list[Any] = []
        self._pool_size = pool_size
        self._lock = threading.Lock()
        self._psycopg = psycopg
        with self._cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"massgen-gateway:{self.schema}",))
            cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            cur.execute(f'SET search_path TO "{self.schema}"')
            for statement in SCHEMA:
                cur.execute(statement)

    def _connect(self) -> Any:
        try:
            conn = self._psycopg.connect(self._dsn, connect_timeout=int(self._timeout))
        except self._psycopg.OperationalError as exc:
            from massgen_plugins.redact import redact

            raise InputError(f"cannot connect to the gateway store {self.url}: {redact(str(exc)).strip()}") from None
        conn.execute(f'SET search_path TO "{self.schema}", public')
        conn.execute("SET statement_timeout = 10000")
        conn.commit()
        return conn

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        with self._lock:
            conn = self._pool.pop() if self._pool else None
        if conn is None or conn.closed:
            conn = self._connect()
        try:
            with conn.transaction(), conn.cursor() as cur:
                yield cur
        except BaseException:
            conn.close()
            raise
        with self._lock:
            if len(self._pool) < self._pool_size:
                self._pool.append(conn)
                conn = None
        if conn is not None:
            conn.close()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, []
        for conn in pool:
            conn.close()


def open_gateway_store(url: str | None) -> GatewayStore:
    """The store at ``url``: ``postgresql://...``, ``sqlite:///PATH``, or ``None`` for
    ``<MASSGEN_PLUGINS_HOME>/gateway.db``.

    :raises InputError: for any other scheme.
    """
    if not url:
        from massgen_plugins.paths import home

        return SQLiteGatewayStore(home() / "gateway.db")
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        return PostgresGatewayStore(url)
    if url.startswith("sqlite:///"):
        return SQLiteGatewayStore(Path(url.removeprefix("sqlite:///")).expanduser())
    raise InputError(f"unsupported gateway store {url.split(':', 1)[0]!r}: use postgresql://... or sqlite:///PATH")
