"""Short-term memory in PostgreSQL: turns, snapshots and the compression archive.

The session row is locked (``SELECT ... FOR UPDATE``) for the length of the turn's transaction,
so writers on different hosts append turns to one session strictly one after another.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from massgen_plugins.memory.ranking import bm25_scores
from massgen_plugins.memory.records import (
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
    to_datetime,
    turn_checksum,
)
from massgen_plugins.types import ArchivedMessage, Message

if TYPE_CHECKING:
    from .store import PostgresMemoryStore

RECALL_CANDIDATES = 1000


class SessionsMixin:
    def append_turn(self: PostgresMemoryStore, session_id: str, messages: Sequence[Message | dict[str, Any]], *,
                    turn: int | None = None, archived: Sequence[ArchivedMessage | dict[str, Any]] = (),
                    snapshot: Sequence[Message | dict[str, Any]] | None = None,
                    meta: dict[str, Any] | None = None, scope: Scope | None = None) -> TurnReceipt:
        prepared = prepare_turn(session_id, messages, turn=turn, archived=archived, snapshot=snapshot, meta=meta)
        msgs_json, snap_json, entries, meta_json = (prepared.messages_json, prepared.snapshot_json,
                                                    prepared.archived, prepared.meta_json)
        at = self._now()
        scope = scope or Scope()
        with self._write("append_turn") as conn:
            conn.execute("INSERT INTO sessions (session_id, user_id, agent_id, team_id, created_at, updated_at, "
                         "last_turn) VALUES (%s, %s, %s, %s, %s, %s, 0) ON CONFLICT (session_id) DO NOTHING",
                         (session_id, scope.user, scope.agent, scope.team, at, at))
            last = conn.execute("SELECT last_turn FROM sessions WHERE session_id = %s FOR UPDATE",
                                (session_id,)).fetchone()[0]
            number = last + 1 if turn is None else turn
            if number <= last:
                stored = conn.execute("SELECT created_at, checksum FROM turns WHERE session_id = %s AND turn = %s",
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
            conn.execute("UPDATE sessions SET last_turn = %s, updated_at = %s WHERE session_id = %s",
                         (number, at, session_id))
            conn.execute("INSERT INTO turns (session_id, turn, messages, snapshot, meta, created_at, checksum) "
                         "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                         (session_id, number, msgs_json, snap_json, meta_json, at,
                          turn_checksum(session_id, number, msgs_json, snap_json, meta_json, at)))
            added = 0
            for entry in entries:
                message = canonical_json(entry.message.model_dump(mode="json", exclude_none=True))
                added += conn.execute(
                    "INSERT INTO archive (session_id, turn, entry_id, message, replaced_by, stage, text, created_at, "
                    "checksum) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (session_id, entry_id) "
                    "DO NOTHING",
                    (session_id, number, entry.id, message, entry.replaced_by, entry.stage,
                     archive_text(entry.message), at,
                     archive_checksum(session_id, number, entry.id, message, entry.replaced_by, entry.stage, at)),
                ).rowcount
        return TurnReceipt(session_id=session_id, turn=number, archived=added, created=True)

    def _turn_rows(self: PostgresMemoryStore, conn: Any, session_id: str, start: int,
                   end: int | None) -> list[tuple[Any, ...]]:
        rows = conn.execute("SELECT turn, messages, snapshot, meta, created_at, checksum FROM turns "
                            "WHERE session_id = %s AND turn >= %s AND turn <= %s ORDER BY turn",
                            (session_id, start, end if end is not None else 2**31 - 1)).fetchall()
        for number, msgs, snap, meta, created, stored in rows:
            if turn_checksum(session_id, number, msgs, snap, meta, created) != stored:
                raise self._corrupt(f"turn {number} of session {session_id!r} fails its checksum")
        return rows  # type: ignore[no-any-return]

    def load_session(self: PostgresMemoryStore, session_id: str) -> SessionState | None:
        check_session_id(session_id)
        with self._read("load_session") as conn:
            head = conn.execute("SELECT user_id, agent_id, team_id, created_at, updated_at, last_turn FROM sessions "
                                "WHERE session_id = %s", (session_id,)).fetchone()
            if head is None or head[5] == 0:
                return None
            start = conn.execute("SELECT max(turn) FROM turns WHERE session_id = %s AND snapshot IS NOT NULL",
                                 (session_id,)).fetchone()[0] or 1
            rows = self._turn_rows(conn, session_id, start, None)
            archived = conn.execute("SELECT count(*) FROM archive WHERE session_id = %s", (session_id,)).fetchone()[0]
            meta_turn = conn.execute("SELECT max(turn) FROM turns WHERE session_id = %s AND meta IS NOT NULL",
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

    def list_turns(self: PostgresMemoryStore, session_id: str, *, start: int = 1,
                   end: int | None = None) -> list[TurnRecord]:
        check_session_id(session_id)
        with self._read("list_turns") as conn:
            rows = self._turn_rows(conn, session_id, start, end)
        return [TurnRecord(session_id=session_id, turn=number, messages=json.loads(msgs),
                           snapshot=None if snap is None else json.loads(snap),
                           meta=json.loads(meta) if meta else {}, created_at=to_datetime(created))
                for number, msgs, snap, meta, created, _ in rows]

    def list_sessions(self: PostgresMemoryStore, scope: Scope | None = None, *,
                      limit: int = 50) -> list[SessionSummary]:
        clauses, args = ["s.last_turn > 0"], []
        if scope is not None:
            for level, column in (("user", "user_id"), ("agent", "agent_id"), ("team", "team_id"),
                                  ("session", "session_id")):
                if getattr(scope, level):
                    clauses.append(f"s.{column} = %s")
                    args.append(getattr(scope, level))
        with self._read("list_sessions") as conn:
            rows = conn.execute(
                "SELECT s.session_id, s.user_id, s.agent_id, s.team_id, s.last_turn, s.created_at, s.updated_at, "
                "(SELECT count(*) FROM archive a WHERE a.session_id = s.session_id) "
                f"FROM sessions s WHERE {' AND '.join(clauses)} ORDER BY s.updated_at DESC LIMIT %s",
                (*args, limit)).fetchall()
        return [SessionSummary(session_id=r[0], scope=Scope.model_construct(user=r[1], agent=r[2], session=r[0],
                                                                             team=r[3]),
                               turns=r[4], archived=r[7], created_at=to_datetime(r[5]), updated_at=to_datetime(r[6]))
                for r in rows]

    def delete_session(self: PostgresMemoryStore, session_id: str) -> bool:
        check_session_id(session_id)
        with self._write("delete_session") as conn:
            gone = conn.execute("DELETE FROM sessions WHERE session_id = %s", (session_id,)).rowcount
            conn.execute("DELETE FROM turns WHERE session_id = %s", (session_id,))
            conn.execute("DELETE FROM archive WHERE session_id = %s", (session_id,))
        return bool(gone)

    _ARCHIVE_COLUMNS = "session_id, turn, entry_id, message, replaced_by, stage, created_at, checksum"

    def _archive_hit(self: PostgresMemoryStore, row: tuple[Any, ...], score: float) -> ArchiveHit:
        session_id, turn, entry_id, message, replaced_by, stage, created, stored = row[:8]
        if archive_checksum(session_id, turn, entry_id, message, replaced_by, stage, created) != stored:
            raise self._corrupt(f"archive entry {entry_id!r} of session {session_id!r} fails its checksum")
        entry = ArchivedMessage(id=entry_id, message=Message.model_validate(json.loads(message)),
                                replaced_by=replaced_by, stage=stage)
        return ArchiveHit(session_id=session_id, turn=turn, entry=entry, score=score)

    def recall(self: PostgresMemoryStore, session_id: str, query: str, *, limit: int = 5) -> list[ArchiveHit]:
        check_session_id(session_id)
        if limit < 1:
            return []
        with self._read("recall") as conn:
            terms = [r[0] for r in conn.execute("SELECT lexeme FROM unnest(to_tsvector('simple', %s))",
                                                (query,)).fetchall()][:16]
            if not terms:
                return []
            tsquery = " || ".join(["plainto_tsquery('simple', %s)"] * len(terms))
            rows = conn.execute(f"SELECT {self._ARCHIVE_COLUMNS}, text FROM archive WHERE session_id = %s AND "
                                f"tsv @@ ({tsquery}) ORDER BY rowid DESC LIMIT %s",
                                (session_id, *terms, RECALL_CANDIDATES)).fetchall()
        scored = bm25_scores([r[8] for r in rows], terms)
        order = sorted(range(len(rows)), key=lambda i: scored[i], reverse=True)[:limit]
        return [self._archive_hit(rows[i], scored[i]) for i in order]

    def list_archive(self: PostgresMemoryStore, session_id: str) -> list[ArchiveHit]:
        check_session_id(session_id)
        with self._read("list_archive") as conn:
            rows = conn.execute(f"SELECT {self._ARCHIVE_COLUMNS} FROM archive WHERE session_id = %s ORDER BY rowid",
                                (session_id,)).fetchall()
        return [self._archive_hit(r, 0.0) for r in rows]
