"""Stage 3, *summarize*: an LLM summary of the older turns by a configurable summarizer model.

* The summarizer is ``strategy.summarizer_model`` (default: the conversation's own model),
  called through the ``complete`` hook with the enclosing session's settings and retry policy
  (:mod:`.access`). No key, no provider plugin, or a call that still fails after the policy's
  retries → the stage raises and the chain records why and moves on.
* The structured prompt (:data:`SYSTEM_PROMPT`) keeps the task, the user's instructions and
  constraints, decisions, identifiers (files, ids, numbers), work done, current state and next
  steps.
* **Chunked map-reduce**: when the text to summarize exceeds the summarizer's own window (from
  the registry or ``summarizer_window``), it is cut at message boundaries into chunks that fit;
  each chunk is summarized, and the partial summaries are merged (recursively if needed).
* The summarizer call can never trigger compression of itself: it goes straight to the
  ``complete`` hook (no guard), is sized to fit the summarizer's window, and the chain marks
  itself active (:func:`~massgen_plugins.compression.runner.compression_active`) so a guard
  asked to compress during it refuses.

A summary can paraphrase away an identifier; so a quarter of the summary's space is kept for
**verbatim key lines**: the summarized turns' strongest lines (identifiers, user constraints)
that the summary does not contain are appended under their own heading (a masking/extract +
summary hybrid). Before them comes the summarized turns' **outcome** (:mod:`.ledger`: files
changed, records changed, answers submitted, read off the actions) when the summary does not
name every entry. The summary replaces the older turns as one user message placed right after the
system prompt; every replaced message is archived with ``replaced_by`` = the summary's id.
"""

from __future__ import annotations

import asyncio

from ..types import ArchivedMessage, CompletionResponse, CompressionRequest, CompressionResult, ErrorInfo, Message
from .context import StageContext
from .conversation import message_id, render, tool_names
from .opaque import readable

STAGE = "summarize"
DEFAULT_WINDOW = 32_000
PROMPT_TOKENS = 600
MAX_PARALLEL = 4

SYSTEM_PROMPT = """\
You summarize the earlier part of an IN-PROGRESS conversation between a user and an AI agent, so \
the agent can continue the work from your summary alone. The task is not finished.
Write a faithful, dense summary in Markdown with exactly these sections:
## Task - the user's goal, in the user's words where possible.
## Instructions and constraints - every instruction, rule, preference and constraint the user gave \
(must / never / always / only ...), verbatim or nearly so.
## Decisions - what was decided and why, including options that were rejected.
## Identifiers - every file path, id, name, URL, version, number, command and value that may be \
needed again, copied exactly.
## Work done - what the agent did: the tool calls that mattered and their results, files changed, \
errors met and how they were resolved.
## Current state - where things stand now.
## Next steps - what remains to be done, in order.
Rules: copy identifiers and numbers exactly; never invent anything; drop chit-chat, repetition and \
raw tool output that no longer matters; answer with the summary only."""

MAP_PROMPT = ("Here is part {part} of {parts} of the earlier conversation, oldest first:\n\n"
              "<conversation>\n{text}\n</conversation>\n\nSummarize this part.")
REDUCE_PROMPT = ("Here are summaries of consecutive parts of the earlier conversation, oldest first:\n\n"
                 "{text}\n\nMerge them into one summary with the same sections, keeping every instruction, "
                 "constraint, decision and identifier.")


def summarizer_window(model: str, override: int | None) -> tuple[int, int | None, str]:
    """``(window, max_output, source)`` of the summarizer model."""
    from .windows import model_window

    if override:
        return int(override), None, "summarizer_window option"
    info = model_window(model)
    if info.context_window:
        return info.context_window, info.max_output_tokens, info.source
    return DEFAULT_WINDOW, info.max_output_tokens, f"default {DEFAULT_WINDOW:,} ({info.source})"


def chunk_blocks(blocks: list[str], count, budget: int) -> list[str]:
    """Join ``blocks`` into chunks of at most ``budget`` tokens (cutting a block that alone is
    larger at character boundaries)."""
    chunks: list[str] = []
    current: list[str] = []
    used = 0
    for block in blocks:
        size = count(block) + 2
        if size > budget:
            if current:
                chunks.append("\n\n".join(current))
                current, used = [], 0
            step = max(64, int(len(block) * budget / size * 0.95))
            chunks.extend(block[k:k + step] for k in range(0, len(block), step))
            continue
        if used + size > budget and current:
            chunks.append("\n\n".join(current))
            current, used = [], 0
        current.append(block)
        used += size
    if current:
        chunks.append("\n\n".join(current))
    return chunks


class Summarizer:
    """Calls one summarizer model through the ``complete`` hook, with the credentials and the
    retry policy of the enclosing session (:mod:`.access`; outside a session: the environment's
    keys and the default policy)."""

    def __init__(self, model: str, max_tokens: int, timeout: float) -> None:
        from ..manager import get_hooks
        from ..modelref import parse_model
        from .access import current_access

        access = current_access()
        self.model = model
        self.provider = parse_model(model).provider
        self.settings = access.settings(model)  # raises MissingCredentialsError / UnknownProvider
        self.retry = access.retry
        self.hooks = get_hooks()
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.calls = 0

    async def __call__(self, user: str) -> str:
        from ..guard.retry import call_with_retries
        from ..types import CompletionRequest

        request = CompletionRequest(
            model=self.model, max_tokens=self.max_tokens, timeout=self.timeout,
            messages=[Message(role="system", content=SYSTEM_PROMPT), Message(role="user", content=user)])

        async def once() -> CompletionResponse:
            self.calls += 1
            return await self.hooks.complete(request, self.settings)

        async def classify(exc: BaseException) -> ErrorInfo | None:
            return (await self.hooks.aclassify_error(exc, self.provider)).value

        response = await call_with_retries(once, policy=self.retry, classify=classify)
        text = response.message.text().strip()
        if not text:
            raise RuntimeError(f"the summarizer {self.model} returned an empty summary")
        return text


async def summarize_text(blocks: list[str], summarizer: Summarizer, count, chunk_budget: int) -> str:
    """Map-reduce ``blocks`` into one summary that fits ``chunk_budget`` tokens of input."""
    chunks = chunk_blocks(blocks, count, chunk_budget)
    gate = asyncio.Semaphore(MAX_PARALLEL)

    async def one(prompt: str) -> str:
        async with gate:
            return await summarizer(prompt)

    summaries = await asyncio.gather(*(one(MAP_PROMPT.format(part=k + 1, parts=len(chunks), text=c))
                                       for k, c in enumerate(chunks)))
    rounds = 0
    while len(summaries) > 1:
        rounds += 1
        parts = [f"### Part {k + 1}\n{s}" for k, s in enumerate(summaries)]
        groups = chunk_blocks(parts, count, chunk_budget)
        if len(groups) >= len(summaries) or rounds > 8:
            # no progress (each summary alone fills a chunk): keep what fits
            groups = [g[: max(64, len(g) // len(groups))] for g in groups]
        summaries = await asyncio.gather(*(one(REDUCE_PROMPT.format(text=g)) for g in groups))
    return summaries[0]


KEY_LINES_HEADER = "## Verbatim key lines (identifiers and constraints the summary did not carry)"


OUTCOME_HEADER = "## Outcome (read from the actions: files changed, records changed, answers submitted)"


def add_outcome(summary: str, messages: list[Message], room: int, count) -> str:
    """Append the summarized turns' :mod:`.ledger` -- the files they changed, the records they
    changed, what they submitted -- when the summary does not name every entry, in at most
    ``room`` tokens: a summary that says "fixed the bug" has lost which file."""
    from .ledger import fit_line, ledger_of

    book = ledger_of(messages)
    if not book or all(item in summary for item in book.items()) or room < 24:
        return summary
    return summary + "\n\n" + OUTCOME_HEADER + "\n" + fit_line(book.line(), room - 20, count)


def add_key_lines(summary: str, messages: list[Message], indices: list[int], room: int, count) -> tuple[str, int]:
    """Append the summarized turns' strongest lines (score >= 4: identifiers, user constraints)
    whose identifiers -- or, without identifiers, whose text -- the summary does not contain, in
    at most ``room`` tokens. A summary can paraphrase; an id it drops is gone, so the host checks."""
    from .extract import candidates, select
    from .salience import strong_words

    if room < 32:
        return summary, 0
    missing = []
    for neg, pos, line in candidates(messages, indices):
        if -neg < 4:
            continue
        ids = strong_words(line)
        body = line.split(": ", 1)[-1]
        covered = all(i in summary for i in ids) if ids else body in summary
        if not covered:
            missing.append((neg, pos, line))
    picked = select(missing, room, count)
    if not picked:
        return summary, 0
    return summary + "\n\n" + KEY_LINES_HEADER + "\n" + "\n".join(f"- {line}" for _, line in picked), len(picked)


async def run(request: CompressionRequest) -> CompressionResult | None:
    ctx = StageContext(request)
    if ctx.fits():
        return None
    strategy = ctx.strategy
    reserve = strategy.summary_max_tokens + 80
    recent = ctx.old_end(reserve)
    old = list(range(ctx.head, recent))
    if not old:
        return None
    room = ctx.allowance() - sum(ctx.tokens[: ctx.head]) - sum(ctx.tokens[recent:]) - 80
    summary_tokens = min(strategy.summary_max_tokens, room)
    if summary_tokens < 64:
        return None
    model = strategy.summarizer_model or request.model
    key_reserve = summary_tokens // 4 if summary_tokens >= 256 else 0  # for the verbatim key lines
    summarizer = Summarizer(model, summary_tokens - key_reserve, strategy.summarizer_timeout)  # no key: raises
    window, max_output, source = summarizer_window(model, strategy.summarizer_window)
    if max_output and summarizer.max_tokens > max_output:
        summarizer.max_tokens = max_output
    from ..tokens import counter_for

    scounter = counter_for(model)
    chunk_budget = int((window - summarizer.max_tokens - PROMPT_TOKENS) / (1.0 + scounter.margin) * 0.9)
    if chunk_budget < 256:
        raise RuntimeError(f"the summarizer {model}'s window ({window:,} tokens, {source}) is too small to "
                           f"summarize into {summary_tokens:,} tokens")
    olds, opened = readable(ctx.messages[ctx.head:recent], request.options.get("archived"))
    blocks = render(olds, names=tool_names(olds))
    summary = await summarize_text(blocks, summarizer, scounter.text, chunk_budget)
    if ctx.counter.text(summary) > summary_tokens * 1.5:
        from .truncate import cut_middle

        summary = cut_middle(summary, summary_tokens, ctx.counter, ctx.counter.text(summary), "the summarizer output")
    summary = add_outcome(summary, ctx.messages[ctx.head:recent], room - ctx.counter.text(summary) - 24,
                          ctx.counter.text)
    summary, kept = add_key_lines(summary, ctx.messages, old, room - ctx.counter.text(summary) - 24, ctx.counter.text)
    ids = [message_id(ctx.messages[i]) for i in old]
    shown = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
    message = Message(role="user", content=(
        f"[Summary of the earlier conversation: {len(ids)} message(s) summarized by {model}; originals "
        f"archived as {shown}]\n{summary}"))
    sid = message_id(message)
    archived = [ArchivedMessage(id=mid, message=ctx.messages[i], replaced_by=sid, stage=STAGE, position=i,
                                tokens=ctx.tokens[i]) for i, mid in zip(old, ids, strict=True)]
    messages = [*ctx.messages[: ctx.head], message, *ctx.messages[recent:]]
    tokens = [*ctx.tokens[: ctx.head], ctx.counter.message(message), *ctx.tokens[recent:]]
    chunks_note = f"{summarizer.calls} summarizer call(s)"
    if opened:
        chunks_note += f"; {opened} compaction item(s) read through their archived originals"
    if kept:
        chunks_note += f"; {kept} verbatim key line(s) the summary lacked"
    return CompressionResult(
        messages=messages, stage=STAGE, tokens_before=ctx.total(), tokens_after=ctx.total(tokens),
        archived=archived,
        notes=[f"summarized {len(old)} message(s) with {model} ({chunks_note}; window {window:,} from {source})"],
    )

