"""Groq speaks the OpenAI Chat Completions format, with a few narrower rules applied here:

* ``developer`` messages are sent as ``system`` (Groq's models know only system/user/assistant/tool);
* content parts other than text and images (an OpenAI compaction item, say) are dropped;
* an assistant turn that only calls tools carries no ``content`` key at all;
* the output cap is sent as ``max_completion_tokens``.

No SDK import here.
"""

from __future__ import annotations

import json
from typing import Any

from massgen_plugins.types import CompletionResponse, Message, ToolCall, Usage


def _content(content: str | list[dict[str, Any]] | None) -> str | list[dict[str, Any]] | None:
    if content is None or isinstance(content, str):
        return content
    parts: list[dict[str, Any]] = []
    for part in content:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind in ("text", "input_text", "output_text"):
            parts.append({"type": "text", "text": str(part.get("text", ""))})
        elif kind == "image_url":
            parts.append({"type": "image_url", "image_url": part.get("image_url")})
    if parts and all(p["type"] == "text" for p in parts):
        return "\n".join(p["text"] for p in parts)
    return parts or ""


def to_groq(messages: list[Message]) -> list[dict[str, Any]]:
    """Chat messages for ``chat.completions.create``."""
    out: list[dict[str, Any]] = []
    for message in messages:
        role = "system" if message.role == "developer" else message.role
        item: dict[str, Any] = {"role": role}
        content = _content(message.content)
        if role in ("system", "user") and not isinstance(content, list):
            item["content"] = content or ""
        elif role == "tool":
            item["content"] = message.text()
            item["tool_call_id"] = message.tool_call_id or ""
        elif content not in (None, ""):
            item["content"] = content
        if role == "assistant":
            if message.tool_calls:
                item["tool_calls"] = [
                    {"id": c.id, "type": "function",
                     "function": {"name": c.function.get("name", ""),
                                  "arguments": _arguments_text(c.function.get("arguments"))}}
                    for c in message.tool_calls
                ]
            elif "content" not in item:
                item["content"] = ""
        if message.name and role in ("user", "assistant", "system"):
            item["name"] = message.name
        out.append(item)
    return out


def _arguments_text(value: Any) -> str:
    if isinstance(value, str):
        return value or "{}"
    return json.dumps(value or {})


def to_groq_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool schemas in the OpenAI ``{"type": "function", "function": {...}}`` shape."""
    result: list[dict[str, Any]] = []
    for tool in tools:
        if "function" in tool or tool.get("type") not in (None, "function"):
            result.append(dict(tool))
        else:
            result.append({"type": "function", "function": dict(tool)})
    return result


def from_groq(completion: Any, model: str) -> CompletionResponse:
    """A :class:`CompletionResponse` from the SDK's ``ChatCompletion``."""
    choice = completion.choices[0]
    message = choice.message
    calls = [
        ToolCall(id=c.id, function={"name": c.function.name, "arguments": c.function.arguments or "{}"})
        for c in message.tool_calls or []
    ]
    usage = getattr(completion, "usage", None)
    return CompletionResponse(
        model=model, id=getattr(completion, "id", None),
        message=Message(role="assistant", content=message.content or None, tool_calls=calls or None),
        finish_reason=choice.finish_reason,
        usage=Usage(input_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                    output_tokens=getattr(usage, "completion_tokens", 0) or 0),
    )
