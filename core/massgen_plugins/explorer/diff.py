"""A compression, side by side: what the conversation held before, what it holds after.

The run log records each compression's counts and the ids of the messages it archived; the
memory store holds those originals (with ``replaced_by``: the id of the summary, stub or gist
that took their place) and, for the turn, the snapshot of the conversation after it. Each row of
the diff is one of:

* **kept** -- in the conversation after, not a replacement (left and right are the same);
* **summarized** -- originals replaced by a summary or gist (``summarize``, ``extract``,
  ``native`` compaction);
* **masked** -- a large tool result replaced by a short stub (``mask``);
* **truncated** -- a message cut to fit (``truncate``, one original to one shortened message);
* **dropped** -- originals with nothing in their place, or replaced only by a truncation note.

Message ids are content hashes (:func:`~massgen_plugins.compression.conversation.message_id`),
so a replacement found in the snapshot is matched to its originals exactly.

A MassGen log keeps each compression's conversation before and after it in
``compression_debug/compression_<ms>_{input,result}.json``: :func:`massgen_compression_diff`
lines those up the same way (messages present on both sides are kept; the rest were replaced by
the result's new messages, or dropped when there are none).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from .models import CompressionDiff, DiffRow, MessageView

if TYPE_CHECKING:
    from ..memory.store import MemoryStore
    from ..types import ArchivedMessage, Message

__all__ = ["compression_diff", "find_session", "massgen_compression_diff", "message_view"]

_SUMMARY_STAGES = {"summarize", "extract", "native", "compact", "gist"}
_MAX_SESSIONS = 500


def message_view(message: Message, *, mid: str | None = None, stage: str | None = None,
                 replaced_by: str | None = None) -> MessageView:
    from ..compression.conversation import message_id

    text = message.text()
    if not text and isinstance(message.content, list):
        kinds = sorted({str(p.get("type", "?")) for p in message.content if isinstance(p, dict)})
        text = f"[{', '.join(kinds)} part(s): provider-specific content]"
    calls = [str(c.function.get("name", "?")) for c in message.tool_calls or []]
    return MessageView(id=mid or message_id(message), role=message.role, text=text, tool_calls=calls,
                       stage=stage, replaced_by=replaced_by)


def _kind(stage: str, originals: int) -> str:
    if stage == "mask":
        return "masked"
    if stage == "truncate":
        return "truncated" if originals == 1 else "dropped"
    return "summarized" if stage in _SUMMARY_STAGES or originals else "dropped"


def find_session(store: MemoryStore, agent: str | None, archived_ids: set[str]) -> tuple[str | None, list[Any]]:
    """The session (of ``agent``) whose archive holds ``archived_ids``; ``(id, archive)``."""
    from ..memory.records import Scope

    sessions = store.list_sessions(Scope(agent=agent) if agent else None, limit=_MAX_SESSIONS)
    if agent and not sessions:
        sessions = store.list_sessions(None, limit=_MAX_SESSIONS)
    best: tuple[int, str | None, list[Any]] = (0, None, [])
    for summary in sessions:
        if not summary.archived:
            continue
        archive = store.list_archive(summary.session_id)
        found = sum(hit.entry.id in archived_ids for hit in archive)
        if found > best[0]:
            best = (found, summary.session_id, archive)
            if found == len(archived_ids):
                break
    return best[1], best[2]


def compression_diff(run_id: str, events: list[dict[str, Any]], seq: int, store: MemoryStore | None,
                     store_key: str | None) -> CompressionDiff:
    """The diff of the compression event number ``seq`` of a run.

    :raises InputError: when ``seq`` is not a compression of this run.
    """
    event = next((e for e in events if e.get("seq") == seq and e.get("type") == "compression"), None)
    if event is None:
        raise InputError(f"run {run_id} has no compression event #{seq}")
    archived_ids = [str(i) for i in event.get("archived_ids") or []]
    base: dict[str, Any] = {"run": run_id, "seq": seq, "stage": str(event.get("stage") or "?"), "store": store_key,
            "tokens_before": int(event.get("tokens_before") or 0), "tokens_after": int(event.get("tokens_after") or 0)}
    if store is None:
        return CompressionDiff(**base, session_id=None, counts={}, rows=[],
                               note="no memory store is known for this run: start the explorer with --store URL")
    session_id, archive = find_session(store, event.get("agent"), set(archived_ids))
    if session_id is None:
        return CompressionDiff(**base, session_id=None, counts={}, rows=[],
                               note="the archived messages are not in this memory store (memory=False, or "
                                    "another store: start the explorer with --store URL)")
    by_id: dict[str, ArchivedMessage] = {}
    for hit in archive:
        by_id.setdefault(hit.entry.id, hit.entry)
    mine = [by_id[i] for i in dict.fromkeys(archived_ids) if i in by_id]
    groups: dict[str | None, list[ArchivedMessage]] = defaultdict(list)
    for entry in mine:
        groups[entry.replaced_by].append(entry)

    snapshot, note = _snapshot(store, session_id, event.get("turn"))
    rows: list[DiffRow] = []
    dropped = groups.pop(None, [])
    if dropped:
        rows.append(DiffRow(kind="dropped", before=[_view(e) for e in dropped]))
    from ..compression.conversation import message_id

    placed: set[str] = set()
    for message in snapshot:
        mid = message_id(message)
        originals = groups.get(mid)
        if originals:
            placed.add(mid)
            rows.append(DiffRow(kind=_kind(originals[0].stage, len(originals)),
                                before=[_view(e) for e in originals], after=message_view(message, mid=mid)))
        else:
            view = message_view(message, mid=mid)
            rows.append(DiffRow(kind="kept", before=[view], after=view))
    for replacement, originals in groups.items():
        if replacement in placed or replacement is None:
            continue
        later = by_id.get(replacement)  # replaced again by a later compression: show it from the archive
        after = message_view(later.message, mid=replacement) if later else MessageView(
            id=replacement, role="assistant", text="(not in the conversation any more)")
        rows.insert(1 if dropped else 0, DiffRow(kind=_kind(originals[0].stage, len(originals)),
                                                 before=[_view(e) for e in originals], after=after))
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row.kind] += len(row.before) if row.kind != "kept" else 1
    missing = len(set(archived_ids) - set(by_id))
    if missing:
        note = (note + "; " if note else "") + f"{missing} archived message(s) are not in the store"
    return CompressionDiff(**base, session_id=session_id, counts=dict(counts), rows=rows, note=note)


def _view(entry: ArchivedMessage) -> MessageView:
    return message_view(entry.message, mid=entry.id, stage=entry.stage, replaced_by=entry.replaced_by)


def _snapshot(store: MemoryStore, session_id: str, turn: Any) -> tuple[list[Message], str | None]:
    if not isinstance(turn, int):
        return [], "the compression names no turn: only the archived originals are shown"
    records = store.list_turns(session_id, start=turn, end=turn)
    if not records:
        return [], f"turn {turn} is not stored (yet): only the archived originals are shown"
    if records[0].snapshot is None:
        return list(records[0].messages), f"turn {turn} has no snapshot: the right side shows the turn's new messages"
    return list(records[0].snapshot), None


def _loose_messages(path: Path) -> list[Message]:
    """The messages of a MassGen debug file (``{"messages": [...]}`` or a list); entries that are
    not chat messages are shown as their JSON."""
    import json

    from ..types import Message

    data = json.loads(path.read_text(encoding="utf-8"))
    items = data.get("messages") if isinstance(data, dict) else data
    out: list[Message] = []
    for item in items if isinstance(items, list) else []:
        try:
            out.append(Message.model_validate(item))
        except ValueError:
            out.append(Message(role="user", content=json.dumps(item, ensure_ascii=False)[:20_000]))
    return out


def massgen_compression_diff(run_id: str, run_dir: Path, events: list[dict[str, Any]], seq: int) -> CompressionDiff:
    """The diff of a MassGen compression, from its ``input`` and ``result`` debug files."""
    from ..compression.conversation import message_id
    from ..redact import redact

    event = next((e for e in events if e.get("seq") == seq and e.get("type") == "compression"), None)
    if event is None:
        raise InputError(f"run {run_id} has no compression event #{seq}")
    data = event.get("data") or {}
    base: dict[str, Any] = {"run": run_id, "seq": seq, "stage": str(event.get("stage") or "?"), "store": None,
                            "session_id": None, "tokens_before": int(event.get("tokens_before") or 0),
                            "tokens_after": int(event.get("tokens_after") or 0)}
    from ..runlog.massgen_format import _COMPRESSION

    files = {match.group(2): match.group(0) for name in data.get("files") or []
             if isinstance(name, str) and (match := _COMPRESSION.match(name))}  # plain names only: no path parts
    attempt = f"attempt_{data.get('attempt')}"
    folders = sorted((p for p in run_dir.glob("**/compression_debug") if p.is_dir()),
                     key=lambda p: p.parent.name != attempt)  # the event's own attempt first
    found = {kind: next((f / name for f in folders if (f / name).is_file()), None) for kind, name in files.items()}
    input_file, result_file = found.get("input"), found.get("result")
    if input_file is None or result_file is None:
        return CompressionDiff(**base, counts={}, rows=[], note="the compression's input/result debug files are missing")
    before, after = _loose_messages(input_file), _loose_messages(result_file)
    after_ids = {message_id(m) for m in after}
    before_ids = {message_id(m) for m in before}
    gone = [m for m in before if message_id(m) not in after_ids]
    new = [m for m in after if message_id(m) not in before_ids]
    rows: list[DiffRow] = []
    placed = False
    for m in after:
        mid = message_id(m)
        if mid in before_ids:
            view = message_view(m, mid=mid)
            rows.append(DiffRow(kind="kept", before=[view], after=view))
        else:  # the first new message stands for everything that went; later ones stand alone
            rows.append(DiffRow(kind=_kind(base["stage"], len(gone)) if gone else "summarized",
                                before=[message_view(g) for g in gone] if not placed else [],
                                after=message_view(m, mid=mid)))
            placed = True
    if gone and not new:
        rows.insert(0, DiffRow(kind="dropped", before=[message_view(g) for g in gone]))
    for row in rows:  # MassGen's files were never redacted: redact what is shown
        for view in [*row.before, *([row.after] if row.after else [])]:
            view.text = redact(view.text)
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row.kind] += len(row.before) if row.kind != "kept" else 1
    return CompressionDiff(**base, counts=dict(counts), rows=rows,
                           note="from MassGen's compression_debug files (no archive ids: matched by content)")
