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

URL: ``sqlite:////absolute/path.db`` (four slashes) or ``sqlite:///relative/path.db`` (three:
relative to the working directory), SQLAlchemy's convention. A three-slash URL that was surely
meant as absolute is refused rather than followed: ``sqlite:///tmp/x.db`` where ``./tmp`` does
not exist but ``/tmp`` does is an error suggesting ``sqlite:////tmp/x.db``, not a new ``./tmp``. Optional query parameters: ``synchronous``,
``busy_timeout`` (ms), ``guard_budget``, ``create=false`` (open only an existing store), and the
limits of :meth:`Limits.from_query` (``ttl_session=7d``, ``max_user=10000``, ...).

The logic is the shared relational core (:mod:`massgen_plugins.memory.relational`); this module
adds SQLite's connection handling, its FTS5 full-text queries (:class:`SQLiteDialect`), and
backup, restore and index repair. New files and directories are private (``0600``/``0700``).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..errors import InputError, MassgenError
from . import sqlite_schema
from .codec import query_terms, scope_token
from .files import private_file
from .ranking import DEFAULT_BUDGET, fts_phrase
from .records import CorruptionError, Limits
from .relational import ARCHIVE_COLUMNS, MEMORY_COLUMNS, RelationalMemoryStore, SqlDialect, columns
from .sqlite_backup import backup_file, restore_file

_KNOWN_PARAMS = {"synchronous", "busy_timeout", "guard_budget", "max_text_chars", "session_ttl", "create"}
_M_COLUMNS = columns(MEMORY_COLUMNS, "m")
_A_COLUMNS = columns(ARCHIVE_COLUMNS, "a")


def parse_flag(name: str, value: str) -> bool:
    """A boolean URL parameter (``1``/``0``, ``true``/``false``, ``yes``/``no``)."""
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise InputError(f"{name} must be true or false, got {value!r}")


def parse_sqlite_url(url: str) -> tuple[Path, dict[str, str]]:
    """``sqlite:///rel.db?x=1`` -> (Path('rel.db'), {'x': '1'}); ``sqlite:////abs.db`` is absolute."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite":
        raise InputError(f"not a sqlite URL: {url!r} (expected sqlite:////absolute/path/memory.db)")
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


def _looks_absolute(path: Path) -> bool:
    """A relative path from a three-slash URL that was almost surely meant as absolute:
    ``sqlite:///tmp/x.db`` where ``./tmp`` does not exist but ``/tmp`` does. (Opening it
    would quietly create ``./tmp``.)"""
    if path.is_absolute() or path.exists() or path.parent == Path(".") or path.parent.is_dir():
        return False
    return (Path("/") / path.parent).is_dir()


def sqlite_url(path: str | os.PathLike[str]) -> str:
    """The URL of the SQLite store at ``path`` (made absolute)."""
    return "sqlite:///" + str(Path(path).expanduser().absolute())


class SQLiteDialect(SqlDialect):
    """SQLite: ``?`` placeholders, FTS5 tables ``memories_fts``/``archive_fts`` (BM25), scope and
    session ids indexed as hashed tokens beside the text."""

    memory_extra = ("scope_tokens",)
    archive_extra = ("session_token",)

    def archive_extra_values(self, session_id: str) -> tuple[Any, ...]:
        return (scope_token("session", session_id),)

    def search_terms(self, conn: Any, query: str) -> list[str]:
        return query_terms(query)

    def probe(self, conn: Any, term: str, budget: int) -> int:
        return int(conn.execute("SELECT count(*) FROM (SELECT rowid FROM memories_fts WHERE memories_fts MATCH ? "
                                "LIMIT ?)", (f"text : {fts_phrase(term)}", budget + 1)).fetchone()[0])

    def ranked(self, conn: Any, terms: list[str], where: str, args: list[Any], *, pool: int, limit: int,
               unfiltered: bool, candidates: int) -> list[tuple[Any, ...]]:
        match = "text : (" + " OR ".join(fts_phrase(t) for t in terms) + ")"
        # unfiltered: let FTS5 pick the best `pool` itself (ORDER BY rank LIMIT), then read only
        # those rows; filtered: rank every candidate (at most the guard budget), filter, keep best
        inner = pool if unfiltered else -1
        sql = (f"SELECT {_M_COLUMNS}, -c.r FROM (SELECT rowid, rank AS r FROM memories_fts WHERE memories_fts "
               "MATCH ? ORDER BY rank LIMIT ?) AS c CROSS JOIN memories AS m ON m.rowid = c.rowid "
               f"WHERE {where} ORDER BY c.r LIMIT ?")
        rows = conn.execute(sql, (match, inner, *args, pool)).fetchall()
        if inner != -1 and len(rows) < limit <= candidates:  # expired rows took places
            rows = conn.execute(sql, (match, -1, *args, pool)).fetchall()
        return rows  # type: ignore[no-any-return]

    def newest(self, conn: Any, terms: list[str], every: bool, where: str, args: list[Any], *, limit: int,
               scope_tokens: list[str]) -> list[tuple[Any, ...]]:
        match = "text : (" + (" AND " if every else " OR ").join(fts_phrase(t) for t in terms) + ")"
        if scope_tokens:
            match = " AND ".join(f"scope_tokens : {tok}" for tok in scope_tokens) + f" AND {match}"
        return conn.execute(  # type: ignore[no-any-return]
            f"SELECT {_M_COLUMNS} FROM memories_fts CROSS JOIN memories AS m ON m.rowid = memories_fts.rowid "
            f"WHERE memories_fts MATCH ? AND {where} ORDER BY memories_fts.rowid DESC LIMIT ?",
            (match, *args, limit)).fetchall()

    def archive_candidates(self, conn: Any, session_id: str, query: str, limit: int,
                           *, every: bool = False) -> tuple[list[str], list[tuple[Any, ...]]]:
        terms = query_terms(query)
        if not terms:
            return [], []
        match = (f"session_token : {scope_token('session', session_id)} AND text : ("
                 + (" AND " if every else " OR ").join(fts_phrase(t) for t in terms) + ")")
        rows = conn.execute(f"SELECT {_A_COLUMNS}, a.text FROM archive_fts CROSS JOIN archive a "
                            "ON a.rowid = archive_fts.rowid WHERE archive_fts MATCH ? AND a.session_id = ? "
                            "ORDER BY archive_fts.rowid DESC LIMIT ?", (match, session_id, limit)).fetchall()
        return terms, rows


class SQLiteMemoryStore(RelationalMemoryStore):
    """The SQLite memory store (see the module docstring for its guarantees)."""

    backend = "sqlite"
    _unreadable = (sqlite3.DatabaseError,)

    def __init__(self, path: str | os.PathLike[str], *, limits: Limits | None = None,
                 synchronous: str = "full", busy_timeout_ms: int = 30_000,
                 guard_budget: int = DEFAULT_BUDGET, create: bool = True, _target_version: int | None = None) -> None:
        self.path = Path(path).expanduser()
        self.url = sqlite_url(self.path)
        self.dialect = SQLiteDialect()
        self.limits = limits or Limits()
        self.guard_budget = guard_budget
        if synchronous.lower() not in ("full", "normal", "extra"):
            raise InputError(f"synchronous must be full, normal or extra, got {synchronous!r}")
        self._synchronous = synchronous.upper()
        self._busy_ms = busy_timeout_ms
        self._lock = threading.RLock()
        self._closed = False
        if self.path.is_dir():
            raise InputError(f"memory store path {self.path} is a directory; give a file path")
        if not self.path.exists():
            if not create:
                raise InputError(f"no memory store at {self.path} (nothing was created; check the path, or "
                                 "write to a new store with 'massgen-plugins memory add' or 'import')")
            try:
                private_file(self.path)
            except OSError as exc:
                raise InputError(f"cannot create memory store {self.path}: {exc.strerror or exc}") from None
        self._conn = self._connect(_target_version)

    @classmethod
    def from_url(cls, url: str) -> SQLiteMemoryStore:
        path, params = parse_sqlite_url(url)
        options: dict[str, Any] = {"limits": Limits.from_query(params)}
        if "synchronous" in params:
            options["synchronous"] = params["synchronous"]
        if "create" in params:
            options["create"] = parse_flag("create", params["create"])
        for name, key in (("busy_timeout", "busy_timeout_ms"), ("guard_budget", "guard_budget")):
            if name in params:
                try:
                    options[key] = int(params[name])
                except ValueError:
                    raise InputError(f"{name} must be a whole number, got {params[name]!r}") from None
        if _looks_absolute(path):
            raise InputError(f"{url.split('?')[0]} names the relative path ./{path} (three slashes: relative, "
                             f"as in SQLAlchemy), but ./{path.parent} does not exist and /{path.parent} does; "
                             f"for /{path} write sqlite:////{path}, or create ./{path.parent} first")
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
            f"'massgen-plugins memory restore BACKUP --store {self.url}' to restore a backup",
            restore=self._restore_offline)

    def _restore_offline(self, source: str) -> str | None:
        return restore_file(self.path, source)

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

    @contextlib.contextmanager
    def _checking(self) -> Iterator[sqlite3.Connection]:
        """:meth:`check` reads the raw connection: a damaged page is a finding, not an exception."""
        with self._lock:
            self._ensure_open()
            yield self._conn

    # ----------------------------------------------------------------- what only SQLite does
    def _size_bytes(self, conn: Any) -> int | None:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        wal = Path(str(self.path) + "-wal")
        return int(page_size * pages + (wal.stat().st_size if wal.exists() else 0))

    def _check_database(self, conn: Any, problem: Callable[[str], None]) -> None:
        try:
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check(50)").fetchall()]
            if rows != ["ok"]:
                for row in rows:
                    problem(f"database: {row}")
        except sqlite3.DatabaseError as exc:
            problem(f"database: {exc}")
        for table in ("memories_fts", "archive_fts"):
            try:
                conn.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
            except sqlite3.DatabaseError as exc:
                problem(f"full-text index {table}: {exc} (rebuild it with: massgen-plugins memory check --repair-index)")

    def repair_index(self) -> None:
        """Rebuild both FTS5 indexes from the stored rows (nothing else changes)."""
        with self._write("repair_index") as conn:
            conn.execute("INSERT INTO memories_fts(memories_fts) VALUES ('rebuild')")
            conn.execute("INSERT INTO archive_fts(archive_fts) VALUES ('rebuild')")

    def backup(self, destination: str) -> str:
        with self._lock, self._translate("backup"):
            self._ensure_open()
            return backup_file(self._conn, destination)

    def restore(self, source: str) -> str | None:
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.close()
            try:
                return restore_file(self.path, source)
            finally:
                self._conn = self._connect(None)
                self._closed = False
