"""Translate between the OpenAI Chat Completions format (massgen-plugins' lingua franca) and the
Anthropic Messages API.

Anthropic's rules, all enforced here so a request built from any conversation is valid:

* system and developer messages go to the top-level ``system`` parameter, never into ``messages``;
* the first turn after them must be ``user`` (a short placeholder user turn is inserted otherwise);
* consecutive turns of the same role are merged (tool results and a following user text become
  one user turn, which is what the API requires for parallel tool calls);
* tool results are ``tool_result`` blocks inside a *user* turn; assistant ``tool_calls`` are
  ``tool_use`` blocks;
* text blocks must not be empty or whitespace-only, and the final assistant turn (a prefill) must
  not end with whitespace.

No SDK import: everything here works on plain dicts.
"""

from __future__ import annotations

import json
from typing import Any

from massgen_plugins.types import CompletionResponse, Message, ToolCall, Usage

#: Inserted when a conversation (after compression, say) starts with an assistant turn.
LEADING_USER_PLACEHOLDER = "(The conversation continues from an earlier part.)"

#: Anthropic content block types passed through verbatim when a message already carries them.
_NATIVE_BLOCKS = frozenset(
    {"text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking",
     "search_result", "server_tool_use", "web_search_tool_result", "container_upload"}
)

_STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "model_context_window_exceeded": "length",
}


def _image_block(part: dict[str, Any]) -> dict[str, Any] | None:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str) or not url:
        return None
    if url.startswith("data:") and ";base64," in url:
        media_type, data = url[5:].split(";base64,", 1)
        return {"type": "image", "source": {"type": "base64", "media_type": media_type or "image/png",
                                             "data": data}}
    return {"type": "image", "source": {"type": "url", "url": url}}


def _text_block(text: str) -> dict[str, Any] | None:
    return {"type": "text", "text": text} if text and text.strip() else None


def content_blocks(content: str | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """OpenAI message content (string or parts) as Anthropic content blocks.

    Empty and whitespace-only text is dropped (the API rejects it); parts that belong to another
    provider (an OpenAI compaction item, say) have no meaning here and are dropped too.
    """
    if content is None:
        return []
    if isinstance(content, str):
        text = _text_block(content)
        return [text] if text else []
    blocks: list[dict[str, Any]] = []
    for part in content:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        block: dict[str, Any] | None
        if kind in ("text", "input_text", "output_text"):
            block = _text_block(str(part.get("text", "")))
            if block and "cache_control" in part:
                block["cache_control"] = part["cache_control"]
        elif kind == "image_url":
            block = _image_block(part)
        elif kind in _NATIVE_BLOCKS:
            block = dict(part)
        else:
            block = None
        if block:
            blocks.append(block)
    return blocks


def _tool_use(call: ToolCall) -> dict[str, Any]:
    raw = call.function.get("arguments") or "{}"
    if isinstance(raw, dict):
        arguments: Any = raw
    else:
        try:
            arguments = json.loads(raw)
        except (TypeError, ValueError):
            arguments = {"_raw_arguments": str(raw)}
    if not isinstance(arguments, dict):
        arguments = {"value": arguments}
    return {"type": "tool_use", "id": call.id, "name": str(call.function.get("name", "")),
            "input": arguments}


def _tool_result(message: Message) -> dict[str, Any]:
    blocks = content_blocks(message.content)
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id or ""}
    if blocks and all(b.get("type") in ("text", "image") for b in blocks):
        block["content"] = blocks
    else:
        block["content"] = message.text() or "(empty result)"
    if message.model_extra and message.model_extra.get("is_error"):
        block["is_error"] = True
    return block


def to_anthropic(messages: list[Message]) -> tuple[str | None, list[dict[str, Any]]]:
    """``(system, messages)`` for ``messages.create`` / ``messages.count_tokens``."""
    system_parts: list[str] = []
    turns: list[dict[str, Any]] = []

    def add(role: str, blocks: list[dict[str, Any]]) -> None:
        if not blocks:
            return
        if turns and turns[-1]["role"] == role:
            if role == "user":
                # tool_result blocks must open a user turn: keep them ahead of text.
                merged = turns[-1]["content"] + blocks
                results = [b for b in merged if b.get("type") == "tool_result"]
                others = [b for b in merged if b.get("type") != "tool_result"]
                turns[-1]["content"] = results + others
            else:
                turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": list(blocks)})

    for message in messages:
        if message.role in ("system", "developer"):
            text = message.text().strip()
            if text:
                system_parts.append(text)
        elif message.role == "tool":
            add("user", [_tool_result(message)])
        elif message.role == "assistant":
            blocks = content_blocks(message.content)
            blocks.extend(_tool_use(call) for call in message.tool_calls or [])
            add("assistant", blocks)
        else:
            add("user", content_blocks(message.content))

    if turns and turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "content": [{"type": "text", "text": LEADING_USER_PLACEHOLDER}]})
    _strip_final_assistant(turns)
    return ("\n\n".join(system_parts) or None), turns


def _strip_final_assistant(turns: list[dict[str, Any]]) -> None:
    """A final assistant turn is a prefill: it must not end with whitespace."""
    if not turns or turns[-1]["role"] != "assistant":
        return
    blocks = turns[-1]["content"]
    while blocks and blocks[-1].get("type") == "text":
        stripped = str(blocks[-1]["text"]).rstrip()
        if stripped:
            blocks[-1] = {**blocks[-1], "text": stripped}
            break
        blocks.pop()
    if not blocks:
        turns.pop()


def to_anthropic_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI function-tool schemas as Anthropic tools (native tool dicts pass through)."""
    converted: list[dict[str, Any]] = []
    for tool in tools:
        if "input_schema" in tool or (tool.get("type") not in (None, "function") and "function" not in tool):
            converted.append(dict(tool))
            continue
        fn = tool.get("function", tool)
        item: dict[str, Any] = {
            "name": fn["name"],
            "input_schema": fn.get("parameters") or {"type": "object", "properties": {}},
        }
        if fn.get("description"):
            item["description"] = fn["description"]
        converted.append(item)
    return converted


def to_tool_choice(choice: Any) -> dict[str, Any] | None:
    """OpenAI ``tool_choice`` as Anthropic's (``auto``/``required``/``none``/a named function)."""
    if choice is None:
        return None
    if isinstance(choice, dict):
        if choice.get("type") in ("auto", "any", "tool", "none"):
            return dict(choice)
        name = (choice.get("function") or {}).get("name")
        return {"type": "tool", "name": name} if name else None
    return {"auto": {"type": "auto"}, "required": {"type": "any"}, "any": {"type": "any"},
            "none": {"type": "none"}}.get(str(choice))


def finish_reason(stop_reason: str | None) -> str | None:
    """Anthropic ``stop_reason`` in OpenAI terms (``stop``, ``length``, ``tool_calls``, ...)."""
    if stop_reason is None:
        return None
    return _STOP_REASONS.get(stop_reason, stop_reason)


def tool_call(block_id: str, name: str, arguments: Any) -> ToolCall:
    """A :class:`ToolCall` from a ``tool_use`` block (``arguments`` as dict or JSON text)."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments or {})
    return ToolCall(id=block_id, function={"name": name, "arguments": text or "{}"})


def assistant_message(texts: list[str], calls: list[ToolCall], thinking: list[dict[str, Any]]) -> Message:
    """The assistant :class:`Message` of a reply.

    With extended thinking, the ``thinking``/``redacted_thinking`` blocks (and their signatures)
    must be sent back unchanged with the tool results that follow, so they are kept as leading
    content parts; :meth:`Message.text` still returns only the text, and other providers'
    converters drop these parts.
    """
    text = "".join(texts)
    if thinking:
        parts = [*thinking, *([{"type": "text", "text": text}] if text else [])]
        return Message(role="assistant", content=parts, tool_calls=calls or None)
    return Message(role="assistant", content=text or None, tool_calls=calls or None)


def from_anthropic(message: Any, model: str) -> CompletionResponse:
    """A :class:`CompletionResponse` from the SDK's ``Message`` object."""
    texts: list[str] = []
    calls: list[ToolCall] = []
    thinking: list[dict[str, Any]] = []
    for block in message.content or []:
        kind = getattr(block, "type", None)
        if kind == "text":
            texts.append(block.text)
        elif kind == "tool_use":
            calls.append(tool_call(block.id, block.name, block.input))
        elif kind == "thinking":
            thinking.append({"type": "thinking", "thinking": block.thinking, "signature": block.signature})
        elif kind == "redacted_thinking":
            thinking.append({"type": "redacted_thinking", "data": block.data})
    usage = getattr(message, "usage", None)
    return CompletionResponse(
        model=model,
        id=getattr(message, "id", None),
        message=assistant_message(texts, calls, thinking),
        finish_reason=finish_reason(getattr(message, "stop_reason", None)),
        usage=Usage(input_tokens=getattr(usage, "input_tokens", 0) or 0,
                    output_tokens=getattr(usage, "output_tokens", 0) or 0),
    )
