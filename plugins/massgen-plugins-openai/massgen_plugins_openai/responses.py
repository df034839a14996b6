"""The OpenAI Responses API: chat-format conversations as Responses input items, calls, streams.

Only the Responses API understands an OpenAI compaction item, so a conversation that carries
one (a message content part ``{"type": "compaction", "id": ..., "encrypted_content": ...}``,
produced by :mod:`.compaction`) is sent here instead of to Chat Completions.

Conversion (:func:`to_input`), chat format → Responses input items:

* leading ``system``/``developer`` messages become ``instructions`` (:func:`split_instructions`);
  later ones stay input messages with their role;
* ``user``/``assistant`` text becomes ``{"role": ..., "content": ...}`` (text parts become
  ``input_text``/``output_text``, image parts ``input_image``);
* assistant ``tool_calls`` become ``function_call`` items and ``tool`` messages
  ``function_call_output`` items, in order, so a call and its result stay together;
* compaction parts are passed verbatim as ``{"type": "compaction", ...}`` items.

In-stream errors (as each SDK's exception classes carry them): an ``error`` event with a nested ``error`` object
is raised by the SDK as :class:`openai.APIError` (no status) and propagates; a flat
``ResponseErrorEvent`` and ``response.failed`` are *yielded* by the SDK, and are passed on as a
:class:`~massgen_plugins.types.StreamEvent` of type ``error`` carrying the SDK event, which
:func:`massgen_plugins.detect_overflow` understands.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from .chat import CONTROL_OPTIONS, sent_request
from .compat import CompatProvider, async_client

if TYPE_CHECKING:
    from massgen_plugins.types import CompletionRequest, CompletionResponse, Message, ProviderSettings, StreamEvent

COMPACTION = "compaction"


def has_compaction(messages: list[Message]) -> bool:
    """Does any message carry an OpenAI compaction item?"""
    for message in messages:  # asked before every call: a plain loop, parts only for list contents
        content = message.content
        if isinstance(content, list) and any(isinstance(p, dict) and p.get("type") == COMPACTION for p in content):
            return True
    return False


def compaction_item(part: dict[str, Any]) -> dict[str, Any]:
    """A compaction content part as a Responses input item (passed verbatim)."""
    item = {k: v for k, v in part.items() if v is not None}
    item["type"] = COMPACTION
    return item


def split_instructions(messages: list[Message]) -> tuple[str | None, list[Message]]:
    """``(instructions, rest)``: the leading system/developer messages' text, and the others."""
    index = 0
    while index < len(messages) and messages[index].role in ("system", "developer"):
        index += 1
    texts = [m.text() for m in messages[:index] if m.text()]
    return ("\n\n".join(texts) if texts else None), messages[index:]


def _content_parts(role: str, content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    text_type = "output_text" if role == "assistant" else "input_text"
    parts: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type")
        if kind in ("text", "input_text", "output_text"):
            parts.append({"type": text_type, "text": str(part.get("text", ""))})
        elif kind == "image_url" and role != "assistant":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            converted: dict[str, Any] = {"type": "input_image", "image_url": url}
            if isinstance(image, dict) and image.get("detail"):
                converted["detail"] = image["detail"]
            else:
                converted["detail"] = "auto"
            parts.append(converted)
        elif kind in ("input_image", "input_file", "input_audio"):
            parts.append(part)
    return parts


def to_input(messages: list[Message]) -> list[dict[str, Any]]:
    """Chat-format messages as Responses input items (see the module docstring)."""
    items: list[dict[str, Any]] = []
    for message in messages:
        role = message.role
        if role == "tool":
            items.append({"type": "function_call_output", "call_id": message.tool_call_id or "",
                          "output": message.text()})
            continue
        content = message.content
        if isinstance(content, list):
            pending: list[dict[str, Any]] = []
            for part in content:
                if isinstance(part, dict) and part.get("type") == COMPACTION:
                    if pending:
                        items.append({"role": role, "content": _content_parts(role, pending)})
                        pending = []
                    items.append(compaction_item(part))
                elif isinstance(part, dict):
                    pending.append(part)
            converted = _content_parts(role, pending)
            if converted:
                items.append({"role": role, "content": converted})
        elif isinstance(content, str) and (content or not message.tool_calls):
            items.append({"role": role, "content": content})
        for call in message.tool_calls or []:
            items.append({"type": "function_call", "call_id": call.id,
                          "name": call.function.get("name", ""),
                          "arguments": call.function.get("arguments", "") or "{}"})
    return items


def to_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chat Completions tool schemas as Responses tools (the ``function`` object flattened)."""
    out: list[dict[str, Any]] = []
    for tool in tools:
        function = tool.get("function") if tool.get("type") == "function" else None
        if isinstance(function, dict):
            converted = {"type": "function", "name": function.get("name", "")}
            for key in ("description", "parameters", "strict"):
                if key in function:
                    converted[key] = function[key]
            out.append(converted)
        else:
            out.append(tool)
    return out


def request_kwargs(request: CompletionRequest) -> dict[str, Any]:
    """Keyword arguments for ``client.responses.create``."""
    instructions, rest = split_instructions(request.messages)
    kwargs: dict[str, Any] = {"model": request.model_id, "input": to_input(rest)}
    if instructions:
        kwargs["instructions"] = instructions
    if request.tools:
        kwargs["tools"] = to_tools(request.tools)
    if request.max_tokens is not None:
        kwargs["max_output_tokens"] = request.max_tokens
    if request.temperature is not None:
        kwargs["temperature"] = request.temperature
    extra = {k: v for k, v in request.options.items() if k not in CONTROL_OPTIONS}
    if extra:
        kwargs["extra_body"] = extra
    return kwargs


def _dump(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    return item.model_dump(mode="json", exclude_none=True, warnings=False)  # type: ignore[no-any-return]


def parse_response(request: CompletionRequest, response: Any, http_request: Any) -> CompletionResponse:
    """A Responses ``Response`` as a :class:`CompletionResponse`; a failed response raises."""
    from massgen_plugins.types import CompletionResponse, Message, ToolCall, Usage

    from .chat import raise_body_error

    if getattr(response, "status", None) == "failed" or getattr(response, "error", None) is not None:
        error = getattr(response, "error", None)
        raise_body_error(_dump(error) if error is not None else {"message": "the response failed"}, http_request)
    texts: list[str] = []
    calls: list[ToolCall] = []
    extra_parts: list[dict[str, Any]] = []
    for item in getattr(response, "output", None) or []:
        kind = getattr(item, "type", None)
        if kind == "message":
            for part in getattr(item, "content", None) or []:
                if getattr(part, "type", None) == "output_text":
                    texts.append(part.text)
        elif kind == "function_call":
            calls.append(ToolCall(id=item.call_id, function={"name": item.name, "arguments": item.arguments}))
        elif kind == COMPACTION:  # server-side compaction during the call: keep it verbatim
            extra_parts.append(compaction_item(_dump(item)))
    text = "".join(texts)
    content: str | list[dict[str, Any]] | None
    if extra_parts:
        content = ([{"type": "text", "text": text}] if text else []) + extra_parts
    else:
        content = text if text or not calls else None
    usage = getattr(response, "usage", None)
    return CompletionResponse(
        model=request.model,
        message=Message(role="assistant", content=content, tool_calls=calls or None),
        finish_reason=_finish_reason(response, bool(calls)),
        usage=Usage(input_tokens=getattr(usage, "input_tokens", 0) or 0,
                    output_tokens=getattr(usage, "output_tokens", 0) or 0),
        id=getattr(response, "id", None),
    )


def _finish_reason(response: Any, has_calls: bool) -> str:
    if has_calls:
        return "tool_calls"
    if getattr(response, "status", None) == "incomplete":
        details = getattr(response, "incomplete_details", None)
        reason = getattr(details, "reason", None)
        return "length" if reason == "max_output_tokens" else (reason or "length")
    return "stop"


async def complete(provider: CompatProvider, request: CompletionRequest,
                   settings: ProviderSettings) -> CompletionResponse:
    """One non-streaming ``/responses`` call."""
    client = async_client(provider, settings, request.timeout)  # carries request.timeout
    response = await client.responses.create(**request_kwargs(request))
    return parse_response(request, response, sent_request(client, "responses"))


async def stream(provider: CompatProvider, request: CompletionRequest,
                 settings: ProviderSettings) -> AsyncIterator[StreamEvent]:
    """One streaming ``/responses`` call (see the module docstring for in-stream errors)."""
    import openai
    from massgen_plugins.types import StreamEvent, ToolCall

    kwargs = request_kwargs(request)
    kwargs["stream"] = True
    client = async_client(provider, settings, request.timeout)
    sdk_stream = await client.responses.create(**kwargs)
    text: list[str] = []
    final: Any = None
    async with sdk_stream:
        async for event in sdk_stream:
            kind = getattr(event, "type", None)
            if kind == "response.output_text.delta":
                text.append(event.delta)
                yield StreamEvent(type="text", delta=event.delta)
            elif kind in ("error", "response.failed"):
                yield StreamEvent(type="error", error=event, partial="".join(text))
                return
            elif kind in ("response.completed", "response.incomplete"):
                final = event.response
    if final is None:
        raise openai.APIConnectionError(
            message="the stream ended before the response completed",
            request=sdk_stream.response.request,
        )
    response = parse_response(request, final, sdk_stream.response.request)
    streamed = "".join(text)
    if streamed and not response.message.text():  # a final event without the output text
        response.message.content = streamed
    for call in response.message.tool_calls or []:
        yield StreamEvent(type="tool_call", tool_call=ToolCall.model_validate(call))
    yield StreamEvent(type="done", response=response)
