"""Stage 4, *extract*: offline, deterministic condensation of the older turns into gists.

For when no model is reachable. The turns older than the verbatim recent region (only as many
as needed to reach the target) are replaced by one user message made of **gists**: each gist
stands for a run of consecutive turns (a task, or several short ones), keeps its most
informative lines verbatim (:mod:`.selection`: each task's ledger of files changed and answers
submitted, segment outcomes, the task statement, rare identifiers of this session, what the
latest user message asks about) and names its id, so the
originals come back with one ``expand(gist_id)`` (:mod:`.gists`).

Linear in the size of the text (statistics and candidates in one pass each; selection
``O(n log n)`` in the number of lines).

:func:`candidates` and :func:`select` are the older keyword scoring, still used by the
summarizer to carry verbatim key lines a summary dropped.
"""

from __future__ import annotations

from collections.abc import Callable

from ..types import ArchivedMessage, CompressionRequest, CompressionResult, Message
from .context import StageContext
from .conversation import message_id, message_text, tool_names
from .gists import HEADER, gist_id
from .mask import MASK_PREFIX
from .relevance import QUERY_BOOST, SYSTEM_BOOST, SessionStats
from .salience import SPLIT, identifiers, score
from .selection import Line, Segment, choose, segment_lines

STAGE = "extract"
MIN_GISTS_TOKENS = 1_500  # a gist covers at least this many original tokens (or a 16th of the range)


def candidates(messages: list[Message], indices: range | list[int]) -> list[tuple[int, int, str]]:
    """``(-score, order, line)`` for every informative line of ``messages[i]`` for ``i`` in
    ``indices`` by keyword scoring: one line per tool call, the key lines of masked results,
    scored sentences."""
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
            _, found, lines = text.partition("\nkey lines: ")
            if not found:
                continue
            text = "\n".join(lines.split(" | "))
        for sentence in SPLIT.split(text):
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


def select(found: list[tuple[int, int, str]], room: int, count: Callable[[str], int]) -> list[tuple[int, str]]:
    """Best-first lines of :func:`candidates` that fit in ``room`` tokens, in original order."""
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


def gist_ranges(units: list[Segment], tokens: list[int], total: int) -> list[list[Segment]]:
    """Consecutive tasks grouped into gists of at least ``max(MIN_GISTS_TOKENS, total / 16)``
    original tokens (the last group takes what is left)."""
    least = max(MIN_GISTS_TOKENS, total // 16)
    groups: list[list[Segment]] = []
    current: list[Segment] = []
    size = 0
    for unit in units:
        current.append(unit)
        size += sum(tokens[unit.start:unit.end])
        if size >= least:
            groups.append(current)
            current, size = [], 0
    if current:
        if groups and size < least // 2:
            groups[-1].extend(current)
        else:
            groups.append(current)
    return groups


def run(request: CompressionRequest) -> CompressionResult | None:
    ctx = StageContext(request)
    if ctx.fits():
        return None
    header_reserve = 64
    recent = ctx.old_end(header_reserve + max(64, ctx.allowance() // 10))
    units = [u for u in ctx.units if u.start >= ctx.head and u.end <= recent]
    if not units:
        return None
    old = range(units[0].start, units[-1].end)
    query = {i: SYSTEM_BOOST for i in range(ctx.head)}
    if ctx.latest_user is not None:
        query[ctx.latest_user] = QUERY_BOOST
    stats = SessionStats.of(ctx.messages, ctx.tokens, query=query)
    segments = segment_lines(ctx.messages, units, stats)
    groups = gist_ranges(segments, ctx.tokens, sum(ctx.tokens[old.start:old.stop]))
    room = (ctx.allowance() - sum(ctx.tokens[: ctx.head]) - sum(ctx.tokens[recent:]) - header_reserve
            - 24 * len(groups))
    if room <= 16:
        return None
    chosen = choose(segments, stats, room, ctx.counter.text)
    by_segment: dict[int, list[Line]] = {}
    for line in chosen:
        by_segment.setdefault(line.segment, []).append(line)

    archived_ids = [message_id(ctx.messages[i]) for i in old]
    blocks: list[str] = []
    gist_of: dict[int, str] = {}
    k = 0
    for group in groups:
        indices = range(group[0].start, group[-1].end)
        ids = [archived_ids[i - old.start] for i in indices]
        gid = gist_id(ids)
        for i in indices:
            gist_of[i] = gid
        body = [f"- {line.text}" for n in range(k, k + len(group)) for line in by_segment.get(n, [])]
        k += len(group)
        tokens = sum(ctx.tokens[indices.start:indices.stop])
        blocks.append("\n".join([HEADER.format(gid=gid, count=len(ids), tokens=tokens), *body]))
    extract = Message(role="user", content=(
        f"[Extract of the earlier conversation: {len(archived_ids)} message(s) condensed offline into "
        f"{len(groups)} gist(s), key lines kept verbatim; expand(gist_id) brings a gist's originals back, "
        f"recall(query) searches them]\n" + "\n".join(blocks)))
    eid = message_id(extract)
    archived = [ArchivedMessage(id=mid, message=ctx.messages[i], replaced_by=eid, stage=STAGE, position=i,
                                tokens=ctx.tokens[i], gist=gist_of[i])
                for i, mid in zip(old, archived_ids, strict=True)]
    messages = [*ctx.messages[: old.start], extract, *ctx.messages[old.stop:]]
    after_tokens = [*ctx.tokens[: old.start], ctx.counter.message(extract), *ctx.tokens[old.stop:]]
    return CompressionResult(
        messages=messages, stage=STAGE, tokens_before=ctx.total(), tokens_after=ctx.total(after_tokens),
        archived=archived,
        notes=[f"condensed {len(archived)} message(s) into {len(chosen)} key line(s) in {len(groups)} gist(s)"],
    )
