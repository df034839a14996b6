"""Choosing the lines an offline extract keeps: segment-aware, query-aware, information-dense.

The condensed range is cut into **tasks** (:func:`segments_of`: turn units, joined when an agent
acting in text gets its command outputs back as user turns). Every line of it is a candidate:
each sentence of a user or assistant text, each line of a tool result (of a masked one, its
kept lines), and one line per tool call (``name(arg=value, ...)``, each value cut at
:data:`MAX_ARG_CHARS`: what identifies a change -- a record id, a path, a flag -- is a short
scalar, while a nested list or a file's body would make the call too dear to keep). A candidate is worth

* the **information** of its terms (:mod:`.relevance`: BM25 over passages of this session, query
  terms boosted) that no line chosen before already carries -- a greedy *coverage*, so a second
  line saying the same identifiers adds little; the words of a line with no identifier and no
  number (plain prose: boilerplate instructions, narration, courtesy) count :data:`PLAIN` as much,
  as they cost room and rarely carry what is looked up again;
* plus a **role/outcome** bonus: the two most telling lines of the task statement, the task's
  outcome (its last assistant conclusion, its last two tool calls -- a submission, a final
  command --, the most telling line of each of its last two outputs), any tool call, and any
  assistant sentence (short conclusions are cheap and almost always worth keeping);

and it costs its tokens. Each task's **ledger** (:mod:`.ledger`: the files it changed, the
records it changed, what it submitted -- read off its actions, one short line) is chosen before
anything else, in at most :data:`LEDGER_SHARE` of the room. Then a task's **state-changing tool
calls** (a tool named for a write: ``update_*``, ``cancel_*``, ``edit_*``, ``submit`` ... -- what
the agent changed, wherever in the task it happened; not one whose result reports an error in
its first line: a refused write changed nothing, and retries would crowd out the write that went
through), oldest first, in at most a quarter of the room on top of the ledgers; then the outcome
lines (in at most half the room), then the rest by value per token (lazy greedy on a heap,
linear up to a log factor) until the room is used; the
lines are printed in their original order.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..types import Message
from .conversation import Unit, message_text, tool_names
from .ledger import ledgers
from .mask import MASK_PREFIX
from .relevance import SessionStats, scan, terms, word_terms
from .salience import SPLIT
from .toolcalls import is_write, refused

TASK_BONUS = 6.0  # first lines of a segment's task statement
CONCLUSION_BONUS = 6.0  # the last assistant text of a segment
CALL_BONUS = 8.0  # the last tool call of a segment (a submission, the final command), and the one before
RESULT_BONUS = 6.0  # the most telling line of each of the last two outputs of a segment
ASSISTANT_BONUS = 1.0  # any assistant sentence
ACTION_BONUS = 1.5  # any tool call (what the agent did: the files it edited, the commands it ran)
OUTCOME_SHARE = 0.5  # outcome lines are chosen first, in at most this share of the room
WRITE_FIRST = 0.25  # a task's state-changing calls are chosen first, in at most this share of the room
LEDGER_SHARE = 0.75  # the tasks' ledger lines (:mod:`.ledger`) come before all else, in at most this share
USER_BONUS = 0.5  # a user's own instruction within a task (not an output that came back as a user turn)
MAX_LINE_CHARS = 400
MAX_ARG_CHARS = 80  # a call's long argument (a list of flights, a file's content) is cut here: its ids are short
SAME_TASK = 0.06
OPENING_WORDS = 5  # a user message opening with the same words as the first task starts a new task
PIECE = 0.5  # a piece of a compound word (``app`` of ``todo-app/app.js``) counts half
PRICE_EXPONENT = 1.0
PLAIN = 0.5  # what the words of a line with no identifier and no number count for
COVERED = 0.15  # what a term already carried by a chosen line still counts for


@dataclass
class Line:
    order: int
    segment: int
    text: str
    terms: frozenset[str]
    bonus: float
    group: int = 0
    cost: int = 0
    pieces: frozenset[str] = frozenset()
    write: bool = False
    ledger: bool = False  # the task's ledger: the files it changed, what it submitted
    marked: bool = True  # carries an identifier or a number (a path, an id, a flag, a count)

    @property
    def price(self) -> float:
        """What a line's value is divided by: its tokens, sub-linearly (a long line that carries
        a long identifier is not penalised in full for its length)."""
        return float(self.cost) ** PRICE_EXPONENT


def make_line(order: int, segment: int, text: str, body: str, bonus: float, group: int) -> Line:
    words, pieces = word_terms(body)
    marked = any(not w.isalpha() for w in words)
    return Line(order, segment, text, frozenset(words), bonus, group, 0, frozenset(pieces), marked=marked)


@dataclass
class Segment:
    """Messages ``[start, end)``: one task and the work on it (one or more turn units)."""

    start: int
    end: int
    lines: list[Line] = field(default_factory=list)


def segments_of(messages: Sequence[Message], units: Sequence[Unit], stats: SessionStats) -> list[Segment]:
    """Turn units grouped into tasks. A unit continues the previous task when the previous unit
    acted in text (no tool calls: an agent whose commands are in its replies and whose command
    outputs come back as user turns) and its user message is an output of the same environment:
    at least :data:`SAME_TASK` of its idf weight is in terms of the previous user message. A
    unit after tool calls, with a user message unlike the last one, or with one that opens with
    the words of the first task (:func:`opening_of`: a harness posing its next task, however much
    vocabulary it shares with the last output), starts a new task."""
    out: list[Segment] = []
    previous_user: set[str] | None = None
    acted_in_text = False
    openings: set[str] = set()
    for unit in units:
        user = stats.docs[unit.start] if messages[unit.start].role == "user" else set()
        opening = opening_of(messages[unit.start]) if messages[unit.start].role == "user" else ""
        same = False
        # a message worded like the first task (the same harness posing the next one) starts a task
        if out and previous_user is not None and acted_in_text and not (opening and opening in openings):
            total = sum(stats.message_idf(t) for t in user)
            shared = sum(stats.message_idf(t) for t in user & previous_user)
            same = total == 0 or shared / total >= SAME_TASK
        if same:
            out[-1].end = unit.end
        else:
            out.append(Segment(unit.start, unit.end))
            if opening and (len(out) == 1 or opening in openings):
                openings.add(opening)
        previous_user = user
        acted_in_text = not any(messages[i].tool_calls for i in range(unit.start, unit.end))
    return out


def opening_of(message: Message) -> str:
    """The first :data:`OPENING_WORDS` words of a message (lower-cased), or "" when it is shorter:
    what a harness's task statements share (``We're currently solving the following ...``)."""
    words = message_text(message)[:400].lower().split()[:OPENING_WORDS]
    return " ".join(words) if len(words) == OPENING_WORDS else ""


def call_line(name: str, arguments: str) -> str:
    """A tool call as one readable line: ``name(key=value, ...)`` with long values cut."""
    try:
        args = json.loads(arguments) if arguments else {}
    except ValueError:
        args = arguments
    if isinstance(args, dict):
        parts = []
        for key, value in args.items():
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            text = " ".join(text.split())
            parts.append(f"{key}={text if len(text) <= MAX_ARG_CHARS else text[:MAX_ARG_CHARS - 3] + '...'}")
        shown = ", ".join(parts)
    else:
        shown = " ".join(str(args).split())
    line = f"called {name}({shown})"
    return line if len(line) <= MAX_LINE_CHARS else line[: MAX_LINE_CHARS - 4] + "...)"


def _sentences(text: str) -> list[str]:
    out = []
    for raw in SPLIT.split(scan(text)):
        s = raw.strip()
        if len(s) >= 4:
            out.append(s if len(s) <= MAX_LINE_CHARS else s[: MAX_LINE_CHARS - 3] + "...")
    return out


def segment_lines(messages: Sequence[Message], units: Sequence[Unit], stats: SessionStats) -> list[Segment]:
    """The tasks of ``units`` (:func:`segments_of`) with every candidate line, labelled and with
    its role/outcome bonus (costs unset)."""
    names = tool_names([messages[i] for u in units for i in range(u.start, u.end)])
    segments = segments_of(messages, units, stats)
    books = ledgers(messages, [(seg.start, seg.end) for seg in segments])
    order = 0
    seen: set[str] = set()
    writes: dict[str, Line] = {}
    for k, seg in enumerate(segments):
        unit = seg  # the task's messages [start, end)
        last_text = max((i for i in range(unit.start, unit.end)
                         if messages[i].role == "assistant" and message_text(messages[i]).strip()), default=-1)
        calls = [(i, j) for i in range(unit.start, unit.end) for j in range(len(messages[i].tool_calls or ()))]
        final_calls = {c: CALL_BONUS for c in calls[-2:]}
        results = [i for i in range(unit.start, unit.end)
                   if messages[i].role == "tool" or (messages[i].role == "user" and i > unit.start)]
        last_results = set(results[-2:])
        for i in range(unit.start, unit.end):
            m = messages[i]
            group = stats.group(i)
            if m.tool_calls:
                for j, call in enumerate(m.tool_calls):
                    fn = call.function or {}
                    line = call_line(str(fn.get("name", "")), str(fn.get("arguments", "")))
                    bonus = final_calls.get((i, j), ACTION_BONUS)
                    made = make_line(order, k, f"assistant {line}", line, bonus, group)
                    made.write = is_write(str(fn.get("name", "")))
                    if made.write and call.id:
                        writes[call.id] = made
                    seg.lines.append(made)
                    order += 1
            text = message_text(m)
            if not text:
                continue
            if m.role == "tool":
                if m.tool_call_id in writes and refused(text):  # a write that was refused changed nothing
                    writes[m.tool_call_id].write = False
                label = f"tool {names.get(m.tool_call_id or '', ('tool', ''))[0]}"
                if text.startswith(MASK_PREFIX):
                    stub, _, kept = text.partition("\nkey lines: ")
                    began = stub.partition("; began: ")[2].rstrip("]").removesuffix("...")
                    text = "\n".join([began, *kept.split(" | ")]) if kept else began
            else:
                label = m.role
            sentences = _sentences(text)
            top: set[int] = set()
            is_task = m.role == "user" and i == unit.start
            is_result = (m.role == "tool" or (m.role == "user" and not is_task)) and i in last_results
            if is_task or is_result:  # a task statement's two most telling lines; a final output's one
                ranked = sorted(range(len(sentences)), key=lambda n: -stats.line_weight(terms(sentences[n]), group))
                top = set(ranked[: 2 if is_task else 1])
            for n, sentence in enumerate(sentences):
                key = f"{m.role}:{sentence.lower()}"
                if key in seen:
                    continue
                seen.add(key)
                bonus = 0.0
                if is_task:
                    bonus = TASK_BONUS if n in top else 0.0
                elif is_result:
                    bonus = RESULT_BONUS if n in top else 0.0
                elif m.role == "user" and messages[i - 1].role != "assistant":
                    bonus = USER_BONUS  # a user's own instruction in the middle of a task
                elif m.role == "assistant":
                    bonus = CONCLUSION_BONUS if i == last_text and n >= len(sentences) - 2 else ASSISTANT_BONUS
                seg.lines.append(make_line(order, k, f"{label}: {sentence}", sentence, bonus, group))
                order += 1
        if books[k]:
            summary = books[k].line()
            made = make_line(order, k, f"outcome: {summary}", summary, CONCLUSION_BONUS, stats.group(seg.end - 1))
            made.ledger = True
            seg.lines.append(made)
            order += 1
    return segments


def choose(segments: Sequence[Segment], stats: SessionStats, room: int,
           count: Callable[[str], int]) -> list[Line]:
    """The lines worth keeping in ``room`` tokens (lazy greedy by value per token, coverage-aware),
    in their original order."""
    lines = [line for seg in segments for line in seg.lines]
    weight, query = stats.weight, stats.query_weight
    covered: set[tuple[int, str]] = set()

    def value(line: Line) -> float:
        info = 0.0
        for t in line.terms:
            w = weight(t, line.group) + query(t)
            info += w * COVERED if (line.segment, t) in covered else w
        for t in line.pieces:
            w = PIECE * weight(t, line.group) + query(t)
            info += w * COVERED if (line.segment, t) in covered else w
        return (info if line.marked else info * PLAIN) + line.bonus

    chosen: list[Line] = []
    used = 0
    taken: set[int] = set()
    for line in lines:
        line.cost = count(line.text) + 2
    # 0. every task's ledger (the files it changed, what it submitted), then every state-changing
    # call (what the agent did), oldest first, each in a bounded share
    for idx, line in enumerate(lines):
        if line.ledger and used + line.cost <= room * LEDGER_SHARE:
            chosen.append(line)
            taken.add(idx)
            used += line.cost
            covered.update((line.segment, t) for t in line.terms | line.pieces)
    booked = used  # the shares below are of the room, on top of what the ledgers took
    for idx, line in enumerate(lines):
        if line.write and idx not in taken and used + line.cost <= booked + room * WRITE_FIRST:
            chosen.append(line)
            taken.add(idx)
            used += line.cost
            covered.update((line.segment, t) for t in line.terms | line.pieces)
    # 1. each segment's outcome (its final calls, its last conclusion, its task), best first
    outcome = sorted((idx for idx, line in enumerate(lines) if line.bonus >= CONCLUSION_BONUS and idx not in taken),
                     key=lambda idx: (-value(lines[idx]) / lines[idx].price, lines[idx].order))
    for idx in outcome:
        line = lines[idx]
        if used + line.cost <= booked + room * (OUTCOME_SHARE + WRITE_FIRST):
            chosen.append(line)
            taken.add(idx)
            used += line.cost
            covered.update((line.segment, t) for t in line.terms | line.pieces)
    # 2. the rest by value per token, lazily re-valued as coverage grows
    heap: list[tuple[float, int, int]] = []
    for idx, line in enumerate(lines):
        v = value(line)
        if v > 0 and idx not in taken:
            heap.append((-v / line.price, line.order, idx))
    heapq.heapify(heap)
    while heap and room - used >= 6:
        neg, order, idx = heapq.heappop(heap)
        line = lines[idx]
        if used + line.cost > room:
            continue
        fresh = -value(line) / line.price
        if heap and fresh > heap[0][0] + 1e-9:  # worth less now that others were chosen: re-queue
            heapq.heappush(heap, (fresh, order, idx))
            continue
        chosen.append(line)
        used += line.cost
        covered.update((line.segment, t) for t in line.terms | line.pieces)
    return sorted(chosen, key=lambda ln: ln.order)
