"""Short-term memory for the SQLite store: turns, snapshots and the compression archive.

A session is a sequence of acknowledged turns ``1..N``. Each turn row holds the messages the turn
added and, when compression rewrote the conversation during the turn, a snapshot of the whole
live conversation. Resuming reads the last snapshot and the turns after it, so it costs the same
whether the session has ten turns or ten thousand snapshots behind it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..types import ArchivedMessage, Message
from .ranking import bm25_scores, fts_phrase
from .records import (
    ArchiveHit,
    ConflictError,
    Scope,
    SessionState,
    SessionSummary,
    TurnReceipt,
    TurnRecord,
    archive_checksum,
    archive_text,
    canonical_json,
    check_session_id,
    prepare_turn,
    query_terms,
    to_datetime,
    turn_checksum,
)

if TYPE_CHECKING:
    from .sqlite import SQLiteMemoryStore

RECALL_CANDIDATES = 1000


class SessionsMixin:
    """Short-term memory methods of :class:`~massgen_plugins.memory.sqlite.SQLiteMemoryStore`."""

    def append_turn(self: SQLiteMemoryStore, session_id: str, messages: Sequence[Message | dict[str, Any]], *,
                    turn: int | None = None, archived: Sequence[ArchivedMessage | dict[str, Any]] = (),
                    snapshot: Sequence[Message | dict[str, Any]] | None = None,
                    meta: dict[str, Any] | None = None, scope: Scope | None = None) -> TurnReceipt:
        prepared = prepare_turn(session_id, messages, turn=turn, archived=archived, snapshot=snapshot, meta=meta)
        msgs_json, snap_json, entries, meta_json = (prepared.messages_json, prepared.snapshot_json,
                                                    prepared.archived, prepared.meta_json)
        at = self._now()
        with self._write("append_turn") as conn:
            row = conn.execute("SELECT last_turn FROM sessions WHERE session_id = ?", (session_id,)).fetchone()
            last = row[0] if row else 0
            number = last + 1 if turn is None else turn
            if number <= last:
                stored = conn.execute("SELECT created_at, checksum FROM turns WHERE session_id = ? AND turn = ?",
                                      (session_id, number)).fetchone()
                if stored and turn_checksum(session_id, number, msgs_json, snap_json, meta_json,
                                            stored[0]) == stored[1]:
                    return TurnReceipt(session_id=session_id, turn=number, archived=0, created=False)
                raise ConflictError(f"session {session_id!r} already has a different turn {number} "
                                    f"(last acknowledged turn: {last}); another process is writing it, or the "
                                    "caller resumed from a stale state -- reload the session")
            if number != last + 1:
                raise ConflictError(f"session {session_id!r}: cannot write turn {number}, the last acknowledged "
                                    f"turn is {last} (turns must be written in order)")
            if row is None:
                scope = scope or Scope()
                conn.execute("INSERT INTO sessions(session_id, user_id, agent_id, team_id, created_at, updated_at, "
                             "last_turn) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (session_id, scope.user, scope.agent, scope.team, at, at, number))
            else:
                conn.execute("UPDATE sessions SET last_turn = ?, updated_at = ? WHERE session_id = ?",
                             (number, at, session_id))
            conn.execute("INSERT INTO turns(session_id, turn, messages, snapshot, meta, created_at, checksum) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (session_id, number, msgs_json, snap_json, meta_json, at,
                          turn_checksum(session_id, number, msgs_json, snap_json, meta_json, at)))
            added = 0
            token = self._session_token(session_id)
            for entry in entries:
                message = canonical_json(entry.message.model_dump(mode="json", exclude_none=True))
                added += conn.execute(
                    "INSERT OR IGNORE INTO archive(session_id, turn, entry_id, message, replaced_by, stage, text, "
                    "session_token, created_at, checksum) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (session_id, number, entry.id, message, entry.replaced_by, entry.stage,
                     archive_text(entry.message), token, at,
                     archive_checksum(session_id, number, entry.id, message, entry.replaced_by, entry.stage, at)),
                ).rowcount
        return TurnReceipt(session_id=session_id, turn=number, archived=added, created=True)

    def _turn_rows(self: SQLiteMemoryStore, conn: sqlite3.Connection, session_id: str, start: int,
                   end: int | None) -> list[tuple[Any, ...]]:
        rows = conn.execute("SELECT turn, messages, snapshot, meta, created_at, checksum FROM turns "
                            "WHERE session_id = ? AND turn >= ? AND turn <= ? ORDER BY turn",
                            (session_id, start, end if end is not None else 2**62)).fetchall()
        for number, msgs, snap, meta, created, stored in rows:
            if turn_checksum(session_id, number, msgs, snap, meta, created) != stored:
                raise self._corrupt(f"turn {number} of session {session_id!r} fails its checksum")
        return rows

    def load_session(self: SQLiteMemoryStore, session_id: str) -> SessionState | None:
        check_session_id(session_id)
        with self._read("load_session") as conn:
            head = conn.execute("SELECT user_id, agent_id, team_id, created_at, updated_at, last_turn FROM sessions "
                                "WHERE session_id = ?", (session_id,)).fetchone()
            if head is None:
                return None
            start = conn.execute("SELECT max(turn) FROM turns WHERE session_id = ? AND snapshot IS NOT NULL",
                                 (session_id,)).fetchone()[0] or 1
            rows = self._turn_rows(conn, session_id, start, None)
            archived = conn.execute("SELECT count(*) FROM archive WHERE session_id = ?", (session_id,)).fetchone()[0]
            meta_turn = conn.execute("SELECT max(turn) FROM turns WHERE session_id = ? AND meta IS NOT NULL",
                                     (session_id,)).fetchone()[0]
            meta_rows = self._turn_rows(conn, session_id, meta_turn, meta_turn) if meta_turn else []
        last = rows[-1][0] if rows else 0
        if last != head[5]:
            raise self._corrupt(f"session {session_id!r} lists turn {head[5]} as acknowledged but its turns end at {last}")
        messages: list[Any] = []
        for number, msgs, snap, _meta, _created, _ in rows:
            if snap is not None and number == start:
                messages = json.loads(snap)  # the whole live conversation after that turn
            else:
                messages.extend(json.loads(msgs))
        meta: dict[str, Any] = json.loads(meta_rows[0][3]) if meta_rows else {}
        return SessionState(session_id=session_id,
                            scope=Scope.model_construct(user=head[0], agent=head[1], session=session_id, team=head[2]),
                            turn=last, messages=[Message.model_validate(m) for m in messages], meta=meta,
                            archived=archived, created_at=to_datetime(head[3]), updated_at=to_datetime(head[4]))

    def list_turns(self: SQLiteMemoryStore, session_id: str, *, start: int = 1,
                   end: int | None = None) -> list[TurnRecord]:
        check_session_id(session_id)
        with self._read("list_turns") as conn:
            rows = self._turn_rows(conn, session_id, start, end)
        return [TurnRecord(session_id=session_id, turn=number, messages=json.loads(msgs),
                           snapshot=None if snap is None else json.loads(snap),
                           meta=json.loads(meta) if meta else {}, created_at=to_datetime(created))
                for number, msgs, snap, meta, created, _ in rows]

    def list_sessions(self: SQLiteMemoryStore, scope: Scope | None = None, *, limit: int = 50) -> list[SessionSummary]:
        clauses, args = [], []
        if scope is not None:
            for level, column in (("user", "user_id"), ("agent", "agent_id"), ("team", "team_id"),
                                  ("session", "session_id")):
                if getattr(scope, level):
                    clauses.append(f"s.{column} = ?")
                    args.append(getattr(scope, level))
        where = " AND ".join(clauses) or "1"
        with self._read("list_sessions") as conn:
            rows = conn.execute(
                "SELECT s.session_id, s.user_id, s.agent_id, s.team_id, s.last_turn, s.created_at, s.updated_at, "
                "(SELECT count(*) FROM archive a WHERE a.session_id = s.session_id) "
                f"FROM sessions s WHERE {where} ORDER BY s.updated_at DESC LIMIT ?", (*args, limit)).fetchall()
        return [SessionSummary(session_id=r[0], scope=Scope.model_construct(user=r[1], agent=r[2], session=r[0],
                                                                             team=r[3]),
                               turns=r[4], archived=r[7], created_at=to_datetime(r[5]), updated_at=to_datetime(r[6]))
                for r in rows]

    def delete_session(self: SQLiteMemoryStore, session_id: str) -> bool:
        check_session_id(session_id)
        with self._write("delete_session") as conn:
            gone = conn.execute("DELETE FROM sessions WHERE session_id = ?", (session_id,)).rowcount
            conn.execute("DELETE FROM turns WHERE session_id = ?", (session_id,))
            conn.execute("DELETE FROM archive WHERE session_id = ?", (session_id,))
        return gone > 0

    def _archive_hit(self: SQLiteMemoryStore, row: tuple[Any, ...], score: float) -> ArchiveHit:
        session_id, turn, entry_id, message, replaced_by, stage, created, stored = row[:8]
        if archive_checksum(session_id, turn, entry_id, message, replaced_by, stage, created) != stored:
            raise self._corrupt(f"archive entry {entry_id!r} of session {session_id!r} fails its checksum")
        entry = ArchivedMessage(id=entry_id, message=Message.model_validate(json.loads(message)),
                                replaced_by=replaced_by, stage=stage)
        return ArchiveHit(session_id=session_id, turn=turn, entry=entry, score=score)

    _ARCHIVE_COLUMNS = "a.session_id, a.turn, a.entry_id, a.message, a.replaced_by, a.stage, a.created_at, a.checksum"

    def recall(self: SQLiteMemoryStore, session_id: str, query: str, *, limit: int = 5) -> list[ArchiveHit]:
        """BM25 over the newest :data:`RECALL_CANDIDATES` archived messages of the session that
        contain any query term (scored here, so common terms cannot make recall slow)."""
        check_session_id(session_id)
        terms = query_terms(query)
        if not terms or limit < 1:
            return []
        match = (f"session_token : {self._session_token(session_id)} AND text : ("
                 + " OR ".join(fts_phrase(t) for t in terms) + ")")
        with self._read("recall") as conn:
            rows = conn.execute(f"SELECT {self._ARCHIVE_COLUMNS}, a.text FROM archive_fts CROSS JOIN archive a "
                                "ON a.rowid = archive_fts.rowid WHERE archive_fts MATCH ? AND a.session_id = ? "
                                "ORDER BY archive_fts.rowid DESC LIMIT ?",
                                (match, session_id, RECALL_CANDIDATES)).fetchall()
        scored = bm25_scores([r[8] for r in rows], terms)
        order = sorted(range(len(rows)), key=lambda i: scored[i], reverse=True)[:limit]
        return [self._archive_hit(rows[i], scored[i]) for i in order]

    def list_archive(self: SQLiteMemoryStore, session_id: str) -> list[ArchiveHit]:
        check_session_id(session_id)
        with self._read("list_archive") as conn:
            rows = conn.execute(f"SELECT {self._ARCHIVE_COLUMNS} FROM archive a WHERE a.session_id = ? "
                                "ORDER BY a.rowid", (session_id,)).fetchall()
        return [self._archive_hit(r, 0.0) for r in rows]

