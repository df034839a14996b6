"""Short-term memory on a relational database: turns, snapshots and the compression archive.

A session is a sequence of acknowledged turns ``1..N``. Each turn row holds the messages the turn
added and, when compression rewrote the conversation during the turn, a snapshot of the whole
live conversation. Resuming reads the last snapshot and the turns after it, so it costs the same
whether the session has ten turns or ten thousand snapshots behind it. The session row is read
with the dialect's row lock for the length of a turn's transaction, so writers on different
hosts append turns to one session strictly one after another.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ...types import ArchivedMessage, Message
from ..codec import archive_checksum, canonical_json, to_datetime, turn_checksum
from ..ranking import bm25_scores
from ..records import (
    ArchiveHit,
    ConflictError,
    Scope,
    SessionState,
    SessionSummary,
    TurnReceipt,
    TurnRecord,
)
from .dialect import ARCHIVE_COLUMNS, columns
from .longterm import RecordsCore
from .prepare import archive_extra, archive_text, check_session_id, prepare_turn, turn_range

RECALL_CANDIDATES = 1000
_SESSION_LEVELS = (("user", "user_id"), ("agent", "agent_id"), ("team", "team_id"), ("session", "session_id"))
_ARCHIVE_INSERTED = ("session_id", "turn", "entry_id", "message", "replaced_by", "stage", "text", "created_at",
                     "checksum", "extra")


class SessionsCore(RecordsCore):
    """The short-term half of :class:`~massgen_plugins.memory.relational.RelationalMemoryStore`."""

    def _session_filter(self, scope: Scope | None, alias: str = "") -> tuple[str, list[Any]]:
        """Sessions whose ids match ``scope`` and that hold at least one acknowledged turn."""
        where, args = self._scope_sql(scope, alias, _SESSION_LEVELS)
        return f"{alias}last_turn > 0 AND {where}", args

    def append_turn(self, session_id: str, messages: Sequence[Message | dict[str, Any]], *,
                    turn: int | None = None, archived: Sequence[ArchivedMessage | dict[str, Any]] = (),
                    snapshot: Sequence[Message | dict[str, Any]] | None = None,
                    meta: dict[str, Any] | None = None, scope: Scope | None = None) -> TurnReceipt:
        prepared = prepare_turn(session_id, messages, turn=turn, archived=archived, snapshot=snapshot, meta=meta)
        msgs_json, snap_json, meta_json = prepared.messages_json, prepared.snapshot_json, prepared.meta_json
        at = self._now()
        scope = scope or Scope()
        with self._write("append_turn") as conn:
            self._q(conn, "INSERT INTO sessions (session_id, user_id, agent_id, team_id, created_at, updated_at, "
                    "last_turn) VALUES (?, ?, ?, ?, ?, ?, 0) ON CONFLICT DO NOTHING",
                    (session_id, scope.user, scope.agent, scope.team, at, at))
            last = self._q(conn, f"SELECT last_turn FROM sessions WHERE session_id = ?{self.dialect.lock_row}",
                           (session_id,)).fetchone()[0]
            number = last + 1 if turn is None else turn
            if number <= last:
                stored = self._q(conn, "SELECT created_at, checksum FROM turns WHERE session_id = ? AND turn = ?",
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
            self._q(conn, "UPDATE sessions SET last_turn = ?, updated_at = ? WHERE session_id = ?",
                    (number, at, session_id))
            self._q(conn, "INSERT INTO turns (session_id, turn, messages, snapshot, meta, created_at, checksum) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (session_id, number, msgs_json, snap_json, meta_json, at,
                     turn_checksum(session_id, number, msgs_json, snap_json, meta_json, at)))
            added = sum(self._archive_entry(conn, session_id, number, entry, at) for entry in prepared.archived)
        return TurnReceipt(session_id=session_id, turn=number, archived=added, created=True)

    def _archive_entry(self, conn: Any, session_id: str, turn: int, entry: ArchivedMessage, at: float) -> int:
        """Store one archive entry (skipped when its id is already archived for the session)."""
        message = canonical_json(entry.message.model_dump(mode="json", exclude_none=True))
        extra = archive_extra(entry)
        names = (*_ARCHIVE_INSERTED, *self.dialect.archive_extra)
        values = (session_id, turn, entry.id, message, entry.replaced_by, entry.stage, archive_text(entry.message), at,
                  archive_checksum(session_id, turn, entry.id, message, entry.replaced_by, entry.stage, at, extra),
                  extra, *self.dialect.archive_extra_values(session_id))
        return int(self._q(conn, f"INSERT INTO archive ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
                           "ON CONFLICT DO NOTHING", values).rowcount)

    def _turn_rows(self, conn: Any, session_id: str, start: int, end: int | None) -> list[Any]:
        start, stop = turn_range(start, end)
        rows = self._q(conn, "SELECT turn, messages, snapshot, meta, created_at, checksum FROM turns "
                       "WHERE session_id = ? AND turn >= ? AND turn <= ? ORDER BY turn",
                       (session_id, start, stop)).fetchall()
        for number, msgs, snap, meta, created, stored in rows:
            if turn_checksum(session_id, number, msgs, snap, meta, created) != stored:
                raise self._corrupt(f"turn {number} of session {session_id!r} fails its checksum")
        return list(rows)

    def _first_turn(self, conn: Any, session_id: str, column: str) -> int | None:
        """The last turn of the session whose ``column`` (snapshot / meta) is set."""
        found = self._q(conn, f"SELECT max(turn) FROM turns WHERE session_id = ? AND {column} IS NOT NULL",
                        (session_id,)).fetchone()[0]
        return None if found is None else int(found)

    def load_session(self, session_id: str) -> SessionState | None:
        check_session_id(session_id)
        with self._read("load_session") as conn:
            head = self._q(conn, "SELECT user_id, agent_id, team_id, created_at, updated_at, last_turn FROM sessions "
                           "WHERE session_id = ?", (session_id,)).fetchone()
            if head is None or head[5] == 0:  # never acknowledged a turn: nothing to resume
                return None
            start = self._first_turn(conn, session_id, "snapshot") or 1
            rows = self._turn_rows(conn, session_id, start, None)
            archived = self._q(conn, "SELECT count(*) FROM archive WHERE session_id = ?", (session_id,)).fetchone()[0]
            meta_turn = self._first_turn(conn, session_id, "meta")
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
                            archived=int(archived), created_at=to_datetime(head[3]), updated_at=to_datetime(head[4]))

    def list_turns(self, session_id: str, *, start: int = 1, end: int | None = None) -> list[TurnRecord]:
        check_session_id(session_id)
        with self._read("list_turns") as conn:
            rows = self._turn_rows(conn, session_id, start, end)
        return [TurnRecord(session_id=session_id, turn=number, messages=json.loads(msgs),
                           snapshot=None if snap is None else json.loads(snap),
                           meta=json.loads(meta) if meta else {}, created_at=to_datetime(created))
                for number, msgs, snap, meta, created, _ in rows]

    def list_sessions(self, scope: Scope | None = None, *, limit: int = 50) -> list[SessionSummary]:
        where, args = self._session_filter(scope, "s.")
        with self._read("list_sessions") as conn:
            rows = self._q(conn, "SELECT s.session_id, s.user_id, s.agent_id, s.team_id, s.last_turn, s.created_at, "
                           "s.updated_at, (SELECT count(*) FROM archive a WHERE a.session_id = s.session_id) "
                           f"FROM sessions s WHERE {where} ORDER BY s.updated_at DESC LIMIT ?", (*args, limit)).fetchall()
        return [SessionSummary(session_id=r[0], scope=Scope.model_construct(user=r[1], agent=r[2], session=r[0],
                                                                             team=r[3]),
                               turns=r[4], archived=r[7], created_at=to_datetime(r[5]), updated_at=to_datetime(r[6]))
                for r in rows]

    def find_sessions(self, prefix: str, *, limit: int = 10) -> list[str]:
        """Session ids starting with ``prefix``, at most ``limit``."""
        if not prefix:
            return []
        with self._read("find_sessions") as conn:
            rows = self._q(conn, "SELECT session_id FROM sessions WHERE last_turn > 0 AND substr(session_id, 1, ?) = ? "
                           "ORDER BY session_id LIMIT ?", (len(prefix), prefix, limit)).fetchall()
        return [r[0] for r in rows]

    def delete_session(self, session_id: str) -> bool:
        check_session_id(session_id)
        with self._write("delete_session") as conn:
            gone = self._q(conn, "DELETE FROM sessions WHERE session_id = ?", (session_id,)).rowcount
            self._q(conn, "DELETE FROM turns WHERE session_id = ?", (session_id,))
            self._q(conn, "DELETE FROM archive WHERE session_id = ?", (session_id,))
        return bool(gone)

    # ----------------------------------------------------------------- the archive
    def _archive_hit(self, row: Any, score: float) -> ArchiveHit:
        session_id, turn, entry_id, message, replaced_by, stage, created, stored, extra = row[:9]
        if archive_checksum(session_id, turn, entry_id, message, replaced_by, stage, created, extra) != stored:
            raise self._corrupt(f"archive entry {entry_id!r} of session {session_id!r} fails its checksum")
        entry = ArchivedMessage(id=entry_id, message=Message.model_validate(json.loads(message)),
                                replaced_by=replaced_by, stage=stage, **(json.loads(extra) if extra else {}))
        return ArchiveHit(session_id=session_id, turn=turn, entry=entry, score=score)

    def recall(self, session_id: str, query: str, *, limit: int = 5) -> list[ArchiveHit]:
        """BM25 over at most :data:`RECALL_CANDIDATES` archived messages of the session (scored
        here, so common terms cannot make recall slow): the newest that contain every query term
        first, then the newest that contain any, so an old entry that matches the whole query is
        found however many newer ones share its common words."""
        check_session_id(session_id)
        if limit < 1:
            return []
        with self._read("recall") as conn:
            terms, rows = self.dialect.archive_candidates(conn, session_id, query, RECALL_CANDIDATES, every=True)
            if len(rows) < RECALL_CANDIDATES:
                _, some = self.dialect.archive_candidates(conn, session_id, query, RECALL_CANDIDATES)
                seen = {tuple(r[:3]) for r in rows}  # session, turn, entry id
                rows = [*rows, *(r for r in some if tuple(r[:3]) not in seen)][:RECALL_CANDIDATES]
        scored = bm25_scores([r[9] for r in rows], terms)
        order = sorted(range(len(rows)), key=lambda i: scored[i], reverse=True)[:limit]
        return [self._archive_hit(rows[i], scored[i]) for i in order]

    def list_archive(self, session_id: str) -> list[ArchiveHit]:
        check_session_id(session_id)
        with self._read("list_archive") as conn:
            rows = self._q(conn, f"SELECT {columns(ARCHIVE_COLUMNS)} FROM archive WHERE session_id = ? ORDER BY rowid",
                           (session_id,)).fetchall()
        return [self._archive_hit(r, 0.0) for r in rows]
