"""Provider-native compaction items are opaque and provider-bound.

An OpenAI ``/responses/compact`` item means nothing to Anthropic or Gemini. When a turn moves
to a model of another provider, the guard replaces every foreign compaction message by the
originals it stands for (from the session's archive) and lets the compression chain -- with
the native stage switched off -- produce a portable summary within the new model's budget.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..types import ArchivedMessage, Message

COMPACTION_PROVIDERS = {"compaction": "openai"}


def compaction_ids(message: Message) -> list[str]:
    """Ids of the opaque compaction items a message carries (empty for ordinary messages)."""
    if not isinstance(message.content, list):
        return []
    return [str(p.get("id") or "") for p in message.content if isinstance(p, dict) and p.get("type") in COMPACTION_PROVIDERS]


def foreign_compactions(messages: Sequence[Message], provider: str) -> list[int]:
    """Indexes of messages holding compaction items another provider produced."""
    found = []
    for index, message in enumerate(messages):
        if not isinstance(message.content, list):
            continue
        for part in message.content:
            owner = COMPACTION_PROVIDERS.get(str(part.get("type"))) if isinstance(part, dict) else None
            if owner is not None and owner != provider:
                found.append(index)
                break
    return found


def expand(messages: Sequence[Message], archive: Sequence[ArchivedMessage], provider: str) -> tuple[list[Message], int]:
    """Put back, in their original order, the messages foreign compaction items stand for.

    A native compaction keeps the user messages of the compacted range verbatim and places them
    before the opaque item; the stage archives the whole range with each message's ``position``
    (the kept user messages flagged ``kept``). The kept user messages right before the item and
    the item itself are replaced by the archived range, in position order.

    :returns: the expanded conversation and how many compaction messages were replaced. A
        compaction message whose originals are not in the archive is dropped: it is unreadable
        for ``provider`` either way.
    """
    foreign = set(foreign_compactions(messages, provider))
    if not foreign:
        return list(messages), 0
    ranges: dict[str, list[ArchivedMessage]] = {}
    for entry in archive:
        if entry.replaced_by:
            ranges.setdefault(entry.replaced_by, []).append(entry)
    out: list[Message] = []
    for index, message in enumerate(messages):
        if index not in foreign:
            out.append(message)
            continue
        for item_id in compaction_ids(message):
            entries = sorted(ranges.get(item_id, []), key=lambda e: getattr(e, "position", 0) or 0)
            kept = [e.message for e in entries if getattr(e, "kept", False)]
            # the kept user messages stand just before the item: take them back out first
            while kept and out and out[-1].role == "user" and out[-1] in kept:
                kept.remove(out.pop())
            out.extend(e.message for e in entries)
    return out, len(foreign)
