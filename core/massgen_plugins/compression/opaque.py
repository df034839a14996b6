"""Reading through opaque items: what a provider-native compaction item stands for.

An OpenAI compaction item (``{"type": "compaction", "encrypted_content": ...}``) is unreadable
to anyone but OpenAI. When a later stage must *read* the conversation -- the summarizer on the
same provider, for instance -- it reads the archived originals the item replaced instead
(records whose ``replaced_by`` is the item's id; the user messages the compaction kept verbatim,
flagged ``kept``, are still in the conversation and are not repeated). Without those originals
the item stays as it is (rendered as ``[compacted context (opaque)]``).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..types import ArchivedMessage, Message


def compaction_ids(message: Message) -> list[str]:
    """Ids of the compaction items ``message`` carries (empty for ordinary messages)."""
    if not isinstance(message.content, list):
        return []
    return [str(p.get("id") or "") for p in message.content
            if isinstance(p, dict) and p.get("type") == "compaction"]


def readable(messages: Sequence[Message], archive: Sequence[ArchivedMessage] | None) -> tuple[list[Message], int]:
    """``messages`` with every compaction message replaced by the originals it stands for, in
    their original order; and how many items were opened."""
    if not archive or not any(compaction_ids(m) for m in messages):
        return list(messages), 0
    from .gists import replacements

    ranges = replacements(archive)
    out: list[Message] = []
    opened = 0
    for message in messages:
        ids = compaction_ids(message)
        originals = [r for i in ids for r in ranges.get(i, [])]
        if not originals:
            out.append(message)
            continue
        opened += 1
        originals.sort(key=lambda r: int((r.model_extra or {}).get("position") or 0))
        out.extend(r.message for r in originals if not (r.model_extra or {}).get("kept"))
    return out, opened
