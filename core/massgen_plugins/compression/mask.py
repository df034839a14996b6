"""Stage 1, *mask*: observation masking of old, large tool results.

Older tool results (outside the verbatim recent region) of at least ``mask_min_tokens`` are
replaced, oldest first, by a short stub naming the archived original, the call that produced it,
its first characters and up to three key lines (identifiers, errors, decisions) -- until the conversation fits. Zero model calls; JetBrains' "The
Complexity Trap" found this halves cost and matches LLM summarisation on SWE-bench. The tool
result message itself stays (with its ``tool_call_id``), so pairing is untouched.
"""

from __future__ import annotations

from ..types import CompressionRequest, CompressionResult
from .context import StageContext
from .conversation import message_id, message_text, replace_text, tool_names
from .salience import key_lines

STAGE = "mask"
PREVIEW_CHARS = 160
MASK_PREFIX = "[tool result masked to save context:"


def stub_text(tokens: int, archived_id: str, call: tuple[str, str] | None, text: str, lines: int = 3) -> str:
    """The replacement text of a masked tool result: size, archive id, the call, the first
    characters and up to ``lines`` key lines (identifiers, errors, decisions) kept verbatim."""
    name, args = call or ("tool", "")
    args = args if len(args) <= 120 else args[:117] + "..."
    preview = " ".join(text[:PREVIEW_CHARS].split())
    more = "..." if len(text) > PREVIEW_CHARS else ""
    stub = (f"{MASK_PREFIX} {tokens:,} tokens archived as {archived_id}; "
            f"call {name}({args}); began: {preview}{more}]")
    if lines:
        found = [line for line in key_lines(text[PREVIEW_CHARS:], "tool", limit=lines, min_score=2)]
        if found:
            stub += "\nkey lines: " + " | ".join(found)
    return stub


def run(request: CompressionRequest) -> CompressionResult | None:
    """Mask old large tool results until the conversation fits (``None`` when nothing to mask)."""
    ctx = StageContext(request)
    if ctx.fits():
        return None
    recent = ctx.recent_start()
    threshold = ctx.strategy.mask_min_tokens
    candidates = [i for i in range(ctx.head, recent)
                  if ctx.messages[i].role == "tool" and ctx.tokens[i] >= threshold]
    if not candidates:
        return None
    names = tool_names(ctx.messages[ctx.head:recent])
    messages = list(ctx.messages)
    tokens = list(ctx.tokens)
    archived = []
    allowance = ctx.allowance()
    running = sum(tokens)  # raw message tokens, kept up to date (no re-summing: linear)
    for i in candidates:
        original = messages[i]
        oid = message_id(original)
        stub = replace_text(original, stub_text(tokens[i], oid, names.get(original.tool_call_id or ""),
                                                message_text(original)))
        messages[i] = stub
        new_tokens = ctx.counter.message(stub)
        running += new_tokens - tokens[i]
        tokens[i] = new_tokens
        archived.append(ctx.archive(i, message_id(stub), STAGE))
        if running <= allowance:
            break
    before = ctx.total()
    after = ctx.total(tokens)
    return CompressionResult(
        messages=messages, stage=STAGE, tokens_before=before, tokens_after=after, archived=archived,
        notes=[f"masked {len(archived)} tool result(s) of >= {threshold} tokens"],
    )
