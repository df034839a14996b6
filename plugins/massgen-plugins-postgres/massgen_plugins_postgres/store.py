"""The PostgreSQL memory store: the shared relational core on PostgreSQL.

* one transaction per logical write; concurrent writers from many hosts are serialised by
  PostgreSQL's row locks (a session's turns, ``SELECT ... FOR UPDATE``) and unique constraints
  (dedup);
* full-text search with ``to_tsvector('simple', text)`` in a generated, GIN-indexed column,
  ranked with ``ts_rank`` and blended with recency; the common-term guard reads PostgreSQL's own
  statistics of the column (``pg_stats.most_common_elems``) to know which terms are too common
  to rank, and probes the others with a capped count (:class:`PostgresDialect`);
* every row carries the same checksum as in SQLite, verified on read and by :meth:`check`.

Everything else -- turn numbering, replay, conflicts, session reassembly, gc -- is
:class:`massgen_plugins.memory.relational.RelationalMemoryStore`, the same code SQLite runs.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from massgen_plugins.errors import InputError, MassgenError
from massgen_plugins.memory.ranking import DEFAULT_BUDGET
from massgen_plugins.memory.records import CorruptionError, Limits
from massgen_plugins.memory.relational import (
    ARCHIVE_COLUMNS,
    MEMORY_COLUMNS,
    TABLES,
    RelationalMemoryStore,
    SqlDialect,
    columns,
)

from . import schema
from .dump import dump_backup, restore_dump

OWN_PARAMS = {"schema", "guard_budget", "max_text_chars", "session_ttl", "create"}
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_STATS_TTL = 60.0
_M_COLUMNS = columns(MEMORY_COLUMNS, "m")
_TSQUERY = "plainto_tsquery('simple', ?)"


def split_url(url: str) -> tuple[str, dict[str, str], str]:
    """(libpq conninfo URL, our own parameters, the URL with the password redacted)."""
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://", 1))
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    own = {k: v for k, v in params.items() if k in OWN_PARAMS or k.startswith(("ttl_", "max_"))}
    libpq = {k: v for k, v in params.items() if k not in own}
    conninfo = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(libpq), ""))
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    redacted = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    return conninfo, own, redacted


class PostgresDialect(SqlDialect):
    """PostgreSQL: ``%s`` placeholders, ``tsvector`` columns with GIN indexes, ``ts_rank``."""

    param = "%s"
    true = "TRUE"
    offset_all = "OFFSET ?"
    lock_row = " FOR UPDATE"

    def __init__(self) -> None:
        super().__init__()
        self._stats: tuple[float, dict[str, float], float] | None = None

    def insert_many(self, conn: Any, sql: str, rows: list[tuple[Any, ...]]) -> int:
        added = 0
        with conn.cursor() as cursor:
            for row in rows:
                cursor.execute(sql, row)
                added += max(cursor.rowcount, 0)
        return added

    def forget_statistics(self) -> None:
        self._stats = None

    def _common_elements(self, conn: Any) -> tuple[dict[str, float], float]:
        """PostgreSQL's statistics of the tsvector column: term -> fraction of rows, row count."""
        cached = self._stats
        if cached is not None and time.monotonic() - cached[0] < _STATS_TTL:
            return cached[1], cached[2]
        row = conn.execute("SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
                           "WHERE schemaname = current_schema() AND tablename = 'memories' AND attname = 'tsv'"
                           ).fetchone()
        rows = conn.execute("SELECT reltuples FROM pg_class WHERE oid = 'memories'::regclass").fetchone()[0]
        freqs: dict[str, float] = {}
        if row and row[0]:
            freqs = dict(zip(row[0], row[1][: len(row[0])], strict=False))
        self._stats = (time.monotonic(), freqs, float(max(rows or 0, 0)))
        return freqs, float(max(rows or 0, 0))

    def _lexemes(self, conn: Any, query: str) -> list[str]:
        return [r[0] for r in conn.execute(self.q("SELECT lexeme FROM unnest(to_tsvector('simple', ?)) "
                                                  "ORDER BY positions[1] LIMIT 16"), (query,)).fetchall()]

    def search_terms(self, conn: Any, query: str) -> list[str]:
        return self._lexemes(conn, query)

    def probe(self, conn: Any, term: str, budget: int) -> int:
        freqs, rows = self._common_elements(conn)
        if term in freqs and freqs[term] * rows > budget:
            return budget + 1
        return int(conn.execute(self.q(f"SELECT count(*) FROM (SELECT 1 FROM memories WHERE tsv @@ {_TSQUERY} "
                                       "LIMIT ?) AS probe"), (term, budget + 1)).fetchone()[0])

    def ranked(self, conn: Any, terms: list[str], where: str, args: list[Any], *, pool: int, limit: int,
               unfiltered: bool, candidates: int) -> list[tuple[Any, ...]]:
        tsquery = " || ".join([_TSQUERY] * len(terms))
        return conn.execute(self.q(  # type: ignore[no-any-return]
            f"SELECT {_M_COLUMNS}, ts_rank(m.tsv, q.q) AS r FROM memories m, (SELECT {tsquery} AS q) AS q "
            f"WHERE m.tsv @@ q.q AND {where} ORDER BY r DESC LIMIT ?"), (*terms, *args, pool)).fetchall()

    def newest(self, conn: Any, terms: list[str], every: bool, where: str, args: list[Any], *, limit: int,
               scope_tokens: list[str]) -> list[tuple[Any, ...]]:
        tsquery = (" && " if every else " || ").join([_TSQUERY] * len(terms))
        return conn.execute(self.q(  # type: ignore[no-any-return]
            f"SELECT {_M_COLUMNS} FROM memories m WHERE m.tsv @@ ({tsquery}) AND {where} "
            "ORDER BY m.rowid DESC LIMIT ?"), (*terms, *args, limit)).fetchall()

    def archive_candidates(self, conn: Any, session_id: str, query: str, limit: int,
                           *, every: bool = False) -> tuple[list[str], list[tuple[Any, ...]]]:
        terms = self._lexemes(conn, query)
        if not terms:
            return [], []
        tsquery = (" && " if every else " || ").join([_TSQUERY] * len(terms))
        rows = conn.execute(self.q(f"SELECT {columns(ARCHIVE_COLUMNS)}, text FROM archive WHERE session_id = ? AND "
                                   f"tsv @@ ({tsquery}) ORDER BY rowid DESC LIMIT ?"),
                            (session_id, *terms, limit)).fetchall()
        return terms, rows


class PostgresMemoryStore(RelationalMemoryStore):
    """A memory store in a PostgreSQL schema (``?schema=``, default ``public``)."""

    backend = "postgresql"
    dialect: PostgresDialect

    def __init__(self, conninfo: str, *, url: str, schema_name: str = "public", limits: Limits | None = None,
                 guard_budget: int = DEFAULT_BUDGET, create: bool = True,
                 _target_version: int | None = None) -> None:
        if not _SCHEMA_NAME.match(schema_name):
            raise InputError(f"schema must be a lower-case SQL identifier, got {schema_name!r}")
        self.url = url
        self.schema_name = schema_name
        self.dialect = PostgresDialect()
        self.limits = limits or Limits()
        self.guard_budget = guard_budget
        self._lock = threading.RLock()
        self._closed = False
        try:
            self._conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=15)
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise MassgenError(f"cannot connect to the PostgreSQL memory store {url}: {reason}") from None
        try:
            if not create and self._conn.execute("SELECT to_regclass(%s)",
                                                 (f'"{schema_name}".schema_version',)).fetchone()[0] is None:
                raise InputError(f"no memory store at {url} (schema {schema_name!r} holds none; nothing was created)")
            with self._conn.transaction():
                # CREATE SCHEMA IF NOT EXISTS is not safe against a concurrent create (it can fail
                # on pg_namespace's unique index): hosts opening a new store at once take turns
                self._conn.execute("SELECT pg_advisory_xact_lock(hashtext('massgen_plugins.schema:' || %s))",
                                   (schema_name,))
                self._conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema_name}"')
            self._conn.execute(f'SET search_path TO "{schema_name}"')
            with self._conn.transaction():
                schema.migrate(self._conn, location=url,
                               target=schema.LATEST if _target_version is None else _target_version)
            self.schema_version = schema.current_version(self._conn)
        except BaseException:
            self._conn.close()
            raise

    @classmethod
    def from_url(cls, url: str) -> PostgresMemoryStore:
        from massgen_plugins.memory.sqlite import parse_flag

        conninfo, own, redacted = split_url(url)
        options: dict[str, Any] = {"limits": Limits.from_query(own), "url": redacted}
        if "schema" in own:
            options["schema_name"] = own["schema"]
        if "create" in own:
            options["create"] = parse_flag("create", own["create"])
        if "guard_budget" in own:
            try:
                options["guard_budget"] = int(own["guard_budget"])
            except ValueError:
                raise InputError(f"guard_budget must be a whole number, got {own['guard_budget']!r}") from None
        return cls(conninfo, **options)

    # ----------------------------------------------------------------- plumbing
    @contextlib.contextmanager
    def _write(self, action: str = "write") -> Iterator[Any]:
        with self._lock, self._translate(action):
            self._ensure_open()
            with self._conn.transaction():
                yield self._conn

    @contextlib.contextmanager
    def _read(self, action: str = "read") -> Iterator[Any]:
        with self._lock, self._translate(action):
            self._ensure_open()
            with self._conn.transaction():
                self._conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                yield self._conn

    @contextlib.contextmanager
    def _translate(self, action: str) -> Iterator[None]:
        try:
            yield
        except psycopg.errors.DataCorrupted as exc:
            raise self._corrupt(str(exc)) from exc
        except (psycopg.OperationalError, psycopg.DataError, psycopg.IntegrityError, psycopg.ProgrammingError) as exc:
            raise MassgenError(f"PostgreSQL memory store {self.url}: {action} failed: {exc}") from exc

    def _corrupt(self, detail: str) -> CorruptionError:
        return CorruptionError(
            f"memory store {self.url} is damaged ({detail}). Nothing was changed. Run "
            f"'massgen-plugins memory check --store URL' for details and "
            f"'massgen-plugins memory restore BACKUP --store URL' to restore a backup")

    # ----------------------------------------------------------------- what only PostgreSQL does
    def _scan(self, conn: Any, table: str) -> Iterator[dict[str, Any]]:
        """Every row of ``table``, through a server-side cursor (a dump never holds it all)."""
        names = TABLES[table]
        order = "rowid" if "rowid" in names else ", ".join(names[:2])
        with conn.cursor(name=f"dump_{table}") as cursor:
            cursor.itersize = 2000
            cursor.execute(f"SELECT {', '.join(names)} FROM {table} ORDER BY {order}")
            for row in cursor:
                yield dict(zip(names, row, strict=True))

    def _size_bytes(self, conn: Any) -> int | None:
        size = self._q(conn, "SELECT sum(pg_total_relation_size(format('%I.%I', current_schema(), t))) "
                       "FROM unnest(?::text[]) t", (list(TABLES),)).fetchone()[0]
        return None if size is None else int(size)

    def repair_index(self) -> None:
        """Rebuild the GIN full-text indexes of memories and the archive."""
        with self._write("repair_index") as conn:
            conn.execute("REINDEX INDEX memories_tsv")
            conn.execute("REINDEX INDEX archive_tsv")

    def backup(self, destination: str) -> str:
        return dump_backup(self, destination)

    def restore(self, source: str) -> str | None:
        aside = restore_dump(self, source)
        self.dialect.forget_statistics()
        return aside
