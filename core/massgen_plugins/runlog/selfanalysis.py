"""LLM self-analysis of a run: the deterministic summary plus the log excerpts that matter,
fitted to the chosen model's window, sent through the provider plugins; a Markdown report back.

What is sent (in this order of priority when the window is small): the instructions, the
deterministic summary and findings (always whole), then event excerpts ranked by relevance --
fatal errors, failures and fallbacks first, then overflows, retries and compressions, then the
rest -- re-ordered by time with ``[... N events omitted ...]`` markers where a gap was cut.
When the excerpts do not fit, the compression chain (:mod:`massgen_plugins.compression`) is used
if it is installed; otherwise a careful truncation by relevance keeps the most telling events.
Everything sent has already been redacted by the reader and is redacted again here.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..types import AnalysisRequest, AnalysisResult

__all__ = ["SYSTEM_PROMPT", "build_excerpts", "fit_excerpts", "self_analyze"]

SYSTEM_PROMPT = (
    "You are a reliability engineer reviewing the event log of a multi-agent LLM run. "
    "You get computed statistics, automatic findings and excerpts of the log (one JSON event per line; "
    "t is seconds since the run started). Explain what happened and why, in Markdown with the sections "
    "'What happened', 'Problems and root causes' and 'Recommendations' (concrete: model choice, window, "
    "retry/fallback settings, compression strategy). Cite event numbers (#seq) as evidence. "
    "Do not invent events that are not in the log."
)
DEFAULT_WINDOW = 8_192
OUTPUT_RESERVE = 2_048
_PRIORITY = {"error": 0, "fallback": 1, "run_end": 1, "overflow": 2, "retry": 3, "compression": 3,
             "run_start": 4, "tool_call": 5, "memory_read": 6, "memory_write": 6, "note": 5,
             "call_end": 6, "call_start": 8}
_DROP = {"run_id", "schema_version", "ts", "elapsed_ms", "seq", "type"}


def _priority(event: dict[str, Any]) -> int:
    kind = str(event.get("type"))
    if kind == "error" and event.get("fatal"):
        return -1
    if kind == "call_end" and event.get("outcome", "ok") != "ok":
        return 1
    if kind == "run_end" and event.get("status") == "ok":
        return 4
    if kind == "tool_call" and event.get("outcome") == "error":
        return 3
    return _PRIORITY.get(kind, 7)


def excerpt_line(event: dict[str, Any]) -> str:
    """One event as a compact line: ``#seq t=12.3s type {fields}``."""
    fields = {k: v for k, v in event.items() if k not in _DROP and v not in (None, [], {}, "")}
    t = float(event.get("elapsed_ms") or 0.0) / 1000.0
    body = json.dumps(fields, ensure_ascii=False, separators=(",", ":"), default=str)
    if len(body) > 600:
        body = body[:600] + "…"
    return f"#{event.get('seq')} t={t:.1f}s {event.get('type')} {body}"


def build_excerpts(events: list[dict[str, Any]]) -> list[tuple[int, int, str]]:
    """``(priority, seq, line)`` for every event (lower priority value = more relevant)."""
    return [(_priority(e), int(e.get("seq") or i), excerpt_line(e)) for i, e in enumerate(events)]


def fit_excerpts(excerpts: list[tuple[int, int, str]], budget: int, count: Any) -> tuple[list[str], int]:
    """Choose the most relevant excerpts whose lines fit ``budget`` tokens (``count(text)``),
    return them in time order with omission markers, and how many events were left out."""
    if budget <= 0:
        return [], len(excerpts)
    chosen: set[int] = set()
    used = 0
    for index in sorted(range(len(excerpts)), key=lambda i: (excerpts[i][0], excerpts[i][1])):
        cost = count(excerpts[index][2]) + 1
        if used + cost + 12 > budget:  # 12: room for an omission marker
            continue
        chosen.add(index)
        used += cost
    lines: list[str] = []
    gap = 0
    for index, (_, _, line) in enumerate(excerpts):
        if index in chosen:
            if gap:
                lines.append(f"[... {gap} events omitted ...]")
                gap = 0
            lines.append(line)
        else:
            gap += 1
    if gap:
        lines.append(f"[... {gap} events omitted ...]")
    return lines, len(excerpts) - len(chosen)


def _counter(model: str) -> Any:
    try:
        from ..tokens import count_conversation

        def count(text: str) -> int:
            tc = count_conversation(model, [{"role": "user", "content": text}])
            return int(tc.tokens * (1.0 + float(tc.margin or 0.0))) + 1

        count("probe")
        return count
    except Exception:
        return lambda text: len(text) // 3 + 1


def _compact_summary(summary: dict[str, Any]) -> dict[str, Any]:
    out = dict(summary)
    tools = dict(out.get("tools") or {})
    if isinstance(tools.get("by_tool"), dict) and len(tools["by_tool"]) > 10:
        tools["by_tool"] = dict(list(tools["by_tool"].items())[:10])
    out["tools"] = tools
    mg = out.get("massgen")
    if isinstance(mg, dict):
        out["massgen"] = {k: v for k, v in mg.items() if k != "api_timing"}
    return out


def _chunked_conversation(lines: list[str], head: str, count: Any, chunk_tokens: int) -> list[Any]:
    """System prompt, the excerpts as several user turns (each acknowledged), the request last."""
    from ..types import Message

    messages = [Message(role="system", content=SYSTEM_PROMPT)]
    chunk: list[str] = []
    size = 0
    part = 0

    def flush() -> None:
        nonlocal chunk, size, part
        if chunk:
            part += 1
            messages.append(Message(role="user", content=f"Log excerpt, part {part}:\n" + "\n".join(chunk)))
            messages.append(Message(role="assistant", content=f"Noted part {part}."))
        chunk, size = [], 0

    for line in lines:
        cost = count(line) + 1
        if chunk and size + cost > chunk_tokens:
            flush()
        chunk.append(line)
        size += cost
    flush()
    messages.append(Message(role="user", content=head))
    return messages


async def _fit_with_compression(model: str, messages: list[Any], budget: int) -> tuple[list[Any], str] | None:
    """Shrink the conversation to ``budget`` tokens with the compression chain.

    Native compaction is left out (its opaque item would hide the log from the analysis). Returns
    ``None`` when the chain is not installed or cannot fit it (the caller then truncates).
    """
    try:
        from ..compression import compress_conversation
    except Exception:
        return None
    try:
        report = await compress_conversation(
            messages, model=model, budget=budget, strategy="balanced",
            options={"stages": ["mask", "summarize", "extract", "truncate"]})
    except Exception:
        return None
    if not report.fits or not report.messages:
        return None
    return list(report.messages), "compression:" + ("+".join(report.ran) or "none")


def _window_facts(model: str) -> dict[str, Any]:
    """Window and output cap: the registry (a live lookup is fine, a call follows anyway),
    then the offline facts, then nothing (the caller assumes a small window)."""
    try:
        from ..registry import get_model_info

        info = get_model_info(model)
        return {"context_window": info.context_window, "max_output_tokens": info.max_output_tokens}
    except Exception:
        from .pricing import model_facts

        return dict(model_facts(model) or {})


async def _prepare(model: str, window: int, facts: dict[str, Any], summary: dict[str, Any],
                   findings: list[dict[str, Any]], excerpts: list[tuple[int, int, str]],
                   count: Any) -> tuple[list[Any], str, int, int]:
    """The messages to send for a ``window``-token model: ``(messages, how they were fitted,
    events omitted, output tokens reserved)``."""
    from ..types import Message
    from .analysis import render_markdown
    from .redaction import redact_data

    max_output = int(facts.get("max_output_tokens") or OUTPUT_RESERVE)
    reserve = max(256, min(OUTPUT_RESERVE, max_output, window // 4))
    head = (
        "Deterministic statistics of the run (JSON):\n"
        + json.dumps(_compact_summary(summary), ensure_ascii=False, separators=(",", ":"), default=str)
        + "\n\nAutomatic findings:\n"
        + "\n".join(f"- [{f['severity']}] {f['title']}" + (f": {f['detail']}" if f.get("detail") else "") for f in findings)
        + "\n\nWrite the report now."
    )
    total_budget = int((window - reserve) * 0.9)
    if count(SYSTEM_PROMPT) + count(head) + 64 > total_budget:
        # even the statistics do not fit: send the (shorter) Markdown rendering, cut to size
        head = render_markdown(summary, findings)[: max(0, total_budget - count(SYSTEM_PROMPT) - 64) * 3]
    budget = total_budget - count(SYSTEM_PROMPT) - count(head) - 64
    full = [line for _, _, line in excerpts]
    omitted = 0
    messages: list[Any]
    if sum(count(line) + 1 for line in full) <= budget:
        fitted_by = "none (everything fits)"
        messages = [Message(role="system", content=SYSTEM_PROMPT),
                    Message(role="user", content="Log excerpts (in time order):\n" + "\n".join(full) + "\n\n" + head)]
    else:
        # keep at most ~3 windows' worth of the most relevant events for the chain to work on
        pre, omitted = fit_excerpts(excerpts, max(budget, 1) * 3, count)
        conversation = _chunked_conversation(pre, head, count, max(256, budget // 4))
        compressed = await _fit_with_compression(model, conversation, total_budget) if budget > 0 else None
        if compressed is not None:
            messages, fitted_by = compressed
            if omitted:
                fitted_by = f"relevance ({omitted} events dropped) + {fitted_by}"
        else:
            lines, omitted = fit_excerpts(excerpts, max(budget, 0), count)
            fitted_by = "truncation by relevance"
            messages = [Message(role="system", content=SYSTEM_PROMPT),
                        Message(role="user", content="Log excerpts (most relevant events, in time order):\n"
                                + "\n".join(lines) + "\n\n" + head)]
    messages = [m.model_copy(update={"content": redact_data(m.content)}) for m in messages]
    return messages, fitted_by, omitted, reserve


async def self_analyze(request: AnalysisRequest) -> AnalysisResult:
    """Run the LLM self-analysis for ``request.model`` and return its Markdown report."""
    from ..errors import MassgenError
    from ..manager import get_hooks
    from ..providers import resolve_model, resolve_settings
    from ..types import AnalysisResult, CompletionRequest
    from .analysis import find_issues, summarize_run
    from .redaction import redact_data

    assert request.model
    ref = resolve_model(request.model)
    model = str(ref)
    events, meta = request.events, dict(request.meta)
    if not events and request.run_dir:
        from .reader import read_run

        run = read_run(request.run_dir)
        events, meta = run.events, {**run.meta, "source": run.source, "status": run.status,
                                    "skipped_lines": len(run.skipped)}
    summary = summarize_run(events, meta, source=str(meta.get("source") or "massgen-plugins"),
                            skipped_lines=int(meta.get("skipped_lines") or 0), status=meta.get("status"))
    findings = find_issues(summary, events)

    facts = _window_facts(model)
    window = int(facts.get("context_window") or DEFAULT_WINDOW)
    excerpts = build_excerpts(events)
    count = _counter(model)
    settings = resolve_settings(ref.provider)
    for attempt in (1, 2):
        messages, fitted_by, omitted, reserve = await _prepare(model, window, facts, summary, findings, excerpts, count)
        completion = CompletionRequest(model=model, messages=messages, max_tokens=reserve)
        try:
            response = await get_hooks().complete(completion, settings)
            break
        except MassgenError:
            raise
        except Exception as exc:
            from .redaction import redact_exception

            overflow = (await get_hooks().adetect_overflow(exc, ref.provider, model)).value
            if attempt == 1 and overflow is not None and overflow.limit and overflow.limit < window:
                window = int(overflow.limit)  # the provider told us the real window: refit once
                facts = {**facts, "context_window": window}
                continue
            raise MassgenError(f"self-analysis call to {model} failed: {redact_exception(exc)}") from None
    text = response.message.content
    if not isinstance(text, str):
        text = "\n".join(str(p.get("text", "")) for p in (text or []) if isinstance(p, dict))
    text = redact_data(text or "").strip() or "_(the model returned no text)_"
    sent_tokens = sum(count(m.content if isinstance(m.content, str) else json.dumps(m.content)) for m in messages)
    run_id = summary["run"].get("id") or request.run_dir
    footer = (
        f"\n\n---\n*Sent to {model}: the deterministic summary, {len(findings)} findings and "
        f"{len(excerpts) - omitted} of {len(excerpts)} log events (~{sent_tokens:,} tokens; window "
        f"{window:,}{'' if facts.get('context_window') else ' assumed'}; fitted by {fitted_by}). "
        f"Usage: {response.usage.input_tokens:,} in / {response.usage.output_tokens:,} out.*\n"
    )
    markdown = f"# Self-analysis of run {run_id} by {model}\n\n{text}{footer}"
    return AnalysisResult(
        analyzer="self-analysis",
        summary={"model": model, "window": window, "excerpts_sent": len(excerpts) - omitted,
                 "excerpts_total": len(excerpts), "excerpts_omitted": omitted, "fitted_by": fitted_by,
                 "sent_tokens": sent_tokens, "usage": response.usage.model_dump()},
        markdown=markdown,
    )
