"""OpenAI Chat Completions on the wire: request parsing, responses, stream chunks, error bodies.

Errors use OpenAI's envelope ``{"error": {"message", "type", "param", "code"}}`` with the status
the official SDK maps to its typed exceptions (400 ``BadRequestError``, 401
``AuthenticationError``, 429 ``RateLimitError``, ...).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from massgen_plugins.errors import InputError
from massgen_plugins.types import CompletionResponse, Message, StreamEvent, ToolCall
from pydantic import ValidationError
from starlette.responses import JSONResponse

from .calls import ChatCall
from .options import from_openai

_ROLES = {"system", "developer", "user", "assistant", "tool"}


def parse_request(body: Any) -> ChatCall:
    """Validate a Chat Completions body.

    :raises InputError: naming the field that is wrong.
    """
    if not isinstance(body, dict):
        raise InputError("the request body must be a JSON object")
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise InputError("'messages' must be a non-empty array of messages")
    messages: list[Message] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or item.get("role") not in _ROLES:
            raise InputError(f"messages[{index}].role must be one of {', '.join(sorted(_ROLES))}")
        try:
            messages.append(Message.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InputError(f"messages[{index}].{where}: {first['msg']}") from None
    tools = body.get("tools") or []
    if not isinstance(tools, list) or any(not isinstance(t, dict) or t.get("type") != "function" or
                                          not isinstance(t.get("function"), dict) or
                                          not t["function"].get("name") for t in tools):
        raise InputError("'tools' must be an array of {type: 'function', function: {name, parameters}}")
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None and (not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1):
        raise InputError("'max_tokens' / 'max_completion_tokens' must be a positive integer")
    if body.get("n") not in (None, 1):
        raise InputError("'n' other than 1 is not supported by the gateway")
    options = body.get("stream_options") or {}
    model = body.get("model")
    if not isinstance(model, str):
        raise InputError("'model' must be a string: provider/model or a configured alias")
    return ChatCall(api="openai", model=model, messages=messages, tools=tools, max_tokens=max_tokens,
                    stream=bool(body.get("stream")), include_usage=bool(options.get("include_usage")),
                    options=from_openai(body))


def _tool_call_json(call: ToolCall, index: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": call.id, "type": "function",
                           "function": {"name": call.function.get("name", ""),
                                        "arguments": call.function.get("arguments") or "{}"}}
    if index is not None:
        out["index"] = index
    return out


def _finish(response: CompletionResponse) -> str:
    if response.message.tool_calls:
        return "tool_calls"
    reason = response.finish_reason or "stop"
    return {"end_turn": "stop", "max_tokens": "length", "tool_use": "tool_calls"}.get(reason, reason)


def _usage(response: CompletionResponse) -> dict[str, int]:
    u = response.usage
    return {"prompt_tokens": u.input_tokens, "completion_tokens": u.output_tokens,
            "total_tokens": u.input_tokens + u.output_tokens}


def completion_body(response: CompletionResponse, request_id: str, model: str) -> dict[str, Any]:
    """A ``chat.completion`` object."""
    message: dict[str, Any] = {"role": "assistant", "content": response.message.text() or None}
    if response.message.tool_calls:
        message["tool_calls"] = [_tool_call_json(c) for c in response.message.tool_calls]
    if message["content"] is None and not response.message.tool_calls:
        message["content"] = ""
    return {
        "id": request_id, "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": _finish(response), "logprobs": None}],
        "usage": _usage(response),
    }


async def stream_chunks(events: AsyncIterator[StreamEvent], request_id: str, model: str, include_usage: bool
                        ) -> AsyncIterator[str]:
    """``chat.completion.chunk`` SSE data lines, then ``[DONE]``.

    A failure after output was sent ends the stream with an ``error`` object (the SDK raises it).
    """
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        return json.dumps({"id": request_id, "object": "chat.completion.chunk", "created": created, "model": model,
                           "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]},
                          separators=(",", ":"))

    yield chunk({"role": "assistant", "content": ""})
    tool_index = 0
    async for event in events:
        if event.type == "text" and event.delta:
            yield chunk({"content": event.delta})
        elif event.type == "tool_call" and event.tool_call is not None:
            yield chunk({"tool_calls": [_tool_call_json(event.tool_call, tool_index)]})
            tool_index += 1
        elif event.type == "done" and event.response is not None:
            response = event.response
            if response.message.tool_calls and tool_index == 0:  # providers that only report calls at the end
                for i, call in enumerate(response.message.tool_calls):
                    yield chunk({"tool_calls": [_tool_call_json(call, i)]})
            yield chunk({}, _finish(response))
            if include_usage:
                yield json.dumps({"id": request_id, "object": "chat.completion.chunk", "created": created,
                                  "model": model, "choices": [], "usage": _usage(response)}, separators=(",", ":"))
    yield "[DONE]"


def error_response(status: int, message: str, *, type: str, code: str | None = None, param: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": type, "param": param, "code": code}},
                        status_code=status, headers=headers)


def stream_error(message: str, *, type: str, code: str | None = None) -> str:
    return json.dumps({"error": {"message": message, "type": type, "param": None, "code": code}})
