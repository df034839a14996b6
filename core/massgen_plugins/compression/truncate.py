"""Stage 5, *truncate*: the last resort.

1. **Middle-out**: the largest messages (never the head, never the latest user message) are
   cut down to a common level -- the head and the tail of each are kept, the middle replaced by
   a marker naming the archived original. No message is cut below ``max(truncate_min_tokens,
   1/20 of the target)`` in this step.
2. **Oldest units out**: if that is not enough, whole turn units are dropped oldest first (a
   call and its result leave together), with one short note naming what was archived and what
   those turns changed and submitted (their :mod:`.ledger`).
3. **The latest turn**: if the head and the latest unit alone are still too big, the assistant
   and tool messages of the latest unit are cut down to ``truncate_min_tokens``.

What remains too big after that cannot fit without breaking an invariant; the host then raises
:class:`~massgen_plugins.compression.errors.CannotFitError` stating by how much.
"""

from __future__ import annotations

from ..types import ArchivedMessage, CompressionRequest, CompressionResult, Message
from .context import StageContext
from .conversation import message_id, message_text, replace_text
from .ledger import Ledger, fit_line, ledgers

STAGE = "truncate"
MARKER_TOKENS = 40  # budget for the "[... cut ...]" marker
NOTE_TOKENS = 48  # budget for the note naming the dropped messages (plus their outcome line)


def cut_middle(text: str, keep: int, counter, total_tokens: int, archived_id: str) -> str:
    """``text`` cut to about ``keep`` tokens: head and tail kept, the middle replaced by a marker."""
    body = max(8, keep - MARKER_TOKENS)
    per_token = len(text) / max(1, total_tokens)
    chars = max(16, int(body * per_token))
    for _ in range(6):
        head, tail = text[: chars // 2], text[len(text) - chars // 2:]
        removed = max(0, total_tokens - body)
        out = (f"{head}\n[... {removed:,} tokens cut from the middle; full text archived as "
               f"{archived_id} ...]\n{tail}")
        if counter.text(out) <= keep or chars <= 16:
            return out
        chars = int(chars * 0.8)
    return out


def _level(sizes: list[int], excess: int, floor: int) -> int:
    """The water level L (>= floor) such that cutting every size above L down to L frees at
    least ``excess`` tokens (or ``floor`` when even that is not enough)."""
    ordered = sorted((s for s in sizes if s > floor), reverse=True)
    freed_above = 0
    for k, size in enumerate(ordered):
        nxt = ordered[k + 1] if k + 1 < len(ordered) else floor
        # lowering the top k+1 messages from `size` to `nxt` frees (k+1)*(size-nxt)
        gain = (k + 1) * (size - nxt)
        if freed_above + gain >= excess:
            return max(floor, size - (excess - freed_above + k) // (k + 1))
        freed_above += gain
    return floor


def run(request: CompressionRequest) -> CompressionResult | None:
    ctx = StageContext(request)
    if ctx.fits():
        return None
    msgs = list(ctx.messages)
    toks = list(ctx.tokens)
    archived: list[ArchivedMessage] = []
    notes: list[str] = []
    allowance = ctx.allowance()
    latest_start = ctx.latest_unit_start

    def truncatable(i: int) -> bool:
        m = msgs[i]
        return i >= ctx.head and i != ctx.latest_user and bool(message_text(m))

    def water_fill(indices: list[int], floor: int) -> int:
        excess = sum(toks) - allowance
        if excess <= 0:
            return 0
        sizes = [toks[i] for i in indices]
        level = _level(sizes, excess, floor)
        count = 0
        for i in indices:
            if toks[i] > level and toks[i] > floor:
                original = msgs[i]
                oid = message_id(original)
                text = message_text(original)
                text_tokens = max(1, toks[i])
                new = replace_text(original, cut_middle(text, max(8, level - 8), ctx.counter, text_tokens, oid))
                msgs[i] = new
                new_tokens = ctx.counter.message(new)
                if new_tokens >= toks[i]:
                    msgs[i] = original
                    continue
                toks[i] = new_tokens
                archived.append(ArchivedMessage(id=oid, message=original, replaced_by=message_id(new),
                                                stage=STAGE, position=i, tokens=ctx.tokens[i]))
                count += 1
        return count

    # 1. middle-out on the largest messages
    floor = max(ctx.strategy.truncate_min_tokens, allowance // 20)
    cut = water_fill([i for i in range(len(msgs)) if truncatable(i)], floor)
    if cut:
        notes.append(f"cut the middle out of {cut} large message(s)")

    # 2. drop whole units, oldest first (never the latest)
    if sum(toks) > allowance:
        units = [u for u in ctx.units if u.start < latest_start]
        books = ledgers(ctx.messages, [(u.start, u.end) for u in units])  # as written, before any cut
        dropped: list[int] = []
        book = Ledger()
        outcome = ""
        remaining = sum(toks)
        for unit, unit_book in zip(units, books, strict=True):
            if remaining + NOTE_TOKENS + ctx.counter.text(outcome) <= allowance:
                break
            dropped.extend(range(unit.start, unit.end))
            remaining -= sum(toks[unit.start:unit.end])
            if unit_book:
                book = book.merge(unit_book)
                outcome = fit_line(book.line(), max(16, allowance // 4), ctx.counter.text)
        if dropped:
            ids = [message_id(msgs[i]) for i in dropped]
            shown = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
            note = Message(role="user", content=(
                f"[{len(dropped)} earlier message(s) were removed to fit the context window; "
                f"archived as {shown}" + (f"; outcome: {outcome}" if outcome else "") + "]"))
            note_id = message_id(note)
            for i, mid in zip(dropped, ids, strict=True):
                archived.append(ArchivedMessage(id=mid, message=msgs[i], replaced_by=note_id, stage=STAGE,
                                                position=i, tokens=toks[i]))
            gone = set(dropped)
            keep = [i for i in range(len(msgs)) if i not in gone]
            first_kept = next((k for k, i in enumerate(keep) if i >= ctx.head), len(keep))
            new_msgs = [msgs[i] for i in keep]
            new_toks = [toks[i] for i in keep]
            new_msgs.insert(first_kept, note)
            new_toks.insert(first_kept, ctx.counter.message(note))
            shift = {i: k + (1 if k >= first_kept else 0) for k, i in enumerate(keep)}
            latest_user = shift.get(ctx.latest_user) if ctx.latest_user is not None else None
            msgs, toks = new_msgs, new_toks
            latest_start = shift.get(latest_start, latest_start)
            ctx.latest_user = latest_user
            notes.append(f"removed {len(dropped)} message(s) of the oldest turns")

    # 3. the latest unit's own assistant/tool messages
    if sum(toks) > allowance:
        cut = water_fill([i for i in range(latest_start, len(msgs)) if truncatable(i)],
                         ctx.strategy.truncate_min_tokens)
        if cut:
            notes.append(f"cut {cut} message(s) of the latest turn down to fit")

    if not archived:
        return None
    return CompressionResult(messages=msgs, stage=STAGE, tokens_before=ctx.total(),
                             tokens_after=ctx.counter.with_margin(sum(toks) + ctx.fixed),
                             archived=archived, notes=notes)
