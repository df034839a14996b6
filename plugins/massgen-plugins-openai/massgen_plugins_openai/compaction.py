"""Native compaction through OpenAI's ``POST /responses/compact`` (a ``compress`` stage).

What is sent, and what is kept verbatim (the compression invariants):

* the leading system/developer messages are kept and sent as ``instructions``;
* the latest user message is kept verbatim; when a tool loop follows it, the latest user
  message goes into the compaction input too (the endpoint hands user messages back verbatim)
  and the last assistant step (the last assistant message with its tool results) is kept, so the
  model still sees its newest results;
* only the oldest whole turns needed to reach the target are compacted, the strategy's recent
  region only when the older turns cannot free enough (:func:`bounded`): a conversation a
  little over its budget loses a little, not everything;
* what is compacted -- earlier turns, tool calls with their results (cut only at a turn or
  assistant-message boundary, so a call never loses its result), earlier compaction items --
  is converted to Responses input items.

The endpoint returns *"all user messages, followed by a single compaction item"*. The result
conversation is ``system`` + those user messages (the original message objects where the text
is unchanged) + one ``assistant`` message whose content is the opaque part
``{"type": "compaction", "id": ..., "encrypted_content": ...}`` + the kept tail. Every message
that no longer appears is archived with ``replaced_by`` = the compaction item's id. OpenAI's
``complete``/``stream`` send any conversation holding such a part through ``/responses``.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from massgen_plugins.types import CompressionRequest, CompressionResult, Message

STAGE = "native"
ITEM_TOKENS = 256  # what the compaction item is expected to cost (it replaces the compacted range)


def message_id(message: Message, position: int) -> str:
    """A stable id for an archived message: its position and a hash of its content."""
    digest = hashlib.sha256(
        json.dumps(message.model_dump(mode="json", exclude_none=True), sort_keys=True).encode()
    ).hexdigest()[:16]
    return f"m{position}-{digest}"


def plan(messages: list[Message]) -> tuple[int, int] | None:
    """``(start, cut)``: compact ``messages[start:cut]``, keep the rest; ``None`` if nothing
    can be compacted (no user message, or nothing but user messages in the range)."""
    start = 0
    while start < len(messages) and messages[start].role in ("system", "developer"):
        start += 1
    last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
    if last_user is None or last_user < start:
        return None
    # keep the latest user message, or -- inside a tool loop that follows it -- the last
    # assistant step (an assistant message and its tool results)
    steps = [i for i in range(last_user + 1, len(messages)) if messages[i].role == "assistant"]
    cut = steps[-1] if steps else last_user
    region = messages[start:cut]
    if not any(m.role != "user" for m in region):
        return None
    return start, cut


def bounded(request: CompressionRequest, start: int, cut: int) -> int:
    """Where to stop compacting: the first turn boundary after ``start`` (inside a tool loop that
    follows the latest user message, an assistant-step boundary) such that compacting up to it
    frees enough to reach the request's target -- counting only what is not a user message, as
    those come back verbatim. Turns of the strategy's recent region are compacted only when the
    older ones cannot free enough; never past ``cut``."""
    from massgen_plugins.compression.context import StageContext

    ctx = StageContext(request)
    tokens = ctx.tokens
    need = (sum(tokens) - ctx.allowance() + ITEM_TOKENS) * 1.25
    recent = ctx.recent_start(reserve=ITEM_TOKENS)
    older = sorted({u.start for u in ctx.units if start < u.start <= min(recent, cut)} | {min(recent, cut)})
    newer = sorted({u.start for u in ctx.units if recent < u.start <= cut} | {cut})
    steps = [i for i in range(max(start, ctx.latest_unit_start) + 1, cut)
             if request.messages[i].role == "assistant"]  # inside the latest turn's tool loop
    acc = 0  # what compacting frees
    previous = start
    for boundary in sorted(set(older) | set(newer) | set(steps)):
        if boundary <= start:
            continue
        acc += sum(tokens[i] for i in range(previous, boundary) if request.messages[i].role != "user")
        previous = boundary
        if acc >= need and any(m.role != "user" for m in request.messages[start:boundary]):
            return boundary
    return cut


def _text_of(item: dict[str, Any]) -> str:
    content = item.get("content")
    if isinstance(content, str):
        return content
    return "\n".join(str(p.get("text", "")) for p in content or [] if isinstance(p, dict) and "text" in p)


async def compact(request: CompressionRequest) -> CompressionResult | None:
    """Run the native stage (see module docstring). ``None`` when it does not apply."""
    from massgen_plugins.compression.access import current_access
    from massgen_plugins.types import ArchivedMessage, CompressionResult, Message

    from . import OPENAI
    from .compat import async_client, model_id
    from .responses import split_instructions, to_input
    from .tokens import responses_capable

    mid = model_id(request.model)
    if not responses_capable(mid) or request.options.get("native_compaction") is False:
        return None
    messages = request.messages
    span = plan(messages)
    if span is None:
        return None
    start, cut = span
    cut = bounded(request, start, cut)
    # the guarded session's keys (``Session(api_keys=...)``), else the environment's; raises
    # MissingCredentialsError naming OPENAI_API_KEY when neither has one
    settings = current_access().settings(request.model)
    instructions, _ = split_instructions(messages[:start])
    kwargs: dict[str, Any] = {"model": mid, "input": to_input(messages[start:cut])}
    if instructions:
        kwargs["instructions"] = instructions
    client = async_client(OPENAI, settings)
    raw = await client.responses.with_raw_response.compact(**kwargs)
    data = json.loads(raw.http_response.content)  # raw JSON: the SDK's union mistypes user messages
    output = data.get("output") or []
    items = [o for o in output if isinstance(o, dict) and o.get("type") == "compaction"]
    if not items:
        raise RuntimeError("/responses/compact returned no compaction item")
    item = items[-1]
    part = {"type": "compaction", "id": item.get("id"), "encrypted_content": item.get("encrypted_content")}
    part = {k: v for k, v in part.items() if v is not None}
    replaced_by = str(item.get("id") or hashlib.sha256(str(part.get("encrypted_content")).encode()).hexdigest()[:16])

    originals = {i: messages[i] for i in range(start, cut)}
    kept: list[Message] = []
    used: set[int] = set()
    for out in output:
        if not isinstance(out, dict) or out.get("type", "message") != "message" or out.get("role") != "user":
            continue
        text = _text_of(out)
        match = next((i for i, m in originals.items() if i not in used and m.role == "user" and m.text() == text),
                     None)
        if match is not None:
            used.add(match)
            kept.append(messages[match])
        else:
            kept.append(Message(role="user", content=text))
    compacted = Message(role="assistant", content=[part])
    result = messages[:start] + kept + [compacted] + messages[cut:]
    # every message of the compacted range is archived in order (``position``), the user messages
    # the endpoint kept verbatim too (``kept``): a host moving to another provider can then put the
    # range back exactly as it was and summarise it portably
    archived = [
        ArchivedMessage(id=message_id(m, i), message=m, replaced_by=replaced_by, stage=STAGE,
                        position=i - start, kept=i in used)
        for i, m in originals.items()
    ]
    usage = data.get("usage") or {}
    notes = [f"compacted {cut - start} messages into compaction item {replaced_by} "
             f"(/responses/compact, {usage.get('input_tokens', '?')} input tokens)"]
    before = _count(request.model, messages, request.tools)
    after = _count(request.model, result, request.tools)
    return CompressionResult(messages=result, stage=STAGE, tokens_before=before, tokens_after=after,
                             archived=archived, notes=notes)


def _count(model: str, messages: list[Message], tools: list[dict[str, Any]]) -> int:
    from massgen_plugins.tokens import count_conversation

    return count_conversation(model, messages, tools).tokens
