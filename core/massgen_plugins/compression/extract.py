"""Stage 4, *extract*: offline, deterministic condensation of the older turns.

For when no model is reachable. The turns older than the verbatim recent region are replaced by
one user message that keeps, verbatim, the sentences that carry information and drops the
rest. A sentence scores for:

* coming from the **user** (instructions), and for constraint words (*must, never, always,
  don't, only, avoid, require, ...*);
* **decisions** (*decided, chose, we'll use, switch to, agreed, plan, ...*);
* **identifiers**: paths and file names, URLs, ids like ``ABC-123`` or ``call_9f2``, hex
  hashes, versions, numbers of two digits or more, e-mail addresses;
* **errors** (*error, exception, failed, traceback, denied, timeout, ...*).

Only the oldest turns needed to reach the target are condensed (the rest stays verbatim). Tool
calls are kept as one line each (``name(args)``); of a masked tool result, its key lines.
Sentences are taken best-first until the space left in the target is used, then printed in
their original order, de-duplicated.
Linear in the size of the text.
"""

from __future__ import annotations

from ..types import ArchivedMessage, CompressionRequest, CompressionResult, Message
from .context import StageContext
from .conversation import message_id, message_text, tool_names
from .mask import MASK_PREFIX
from .salience import SPLIT, identifiers, score

STAGE = "extract"

_SPLIT = SPLIT


def candidates(messages: list[Message], indices: range | list[int]) -> list[tuple[int, int, str]]:
    """``(-score, order, line)`` for every informative line of ``messages[i]`` for ``i`` in
    ``indices``: one line per tool call, the key lines of masked results, scored sentences."""
    names = tool_names([messages[i] for i in indices])
    out: list[tuple[int, int, str]] = []
    order = 0
    seen: set[str] = set()
    for i in indices:
        m = messages[i]
        label = m.role if m.role != "tool" else f"tool {names.get(m.tool_call_id or '', ('tool', ''))[0]}"
        for call in m.tool_calls or ():
            fn = call.function or {}
            args = str(fn.get("arguments", ""))
            args = args if len(args) <= 200 else args[:197] + "..."
            out.append((-(2 + min(identifiers(args), 2)), order, f"assistant called {fn.get('name', '')}({args})"))
            order += 1
        text = message_text(m)
        if not text:
            continue
        if text.startswith(MASK_PREFIX):
            # a masked tool result: only its key lines (the call line above says what it was)
            _, found, lines = text.partition("\nkey lines: ")
            if not found:
                continue
            text = "\n".join(lines.split(" | "))
        for sentence in _SPLIT.split(text):
            sentence = sentence.strip()
            if len(sentence) < 4:
                continue
            if len(sentence) > 600:
                sentence = sentence[:597] + "..."
            key = sentence.lower()
            if key in seen:
                continue
            value = score(sentence, m.role)
            if value <= 0:
                continue
            seen.add(key)
            out.append((-value, order, f"{label}: {sentence}"))
            order += 1
    return out


def select(found: list[tuple[int, int, str]], room: int, count) -> list[tuple[int, str]]:
    """Best-first lines that fit in ``room`` tokens, returned in their original order."""
    chosen: list[tuple[int, str]] = []
    used = 0
    for _neg, pos, line in sorted(found):
        cost = count(line) + 1
        if used + cost > room:
            if room - used < 8:
                break
            continue
        chosen.append((pos, line))
        used += cost
    return sorted(chosen)


def run(request: CompressionRequest) -> CompressionResult | None:
    ctx = StageContext(request)
    if ctx.fits():
        return None
    header_reserve = 64
    recent = ctx.old_end(header_reserve + max(64, ctx.allowance() // 10))
    old = range(ctx.head, recent)
    if len(old) == 0:
        return None
    room = ctx.allowance() - sum(ctx.tokens[: ctx.head]) - sum(ctx.tokens[recent:]) - header_reserve
    if room <= 16:
        return None
    chosen = select(candidates(ctx.messages, old), room, ctx.counter.text)
    archived_ids = [message_id(ctx.messages[i]) for i in old]
    shown = ", ".join(archived_ids[:3]) + (f" and {len(archived_ids) - 3} more" if len(archived_ids) > 3 else "")
    body = "\n".join(f"- {line}" for _, line in chosen) or "- (nothing of note)"
    extract = Message(role="user", content=(
        f"[Extract of the earlier conversation: {len(archived_ids)} message(s) condensed offline, key lines "
        f"kept verbatim; originals archived as {shown}]\n{body}"))
    eid = message_id(extract)
    archived = [ArchivedMessage(id=mid, message=ctx.messages[i], replaced_by=eid, stage=STAGE, position=i,
                                tokens=ctx.tokens[i]) for i, mid in zip(old, archived_ids, strict=True)]
    messages = [*ctx.messages[: ctx.head], extract, *ctx.messages[recent:]]
    after_tokens = [*ctx.tokens[: ctx.head], ctx.counter.message(extract), *ctx.tokens[recent:]]
    return CompressionResult(
        messages=messages, stage=STAGE, tokens_before=ctx.total(), tokens_after=ctx.total(after_tokens),
        archived=archived, notes=[f"condensed {len(archived)} message(s) into {len(chosen)} key line(s)"],
    )
