"""The embedded default backend: one SQLite file, safe for several processes at once.

Durability design:

* **WAL** journal with ``synchronous=FULL`` (the default; ``?synchronous=normal`` trades the last
  commits on power loss for speed -- a killed *process* never loses a commit either way);
* **one transaction per logical write** (``BEGIN IMMEDIATE`` ... ``COMMIT``): a memory with its
  full-text entry and evictions, or a turn with its snapshot and archive entries, is stored whole
  or not at all; a method returns only after ``COMMIT``;
* several processes may write at once: ``BEGIN IMMEDIATE`` takes the write lock up front and
  waits (``busy_timeout``, default 30 s) instead of failing half-way;
* every row carries a **checksum** verified whenever it is read, plus ``PRAGMA integrity_check``
  and the FTS5 integrity check in :meth:`check`;
* ``schema_version`` with forward migrations (:mod:`.sqlite_schema`);
* online **backup** with SQLite's backup API; **restore** verifies the backup, keeps the
  replaced files aside and swaps atomically.

URL: ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db`` (SQLAlchemy's
convention), with optional query parameters ``synchronous``, ``busy_timeout`` (ms),
``guard_budget``, and the limits of :meth:`Limits.from_query` (``ttl_session=7d``,
``max_user=10000``, ...).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..errors import InputError, MassgenError
from . import sqlite_schema
from .ranking import DEFAULT_BUDGET, blend, fts_phrase, plan_terms, recency
from .records import (
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
    query_terms,
    scope_token,
    text_hash,
    to_datetime,
)
from .sql_records import RecordQueriesMixin
from .sqlite_hygiene import HygieneMixin
from .sqlite_sessions import SessionsMixin
from .store import MemoryInput, MemoryStore

_KNOWN_PARAMS = {"synchronous", "busy_timeout", "guard_budget", "max_text_chars", "session_ttl"}

_MEMORY_COLUMNS = ("rowid, id, kind, text, user_id, agent_id, session_id, team_id, metadata, created_at, "
                   "updated_at, expires_at, version, checksum")


def parse_sqlite_url(url: str) -> tuple[Path, dict[str, str]]:
    """``sqlite:///rel.db?x=1`` -> (Path('rel.db'), {'x': '1'}); ``sqlite:////abs.db`` is absolute."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite":
        raise InputError(f"not a sqlite URL: {url!r} (expected sqlite:///path/to/memory.db)")
    if parts.netloc not in ("", "localhost"):
        raise InputError(f"a sqlite URL has no host: {url!r} (use sqlite:///relative.db or sqlite:////abs.db)")
    raw = unquote(parts.path)
    if not raw.startswith("/") or raw == "/":
        raise InputError(f"sqlite URL without a path: {url!r} (use sqlite:///relative.db or sqlite:////abs.db)")
    path = raw[1:]
    if path in (":memory:", ""):
        raise InputError("in-memory SQLite stores are not durable; give a file path")
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    for name in params:
        if not (name in _KNOWN_PARAMS or name.startswith(("ttl_", "max_"))):
            raise InputError(f"unknown store URL parameter {name!r} (known: {', '.join(sorted(_KNOWN_PARAMS))}, "
                             "ttl_<level>, max_<level>)")
    return Path(path).expanduser(), params


def sqlite_url(path: str | os.PathLike[str]) -> str:
    """The URL of the SQLite store at ``path`` (made absolute)."""
    return "sqlite:///" + str(Path(path).expanduser().absolute())


class SQLiteMemoryStore(SessionsMixin, HygieneMixin, RecordQueriesMixin, MemoryStore):
    """The SQLite memory store (see the module docstring for its guarantees)."""

    PARAM = "?"
    MEMORY_COLUMNS = _MEMORY_COLUMNS

    backend = "sqlite"

    def __init__(self, path: str | os.PathLike[str], *, limits: Limits | None = None,
                 synchronous: str = "full", busy_timeout_ms: int = 30_000,
                 guard_budget: int = DEFAULT_BUDGET, _target_version: int | None = None) -> None:
        self.path = Path(path).expanduser()
        self.url = sqlite_url(self.path)
        self.limits = limits or Limits()
        self.guard_budget = guard_budget
        if synchronous.lower() not in ("full", "normal", "extra"):
            raise InputError(f"synchronous must be full, normal or extra, got {synchronous!r}")
        self._synchronous = synchronous.upper()
        self._busy_ms = busy_timeout_ms
        self._lock = threading.RLock()
        self._closed = False
        if self.path.exists() and self.path.is_dir():
            raise InputError(f"memory store path {self.path} is a directory; give a file path")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = self._connect(_target_version)

    @classmethod
    def from_url(cls, url: str) -> SQLiteMemoryStore:
        path, params = parse_sqlite_url(url)
        options: dict[str, Any] = {"limits": Limits.from_query(params)}
        if "synchronous" in params:
            options["synchronous"] = params["synchronous"]
        for name, key in (("busy_timeout", "busy_timeout_ms"), ("guard_budget", "guard_budget")):
            if name in params:
                try:
                    options[key] = int(params[name])
                except ValueError:
                    raise InputError(f"{name} must be a whole number, got {params[name]!r}") from None
        return cls(path, **options)

    # ----------------------------------------------------------------- connection plumbing
    def _connect(self, target: int | None) -> sqlite3.Connection:
        with self._translate("open"):
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=self._busy_ms / 1000)
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(self._busy_ms)}")
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise MassgenError(f"memory store {self.path}: could not enable WAL (journal_mode={mode}); "
                                       "is it on a network file system?")
                conn.execute(f"PRAGMA synchronous = {self._synchronous}")
                conn.execute("PRAGMA cache_size = -65536")  # 64 MiB: keeps index pages of 1M memories warm
                conn.execute("PRAGMA foreign_keys = ON")
                version = sqlite_schema.current_version(conn)
                wanted = sqlite_schema.LATEST if target is None else target
                if version < wanted or version > sqlite_schema.LATEST:
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        sqlite_schema.migrate(conn, location=str(self.path), target=wanted)
                    except BaseException:
                        conn.execute("ROLLBACK")
                        raise
                    conn.execute("COMMIT")
                self.schema_version = sqlite_schema.current_version(conn)
            except BaseException:
                conn.close()
                raise
        return conn

    @contextlib.contextmanager
    def _translate(self, action: str) -> Iterator[None]:
        """Turn sqlite3 errors into errors a user can act on."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "locked" in text or "busy" in text:
                raise MassgenError(f"memory store {self.path} stayed locked by another process for "
                                   f"{self._busy_ms / 1000:g} s during {action}; retry, or raise ?busy_timeout=") from exc
            if "unable to open" in text:
                raise InputError(f"cannot open memory store {self.path}: {text}") from exc
            if "malformed" in text or "corrupt" in text:
                raise self._corrupt(text) from exc
            raise MassgenError(f"memory store {self.path}: {action} failed: {text}") from exc
        except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError) as exc:
            raise MassgenError(f"memory store {self.path}: {action} failed: {exc}") from exc
        except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
            raise self._corrupt(str(exc)) from exc

    def _corrupt(self, detail: str) -> CorruptionError:
        return CorruptionError(
            f"memory store {self.path} is damaged ({detail}). Nothing was changed. Run "
            f"'massgen-plugins memory check --store {self.url}' for details and "
            f"'massgen-plugins memory restore BACKUP --store {self.url}' to restore a backup"
        )

    @contextlib.contextmanager
    def _write(self, action: str = "write") -> Iterator[sqlite3.Connection]:
        """One write transaction: BEGIN IMMEDIATE (waits for other writers) ... COMMIT."""
        with self._lock, self._translate(action):
            self._ensure_open()
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextlib.contextmanager
    def _read(self, action: str = "read") -> Iterator[sqlite3.Connection]:
        """A read transaction: every SELECT inside sees one consistent snapshot."""
        with self._lock, self._translate(action):
            self._ensure_open()
            conn = self._conn
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("COMMIT")

    def _ensure_open(self) -> None:
        if self._closed:
            raise MassgenError(f"memory store {self.path} is closed")

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    # ----------------------------------------------------------------- rows <-> records
    def _record(self, row: sqlite3.Row | tuple[Any, ...]) -> MemoryRecord:
        (_rowid, mid, kind, text, user, agent, session, team, metadata, created, updated, expires,
         version, stored) = row[:14]
        fields = {"id": mid, "kind": kind, "text": text, "user_id": user, "agent_id": agent,
                  "session_id": session, "team_id": team, "metadata": metadata, "created_at": created,
                  "updated_at": updated, "expires_at": expires, "version": version}
        if memory_checksum(fields) != stored:
            raise self._corrupt(f"memory {mid!r} fails its checksum")
        # verified by its checksum: no need to validate the fields again
        return MemoryRecord.model_construct(
            id=mid, kind=kind, text=text, scope=Scope.model_construct(user=user, agent=agent, session=session, team=team),
            metadata=json.loads(metadata), created_at=to_datetime(created), updated_at=to_datetime(updated),
            expires_at=to_datetime(expires), version=version, checksum=stored, history=[])

    def _prepare(self, item: MemoryInput | dict[str, Any], at: float) -> dict[str, Any]:
        return prepare_memory(item, at, self.limits)

    _INSERT = ("INSERT OR IGNORE INTO memories(id, kind, text, user_id, agent_id, session_id, team_id, "
               "scope_key, scope_tokens, text_hash, metadata, created_at, updated_at, expires_at, version, checksum) "
               "VALUES (:id, :kind, :text, :user_id, :agent_id, :session_id, :team_id, :scope_key, :scope_tokens, "
               ":text_hash, :metadata, :created_at, :updated_at, :expires_at, :version, :checksum)")

    # ----------------------------------------------------------------- long-term: write
    def add(self, text: str, *, scope: Scope | None = None, kind: Kind = "fact",
            metadata: dict[str, Any] | None = None, ttl: float | None = None) -> tuple[MemoryRecord, bool]:
        at = now()
        row = self._prepare({"text": text, "scope": scope, "kind": kind, "metadata": metadata, "ttl": ttl}, at)
        with self._write("add") as conn:
            created = conn.execute(self._INSERT, row).rowcount == 1
            if created:
                self._enforce_max(conn, row["_scope"])
                found = conn.execute(f"SELECT {_MEMORY_COLUMNS} FROM memories WHERE id = ?", (row["id"],)).fetchone()
            else:
                found = conn.execute(f"SELECT {_MEMORY_COLUMNS} FROM memories WHERE scope_key = ? AND text_hash = ?",
                                     (row["scope_key"], row["text_hash"])).fetchone()
                if found is None:  # an explicit id collided (only via import); report the existing one
                    found = conn.execute(f"SELECT {_MEMORY_COLUMNS} FROM memories WHERE id = ?", (row["id"],)).fetchone()
                found = self._refresh_expiry(conn, found, row["expires_at"], at)
            return self._record(found), created

    def _refresh_expiry(self, conn: sqlite3.Connection, found: tuple[Any, ...], expires: float | None,
                        at: float) -> tuple[Any, ...]:
        """Re-adding an identical fact extends its life to the new expiry (or makes it permanent)."""
        old = found[11]
        if old is None or (expires is not None and expires <= old):
            return found
        record = self._record(found)
        fields = {"id": record.id, "kind": record.kind, "text": record.text, "user_id": found[4],
                  "agent_id": found[5], "session_id": found[6], "team_id": found[7], "metadata": found[8],
                  "created_at": found[9], "updated_at": at, "expires_at": expires, "version": found[12]}
        conn.execute("UPDATE memories SET updated_at = ?, expires_at = ?, checksum = ? WHERE rowid = ?",
                     (at, expires, memory_checksum(fields), found[0]))
        return conn.execute(f"SELECT {_MEMORY_COLUMNS} FROM memories WHERE rowid = ?", (found[0],)).fetchone()

    def _enforce_max(self, conn: sqlite3.Connection, scope: Scope) -> int:
        limit = self.limits.for_level(scope.level).max_records
        if limit is None:
            return 0
        cursor = conn.execute(
            "DELETE FROM memories WHERE rowid IN (SELECT rowid FROM memories WHERE scope_key = ? "
            "ORDER BY updated_at DESC, rowid DESC LIMIT -1 OFFSET ?)", (scope.key(), limit))
        return cursor.rowcount

    def add_many(self, items: Iterable[MemoryInput | dict[str, Any]]) -> tuple[int, int]:
        at = now()
        rows = [self._prepare(item, at) for item in items]
        if not rows:
            return 0, 0
        with self._write("add_many") as conn:
            # rowcount sums the direct inserts only (not the full-text trigger's writes)
            added = conn.executemany(self._INSERT, rows).rowcount
            limited = {row["scope_key"]: row["_scope"] for row in rows
                       if self.limits.for_level(row["_scope"].level).max_records is not None}
            for scope in limited.values():
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
            found = conn.execute(f"SELECT {_MEMORY_COLUMNS} FROM memories WHERE id = ?", (memory_id,)).fetchone()
            if found is None:
                raise InputError(f"no memory with id {memory_id!r}")
            old = self._record(found)
            meta_json = canonical_json(metadata) if metadata is not None else found[8]
            new_text = text if text is not None else old.text
            if new_text == old.text and meta_json == found[8]:
                return old
            conn.execute("INSERT OR REPLACE INTO memory_history(memory_id, version, text, metadata, updated_at, "
                         "checksum) VALUES (?, ?, ?, ?, ?, ?)",
                         (old.id, old.version, old.text, found[8], found[10],
                          checksum(old.id, old.version, old.text, found[8], found[10])))
            fields = {"id": old.id, "kind": old.kind, "text": new_text, "user_id": found[4], "agent_id": found[5],
                      "session_id": found[6], "team_id": found[7], "metadata": meta_json,
                      "created_at": found[9], "updated_at": at, "expires_at": found[11],
                      "version": old.version + 1}
            try:
                conn.execute("UPDATE memories SET text = ?, text_hash = ?, metadata = ?, updated_at = ?, version = ?, "
                             "checksum = ? WHERE rowid = ?",
                             (new_text, text_hash(new_text), meta_json, at, old.version + 1,
                              memory_checksum(fields), found[0]))
            except sqlite3.IntegrityError:
                raise InputError("an identical memory already exists in this scope; delete one of them instead") from None
            row = conn.execute(f"SELECT {_MEMORY_COLUMNS} FROM memories WHERE rowid = ?", (found[0],)).fetchone()
            return self._record(row)

    def delete(self, memory_id: str) -> bool:
        with self._write("delete") as conn:
            gone = conn.execute("DELETE FROM memories WHERE id = ?", (memory_id,)).rowcount
            conn.execute("DELETE FROM memory_history WHERE memory_id = ?", (memory_id,))
        return gone > 0

    # ----------------------------------------------------------------- long-term: read
    def get(self, memory_id: str, *, history: bool = False) -> MemoryRecord | None:
        with self._read("get") as conn:
            row = conn.execute(f"SELECT {_MEMORY_COLUMNS} FROM memories WHERE id = ? AND "
                               "(expires_at IS NULL OR expires_at > ?)", (memory_id, now())).fetchone()
            if row is None:
                return None
            record = self._record(row)
            if history:
                record.history = self._history(conn, memory_id)
        return record

    def _history(self, conn: sqlite3.Connection, memory_id: str) -> list[MemoryVersion]:
        out = []
        for version, text, metadata, updated, stored in conn.execute(
                "SELECT version, text, metadata, updated_at, checksum FROM memory_history WHERE memory_id = ? "
                "ORDER BY version", (memory_id,)):
            if checksum(memory_id, version, text, metadata, updated) != stored:
                raise self._corrupt(f"history version {version} of memory {memory_id!r} fails its checksum")
            out.append(MemoryVersion(version=version, text=text, metadata=json.loads(metadata),
                                     updated_at=to_datetime(updated)))
        return out

    @staticmethod
    def _scope_sql(scope: Scope | None, alias: str = "") -> tuple[str, list[Any]]:
        clauses, args = [], []
        if scope is not None:
            for level, column in (("user", "user_id"), ("agent", "agent_id"), ("session", "session_id"),
                                  ("team", "team_id")):
                value = getattr(scope, level)
                if value:
                    clauses.append(f"{alias}{column} = ?")
                    args.append(value)
        return (" AND ".join(clauses) or "1"), args

    # ----------------------------------------------------------------- search
    def _search(self, query: str, *, scope: Scope | None, limit: int, kind: Kind | None) -> SearchResults:
        terms = query_terms(query)
        results = SearchResults(query=query, plan="empty")
        if not terms:
            return results
        at = now()
        scope_match = " AND ".join(f"scope_tokens : {tok}" for tok in (scope.tokens().split() if scope else []))
        with self._read("search") as conn:
            def probe(term: str) -> int:
                return conn.execute("SELECT count(*) FROM (SELECT rowid FROM memories_fts WHERE memories_fts "
                                    "MATCH ? LIMIT ?)", (f"text : {fts_phrase(term)}", self.guard_budget + 1)
                                    ).fetchone()[0]

            plan = plan_terms(terms, probe, self.guard_budget)
            results.plan = plan.plan  # type: ignore[assignment]
            results.common_terms = plan.common
            results.candidates = plan.candidates
            where, args = self._scope_sql(scope, "m.")
            where += " AND (m.expires_at IS NULL OR m.expires_at > ?)"
            args.append(at)
            if kind:
                where += " AND m.kind = ?"
                args.append(kind)
            hits: list[SearchHit] = []
            seen: set[str] = set()
            if plan.ranked:
                match = "text : (" + " OR ".join(fts_phrase(t) for t in plan.ranked) + ")"
                pool = max(limit * 4, 20)
                # unscoped: let FTS5 pick the best `pool` itself (ORDER BY rank LIMIT), then read only
                # those rows; scoped: rank every candidate (at most the guard budget), filter, keep best
                inner = pool if (scope is None or scope.is_empty()) and not kind else -1
                sql = (f"SELECT {', '.join('m.' + c.strip() for c in _MEMORY_COLUMNS.split(','))}, c.r FROM "
                       "(SELECT rowid, rank AS r FROM memories_fts WHERE memories_fts MATCH ? ORDER BY rank LIMIT ?) "
                       f"AS c CROSS JOIN memories AS m ON m.rowid = c.rowid WHERE {where} ORDER BY c.r LIMIT ?")
                rows = conn.execute(sql, (match, inner, *args, pool)).fetchall()
                if inner != -1 and len(rows) < limit <= plan.candidates:  # expired rows took places
                    rows = conn.execute(sql, (match, -1, *args, pool)).fetchall()
                best = max((-r[14] for r in rows), default=0.0)
                # score from the raw columns; build (and checksum-verify) only the records returned
                scored = sorted(((blend(-r[14], best, recency(at - r[10])), r) for r in rows),
                                key=lambda pair: pair[0], reverse=True)[:limit]
                for score, row in scored:
                    record = self._record(row)
                    hits.append(SearchHit.model_construct(record=record, score=score, relevance=-row[14],
                                                          recency=recency(at - row[10])))
                    seen.add(record.id)
            if len(hits) < limit and plan.common:
                for joiner in (" AND ", " OR "):
                    if len(hits) >= limit or (joiner == " OR " and len(plan.common) == 1):
                        continue
                    match = "text : (" + joiner.join(fts_phrase(t) for t in plan.common) + ")"
                    if scope_match:
                        match = f"{scope_match} AND {match}"
                    rows = conn.execute(
                        f"SELECT {', '.join('m.' + c.strip() for c in _MEMORY_COLUMNS.split(','))} FROM memories_fts "
                        f"CROSS JOIN memories AS m ON m.rowid = memories_fts.rowid WHERE memories_fts MATCH ? "
                        f"AND {where} ORDER BY memories_fts.rowid DESC LIMIT ?",
                        (match, *args, limit * 2)).fetchall()
                    for row in rows:
                        if row[1] in seen:
                            continue
                        record = self._record(row)
                        fresh = recency(at - row[10])
                        hits.append(SearchHit.model_construct(record=record, relevance=0.0, recency=fresh,
                                                              score=blend(0, 1, fresh)))
                        seen.add(record.id)
                        if len(hits) >= limit:
                            break
        results.hits = hits
        return results

    # ----------------------------------------------------------------- helpers for mixins
    def _now(self) -> float:
        return now()

    def _session_token(self, session_id: str) -> str:
        return scope_token("session", session_id)
