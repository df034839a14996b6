"""Anthropic Messages on the wire: request translation to OpenAI-format messages, responses,
stream events, error bodies.

Translation: ``system`` (string or text blocks) becomes a system message; ``tool_use`` blocks
become assistant ``tool_calls``; ``tool_result`` blocks become ``tool`` messages (in order, before
the rest of that user turn); images become ``image_url`` parts; ``thinking`` blocks are dropped.
Errors use Anthropic's envelope ``{"type": "error", "error": {"type", "message"}}``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from massgen_plugins.errors import InputError
from massgen_plugins.types import CompletionResponse, Message, StreamEvent, ToolCall
from massgen_plugins.web.sse import ServerSentEvent
from starlette.responses import JSONResponse

from .calls import ChatCall
from .options import from_anthropic


def Event(name: str, data: dict[str, Any]) -> ServerSentEvent:
    """A named server-sent event with a JSON payload."""
    return ServerSentEvent(data, event=name)


def _text_of(blocks: Any, where: str) -> str:
    if isinstance(blocks, str):
        return blocks
    if not isinstance(blocks, list):
        raise InputError(f"{where} must be a string or an array of content blocks")
    return "\n".join(str(b.get("text", "")) for b in blocks if isinstance(b, dict) and b.get("type") == "text")


def _image_part(block: dict[str, Any]) -> dict[str, Any]:
    source = block.get("source") or {}
    if source.get("type") == "base64":
        url = f"data:{source.get('media_type', 'image/png')};base64,{source.get('data', '')}"
    else:
        url = str(source.get("url", ""))
    return {"type": "image_url", "image_url": {"url": url}}


def _convert(role: str, content: Any, index: int) -> list[Message]:
    where = f"messages[{index}].content"
    if isinstance(content, str):
        return [Message(role=role, content=content)]  # type: ignore[arg-type]
    if not isinstance(content, list):
        raise InputError(f"{where} must be a string or an array of content blocks")
    parts: list[dict[str, Any]] = []
    calls: list[ToolCall] = []
    results: list[Message] = []
    for j, block in enumerate(content):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            parts.append({"type": "text", "text": str(block.get("text", ""))})
        elif kind == "image":
            parts.append(_image_part(block))
        elif kind == "tool_use" and role == "assistant":
            if not block.get("id") or not block.get("name"):
                raise InputError(f"{where}[{j}]: a tool_use block needs 'id' and 'name'")
            calls.append(ToolCall(id=str(block["id"]), function={
                "name": str(block["name"]), "arguments": json.dumps(block.get("input") or {})}))
        elif kind == "tool_result" and role == "user":
            if not block.get("tool_use_id"):
                raise InputError(f"{where}[{j}]: a tool_result block needs 'tool_use_id'")
            text = _text_of(block.get("content") or "", f"{where}[{j}].content")
            if block.get("is_error"):
                text = f"[tool error] {text}"
            results.append(Message(role="tool", tool_call_id=str(block["tool_use_id"]), content=text))
        elif kind in ("thinking", "redacted_thinking"):
            continue
        else:
            raise InputError(f"{where}[{j}]: unsupported content block type {kind!r} for role {role!r}")
    out = list(results)
    if parts or calls:
        text_only = all(p.get("type") == "text" for p in parts)
        body: Any = "\n".join(p["text"] for p in parts) if text_only else parts
        out.append(Message(role=role, content=body if (body or not calls) else None,  # type: ignore[arg-type]
                           tool_calls=calls or None))
    return out


def _tool(tool: Any, index: int) -> dict[str, Any]:
    if not isinstance(tool, dict) or not tool.get("name"):
        raise InputError(f"tools[{index}] must be an object with 'name' and 'input_schema'")
    return {"type": "function", "function": {"name": tool["name"], "description": tool.get("description", ""),
                                             "parameters": tool.get("input_schema") or {"type": "object"}}}


def parse_request(body: Any) -> ChatCall:
    """Validate a Messages body and translate it.

    :raises InputError: naming the field that is wrong.
    """
    if not isinstance(body, dict):
        raise InputError("the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str):
        raise InputError("model: Field required (provider/model, an alias, or a Claude model name)")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise InputError("max_tokens: must be a positive integer")
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise InputError("messages: must be a non-empty array")
    messages: list[Message] = []
    system = body.get("system")
    if system:
        messages.append(Message(role="system", content=_text_of(system, "system")))
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or item.get("role") not in ("user", "assistant"):
            raise InputError(f"messages[{index}].role must be 'user' or 'assistant'")
        messages.extend(_convert(item["role"], item.get("content"), index))
    tools = [_tool(t, i) for i, t in enumerate(body.get("tools") or [])]
    return ChatCall(api="anthropic", model=model, messages=messages, tools=tools, max_tokens=max_tokens,
                    stream=bool(body.get("stream")), options=from_anthropic(body))


def _stop_reason(response: CompletionResponse) -> str:
    if response.message.tool_calls:
        return "tool_use"
    reason = response.finish_reason or "end_turn"
    return {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}.get(reason, reason)


def _tool_block(call: ToolCall) -> dict[str, Any]:
    try:
        arguments = json.loads(call.function.get("arguments") or "{}")
    except ValueError:
        arguments = {"_raw": call.function.get("arguments")}
    return {"type": "tool_use", "id": call.id, "name": call.function.get("name", ""), "input": arguments}


def message_body(response: CompletionResponse, request_id: str, model: str) -> dict[str, Any]:
    """A Messages API ``message`` object."""
    content: list[dict[str, Any]] = []
    text = response.message.text()
    if text:
        content.append({"type": "text", "text": text})
    content.extend(_tool_block(c) for c in response.message.tool_calls or [])
    return {"id": request_id, "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": _stop_reason(response), "stop_sequence": None,
            "usage": {"input_tokens": response.usage.input_tokens, "output_tokens": response.usage.output_tokens}}


async def stream_events(events: AsyncIterator[StreamEvent], request_id: str, model: str, input_tokens: int = 0
                        ) -> AsyncIterator[ServerSentEvent]:
    """``message_start`` … ``message_stop`` server-sent events; ``message_start`` carries the
    request's counted ``input_tokens``, as the Messages API reports them there."""
    yield Event("message_start", {"type": "message_start", "message": {
        "id": request_id, "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": input_tokens, "output_tokens": 0}}})
    index = 0
    text_open = False
    sent_calls = 0
    async for event in events:
        if event.type == "text" and event.delta:
            if not text_open:
                yield Event("content_block_start", {"type": "content_block_start", "index": index,
                                                    "content_block": {"type": "text", "text": ""}})
                text_open = True
            yield Event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                "delta": {"type": "text_delta", "text": event.delta}})
        elif event.type in ("tool_call", "done"):
            calls: list[ToolCall] = []
            if event.type == "tool_call" and event.tool_call is not None:
                calls = [event.tool_call]
            elif event.type == "done" and event.response is not None and not sent_calls:
                calls = list(event.response.message.tool_calls or [])
            for call in calls:
                if text_open:
                    yield Event("content_block_stop", {"type": "content_block_stop", "index": index})
                    text_open, index = False, index + 1
                block = _tool_block(call)
                yield Event("content_block_start", {"type": "content_block_start", "index": index,
                                                    "content_block": {**block, "input": {}}})
                yield Event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {
                    "type": "input_json_delta", "partial_json": json.dumps(block["input"])}})
                yield Event("content_block_stop", {"type": "content_block_stop", "index": index})
                index += 1
                sent_calls += 1
            if event.type == "done" and event.response is not None:
                if text_open:
                    yield Event("content_block_stop", {"type": "content_block_stop", "index": index})
                    text_open = False
                response = event.response
                yield Event("message_delta", {"type": "message_delta", "delta": {
                    "stop_reason": _stop_reason(response), "stop_sequence": None},
                    "usage": {"input_tokens": response.usage.input_tokens,
                              "output_tokens": response.usage.output_tokens}})
                yield Event("message_stop", {"type": "message_stop"})


def error_response(status: int, message: str, *, type: str, headers: dict[str, str] | None = None
                   ) -> JSONResponse:
    return JSONResponse({"type": "error", "error": {"type": type, "message": message},
                         "request_id": f"req_{uuid.uuid4().hex[:24]}"}, status_code=status, headers=headers)


def stream_error(message: str, *, type: str) -> ServerSentEvent:
    return Event("error", {"type": "error", "error": {"type": type, "message": message}})
