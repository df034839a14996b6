"""Gists: every range the offline extract condenses becomes a gist with a stable id.

A gist is the extract of a run of consecutive turns (one task, or several short ones) -- its key
lines kept verbatim -- under a header naming its id, ``g-`` + 12 hex digits of a hash of the
archived messages' ids. Each archived original records the gist it belongs to
(``ArchivedMessage.gist``), so :func:`expand` brings the whole range back from an archive.

Gists nest: when a later compression condenses an extract, the new gist's originals include
that extract, whose text names the older gists; :func:`children` lists them, and expanding the
new gist shows their headers, which can be expanded in turn -- a hierarchy that grows with the
session, each level one ``expand`` away from the level below.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Any

from ..types import ArchivedMessage, Message
from .conversation import message_text

GIST_RE = re.compile(r"\bg-[0-9a-f]{12}\b")
HEADER = "[gist {gid}: {count} message(s), {tokens:,} tokens archived]"


def gist_id(message_ids: Iterable[str]) -> str:
    """The stable id of the gist of the messages with these ids (in order)."""
    digest = hashlib.blake2b("\n".join(message_ids).encode(), digest_size=6).hexdigest()
    return f"g-{digest}"


def gist_of(record: ArchivedMessage) -> str | None:
    extra = record.model_extra or {}
    value = extra.get("gist")
    return str(value) if value else None


def members(archive: Sequence[ArchivedMessage], gid: str) -> list[ArchivedMessage]:
    """The archived originals of gist ``gid``, in conversation order (the newest record of each
    message, so a message archived twice appears once)."""
    found: dict[str, ArchivedMessage] = {}
    for record in archive:
        if gist_of(record) == gid:
            found[record.id] = record
    return sorted(found.values(), key=lambda r: int((r.model_extra or {}).get("position") or 0))


def children(archive: Sequence[ArchivedMessage], gid: str) -> list[str]:
    """Ids of the older gists that gist ``gid`` condensed (named in its archived extracts)."""
    out: list[str] = []
    for record in members(archive, gid):
        for child in GIST_RE.findall(message_text(record.message)):
            if child != gid and child not in out:
                out.append(child)
    return out


def replacements(archive: Sequence[ArchivedMessage]) -> dict[str, list[ArchivedMessage]]:
    """``replaced_by id -> the records it replaced``."""
    out: dict[str, list[ArchivedMessage]] = {}
    for record in archive:
        if record.replaced_by:
            out.setdefault(record.replaced_by, []).append(record)
    return out


def original(archive: Sequence[ArchivedMessage], message: Message, *,
             replaced: dict[str, list[ArchivedMessage]] | None = None) -> Message:
    """``message`` as it was before one-for-one replacements (a masked tool result's stub, a
    message cut in the middle): followed back through the archive. A message that replaced many
    (an extract or a summary: a gist of gists) is left as it is."""
    from .conversation import message_id

    replaced = replacements(archive) if replaced is None else replaced
    seen: set[str] = set()
    while True:
        mid = message_id(message)
        earlier = replaced.get(mid, [])
        if len(earlier) != 1 or mid in seen:
            return message
        seen.add(mid)
        message = earlier[0].message


def expand(archive: Sequence[ArchivedMessage], gid: str) -> list[Message]:
    """The original messages gist ``gid`` stands for (empty when the archive has no such gist):
    masked or cut messages as they were before, older extracts as their gist headers."""
    replaced = replacements(archive)
    return [original(archive, r.message, replaced=replaced) for r in members(archive, gid)]


def render_expansion(archive: Sequence[ArchivedMessage], gid: str, *, max_chars: int | None = None) -> str:
    """The originals of gist ``gid`` as text for a model (``expand`` tool result): each message
    labelled with its role (tool calls and results included), cut to ``max_chars`` when given."""
    from .conversation import render

    msgs = expand(archive, gid)
    if not msgs:
        return f"No gist {gid!r} in this session's archive."
    text = f"[expanded {gid}: {len(msgs)} archived message(s)]\n" + "\n\n".join(render(msgs))
    if max_chars is not None and len(text) > max_chars:
        text = text[: max_chars - 80] + f"\n[... cut at {max_chars:,} characters; recall(query) finds the rest]"
    return text


def tree(archive: Sequence[ArchivedMessage]) -> dict[str, Any]:
    """``{gist id: {"messages": n, "children": [...]}}`` of every gist in ``archive``."""
    ids: list[str] = []
    for record in archive:
        gid = gist_of(record)
        if gid and gid not in ids:
            ids.append(gid)
    return {gid: {"messages": len(members(archive, gid)), "children": children(archive, gid)} for gid in ids}
