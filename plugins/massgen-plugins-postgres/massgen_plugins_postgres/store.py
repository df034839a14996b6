"""The PostgreSQL memory store: the same interface, records and checksums as the SQLite store.

* one transaction per logical write; concurrent writers from many hosts are serialised by
  PostgreSQL's row locks (a session's turns) and unique constraints (dedup);
* full-text search with ``to_tsvector('simple', text)`` in a generated, GIN-indexed column,
  ranked with ``ts_rank`` and blended with recency; the common-term guard reads PostgreSQL's own
  statistics of the column (``pg_stats.most_common_elems``) to know which terms are too common
  to rank, and probes the others with a capped count;
* every row carries the same checksum as in SQLite, verified on read and by :meth:`check`.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from massgen_plugins.errors import InputError, MassgenError
from massgen_plugins.memory.ranking import DEFAULT_BUDGET, blend, plan_terms, recency
from massgen_plugins.memory.records import (
    CorruptionError,
    Kind,
    Limits,
    MemoryRecord,
    MemoryVersion,
    Scope,
    SearchHit,
    SearchResults,
    canonical_json,
    checksum,
    memory_checksum,
    now,
    prepare_memory,
    text_hash,
    to_datetime,
)
from massgen_plugins.memory.sql_records import RecordQueriesMixin
from massgen_plugins.memory.store import MemoryInput, MemoryStore

from . import schema
from .hygiene import HygieneMixin
from .sessions import SessionsMixin

OWN_PARAMS = {"schema", "guard_budget", "max_text_chars", "session_ttl"}
COLUMNS = ("rowid, id, kind, text, user_id, agent_id, session_id, team_id, metadata, created_at, updated_at, "
           "expires_at, version, checksum")
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_STATS_TTL = 60.0


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


class PostgresMemoryStore(SessionsMixin, HygieneMixin, RecordQueriesMixin, MemoryStore):
    """A memory store in a PostgreSQL schema (``?schema=``, default ``public``)."""

    PARAM = "%s"
    MEMORY_COLUMNS = COLUMNS

    backend = "postgresql"

    def __init__(self, conninfo: str, *, url: str, schema_name: str = "public", limits: Limits | None = None,
                 guard_budget: int = DEFAULT_BUDGET, _target_version: int | None = None) -> None:
        if not _SCHEMA_NAME.match(schema_name):
            raise InputError(f"schema must be a lower-case SQL identifier, got {schema_name!r}")
        self.url = url
        self.schema_name = schema_name
        self.limits = limits or Limits()
        self.guard_budget = guard_budget
        self._lock = threading.RLock()
        self._closed = False
        self._stats: tuple[float, dict[str, float], float] | None = None
        try:
            self._conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=15)
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise MassgenError(f"cannot connect to the PostgreSQL memory store {url}: {reason}") from None
        try:
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
        conninfo, own, redacted = split_url(url)
        options: dict[str, Any] = {"limits": Limits.from_query(own), "url": redacted}
        if "schema" in own:
            options["schema_name"] = own["schema"]
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
        except psycopg.OperationalError as exc:
            raise MassgenError(f"PostgreSQL memory store {self.url}: {action} failed: {exc}") from exc
        except psycopg.errors.DataCorrupted as exc:
            raise self._corrupt(str(exc)) from exc

    def _corrupt(self, detail: str) -> CorruptionError:
        return CorruptionError(
            f"memory store {self.url} is damaged ({detail}). Nothing was changed. Run "
            f"'massgen-plugins memory check --store URL' for details and "
            f"'massgen-plugins memory restore BACKUP --store URL' to restore a backup")

    def _ensure_open(self) -> None:
        if self._closed:
            raise MassgenError(f"memory store {self.url} is closed")

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def _now(self) -> float:
        return now()

    # ----------------------------------------------------------------- rows <-> records
    def _record(self, row: tuple[Any, ...]) -> MemoryRecord:
        (_rowid, mid, kind, text, user, agent, session, team, metadata, created, updated, expires,
         version, stored) = row[:14]
        fields = {"id": mid, "kind": kind, "text": text, "user_id": user, "agent_id": agent, "session_id": session,
                  "team_id": team, "metadata": metadata, "created_at": created, "updated_at": updated,
                  "expires_at": expires, "version": version}
        if memory_checksum(fields) != stored:
            raise self._corrupt(f"memory {mid!r} fails its checksum")
        return MemoryRecord(id=mid, kind=kind, text=text,
                            scope=Scope.model_construct(user=user, agent=agent, session=session, team=team),
                            metadata=json.loads(metadata), created_at=to_datetime(created),
                            updated_at=to_datetime(updated), expires_at=to_datetime(expires), version=version,
                            checksum=stored)

    _INSERT = ("INSERT INTO memories (id, kind, text, user_id, agent_id, session_id, team_id, scope_key, text_hash, "
               "metadata, created_at, updated_at, expires_at, version, checksum) VALUES (%(id)s, %(kind)s, %(text)s, "
               "%(user_id)s, %(agent_id)s, %(session_id)s, %(team_id)s, %(scope_key)s, %(text_hash)s, %(metadata)s, "
               "%(created_at)s, %(updated_at)s, %(expires_at)s, %(version)s, %(checksum)s) ON CONFLICT DO NOTHING")

    @staticmethod
    def _scope_sql(scope: Scope | None, alias: str = "") -> tuple[str, list[Any]]:
        clauses, args = [], []
        if scope is not None:
            for level, column in (("user", "user_id"), ("agent", "agent_id"), ("session", "session_id"),
                                  ("team", "team_id")):
                value = getattr(scope, level)
                if value:
                    clauses.append(f"{alias}{column} = %s")
                    args.append(value)
        return (" AND ".join(clauses) or "TRUE"), args

    # ----------------------------------------------------------------- long-term: write
    def add(self, text: str, *, scope: Scope | None = None, kind: Kind = "fact",
            metadata: dict[str, Any] | None = None, ttl: float | None = None) -> tuple[MemoryRecord, bool]:
        at = now()
        row = prepare_memory({"text": text, "scope": scope, "kind": kind, "metadata": metadata, "ttl": ttl}, at,
                             self.limits)
        with self._write("add") as conn:
            created = conn.execute(self._INSERT, row).rowcount == 1
            if created:
                self._enforce_max(conn, row["_scope"])
                found = conn.execute(f"SELECT {COLUMNS} FROM memories WHERE id = %s", (row["id"],)).fetchone()
            else:
                found = conn.execute(f"SELECT {COLUMNS} FROM memories WHERE scope_key = %s AND text_hash = %s "
                                     "FOR UPDATE", (row["scope_key"], row["text_hash"])).fetchone()
                if found is None:
                    found = conn.execute(f"SELECT {COLUMNS} FROM memories WHERE id = %s", (row["id"],)).fetchone()
                found = self._refresh_expiry(conn, found, row["expires_at"], at)
            return self._record(found), created

    def _refresh_expiry(self, conn: Any, found: tuple[Any, ...], expires: float | None, at: float) -> tuple[Any, ...]:
        old = found[11]
        if old is None or (expires is not None and expires <= old):
            return found
        self._record(found)
        fields = {"id": found[1], "kind": found[2], "text": found[3], "user_id": found[4], "agent_id": found[5],
                  "session_id": found[6], "team_id": found[7], "metadata": found[8], "created_at": found[9],
                  "updated_at": at, "expires_at": expires, "version": found[12]}
        conn.execute("UPDATE memories SET updated_at = %s, expires_at = %s, checksum = %s WHERE rowid = %s",
                     (at, expires, memory_checksum(fields), found[0]))
        return conn.execute(f"SELECT {COLUMNS} FROM memories WHERE rowid = %s", (found[0],)).fetchone()  # type: ignore[no-any-return]

    def _enforce_max(self, conn: Any, scope: Scope) -> int:
        limit = self.limits.for_level(scope.level).max_records
        if limit is None:
            return 0
        return conn.execute(  # type: ignore[no-any-return]
            "DELETE FROM memories WHERE rowid IN (SELECT rowid FROM memories WHERE scope_key = %s "
            "ORDER BY updated_at DESC, rowid DESC OFFSET %s)", (scope.key(), limit)).rowcount

    def add_many(self, items: Iterable[MemoryInput | dict[str, Any]]) -> tuple[int, int]:
        at = now()
        rows = [prepare_memory(item, at, self.limits) for item in items]
        if not rows:
            return 0, 0
        added = 0
        with self._write("add_many") as conn:
            with conn.cursor() as cursor:
                for row in rows:  # pipelined by psycopg: one round trip per batch, not per row
                    cursor.execute(self._INSERT, row)
                    added += max(cursor.rowcount, 0)
            for scope in {row["scope_key"]: row["_scope"] for row in rows
                          if self.limits.for_level(row["_scope"].level).max_records is not None}.values():
                self._enforce_max(conn, scope)
        return added, len(rows) - added

    def update(self, memory_id: str, *, text: str | None = None,
               metadata: dict[str, Any] | None = None) -> MemoryRecord:
        if text is None and metadata is None:
            raise InputError("nothing to update: give text and/or metadata")
        if text is not None and (not text.strip() or len(text) > self.limits.max_text_chars):
            raise InputError(f"new text must be non-empty and at most {self.limits.max_text_chars} characters")
        at = now()
        with self._write("update") as conn:
            found = conn.execute(f"SELECT {COLUMNS} FROM memories WHERE id = %s FOR UPDATE", (memory_id,)).fetchone()
            if found is None:
                raise InputError(f"no memory with id {memory_id!r}")
            old = self._record(found)
            meta_json = canonical_json(metadata) if metadata is not None else found[8]
            new_text = text if text is not None else old.text
            if new_text == old.text and meta_json == found[8]:
                return old
            conn.execute("INSERT INTO memory_history (memory_id, version, text, metadata, updated_at, checksum) "
                         "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (memory_id, version) DO NOTHING",
                         (old.id, old.version, old.text, found[8], found[10],
                          checksum(old.id, old.version, old.text, found[8], found[10])))
            fields = {"id": old.id, "kind": old.kind, "text": new_text, "user_id": found[4], "agent_id": found[5],
                      "session_id": found[6], "team_id": found[7], "metadata": meta_json, "created_at": found[9],
                      "updated_at": at, "expires_at": found[11], "version": old.version + 1}
            try:
                with conn.transaction():
                    conn.execute("UPDATE memories SET text = %s, text_hash = %s, metadata = %s, updated_at = %s, "
                                 "version = %s, checksum = %s WHERE rowid = %s",
                                 (new_text, text_hash(new_text), meta_json, at, old.version + 1,
                                  memory_checksum(fields), found[0]))
            except psycopg.errors.UniqueViolation:
                raise InputError("an identical memory already exists in this scope; delete one of them instead") from None
            return self._record(conn.execute(f"SELECT {COLUMNS} FROM memories WHERE rowid = %s",
                                             (found[0],)).fetchone())

    def delete(self, memory_id: str) -> bool:
        with self._write("delete") as conn:
            gone = conn.execute("DELETE FROM memories WHERE id = %s", (memory_id,)).rowcount
            conn.execute("DELETE FROM memory_history WHERE memory_id = %s", (memory_id,))
        return bool(gone)

    # ----------------------------------------------------------------- long-term: read
    def get(self, memory_id: str, *, history: bool = False) -> MemoryRecord | None:
        with self._read("get") as conn:
            row = conn.execute(f"SELECT {COLUMNS} FROM memories WHERE id = %s AND "
                               "(expires_at IS NULL OR expires_at > %s)", (memory_id, now())).fetchone()
            if row is None:
                return None
            record = self._record(row)
            if history:
                record.history = []
                for version, text, metadata, updated, stored in conn.execute(
                        "SELECT version, text, metadata, updated_at, checksum FROM memory_history "
                        "WHERE memory_id = %s ORDER BY version", (memory_id,)):
                    if checksum(memory_id, version, text, metadata, updated) != stored:
                        raise self._corrupt(f"history version {version} of memory {memory_id!r} fails its checksum")
                    record.history.append(MemoryVersion(version=version, text=text, metadata=json.loads(metadata),
                                                        updated_at=to_datetime(updated)))
        return record

    # ----------------------------------------------------------------- search
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

    def _search(self, query: str, *, scope: Scope | None, limit: int, kind: Kind | None) -> SearchResults:
        results = SearchResults(query=query, plan="empty")
        at = now()
        with self._read("search") as conn:
            terms = [r[0] for r in conn.execute(
                "SELECT lexeme FROM unnest(to_tsvector('simple', %s)) ORDER BY positions[1] LIMIT 16",
                (query,)).fetchall()]
            if not terms:
                return results
            freqs, rows = self._common_elements(conn)

            def probe(term: str) -> int:
                if term in freqs and freqs[term] * rows > self.guard_budget:
                    return self.guard_budget + 1
                return int(conn.execute(
                    "SELECT count(*) FROM (SELECT 1 FROM memories WHERE tsv @@ plainto_tsquery('simple', %s) "
                    "LIMIT %s) AS probe", (term, self.guard_budget + 1)).fetchone()[0])

            plan = plan_terms(terms, probe, self.guard_budget)
            results.plan = plan.plan  # type: ignore[assignment]
            results.common_terms = plan.common
            results.candidates = plan.candidates
            where, args = self._scope_sql(scope, "m.")
            where += " AND (m.expires_at IS NULL OR m.expires_at > %s)"
            args.append(at)
            if kind:
                where += " AND m.kind = %s"
                args.append(kind)
            cols = ", ".join("m." + c.strip() for c in COLUMNS.split(","))
            hits: list[SearchHit] = []
            seen: set[str] = set()
            if plan.ranked:
                tsquery = " || ".join(["plainto_tsquery('simple', %s)"] * len(plan.ranked))
                found = conn.execute(
                    f"SELECT {cols}, ts_rank(m.tsv, q.q) AS r FROM memories m, (SELECT {tsquery} AS q) AS q "
                    f"WHERE m.tsv @@ q.q AND {where} ORDER BY r DESC LIMIT %s",
                    (*plan.ranked, *args, max(limit * 4, 20))).fetchall()
                best = max((r[14] for r in found), default=0.0)
                for row in found:
                    record = self._record(row)
                    fresh = recency(at - row[10])
                    hits.append(SearchHit(record=record, relevance=row[14], recency=fresh,
                                          score=blend(row[14], best, fresh)))
                    seen.add(record.id)
                hits.sort(key=lambda h: h.score, reverse=True)
                hits = hits[:limit]
            if len(hits) < limit and plan.common:
                for joiner in (" && ", " || "):
                    if len(hits) >= limit or (joiner == " || " and len(plan.common) == 1):
                        continue
                    tsquery = joiner.join(["plainto_tsquery('simple', %s)"] * len(plan.common))
                    found = conn.execute(
                        f"SELECT {cols} FROM memories m WHERE m.tsv @@ ({tsquery}) AND {where} "
                        "ORDER BY m.rowid DESC LIMIT %s", (*plan.common, *args, limit * 2)).fetchall()
                    for row in found:
                        if row[1] in seen:
                            continue
                        record = self._record(row)
                        fresh = recency(at - row[10])
                        hits.append(SearchHit(record=record, relevance=0.0, recency=fresh, score=blend(0, 1, fresh)))
                        seen.add(record.id)
                        if len(hits) >= limit:
                            break
        results.hits = hits
        return results
