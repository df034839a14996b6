"""Chat Completions through the ``openai`` SDK, for every OpenAI-compatible provider.

Requests are built from a :class:`~massgen_plugins.types.CompletionRequest` (messages already
in the Chat Completions format, OpenAI tool schemas, ``max_tokens`` sent under the provider's
field name, ``options`` passed through as extra body fields). Responses become
:class:`~massgen_plugins.types.CompletionResponse`; streams become
:class:`~massgen_plugins.types.StreamEvent` with tool calls assembled from their deltas
(parallel calls by ``index``).

Errors propagate as the SDK raises them. Two wire quirks are turned into the SDK's own
exceptions so the retry loop sees them:

* an error object in an HTTP 200 body (OpenRouter: *"Errors that occur after generation
  starts come back with HTTP 200"*) raises :class:`openai.APIError` with the inner error as
  ``body`` -- the same shape the SDK raises for an in-stream ``data: {"error": ...}``;
* a stream that ends without a finish reason or ``[DONE]`` (a truncated SSE stream) raises
  :class:`openai.APIConnectionError`.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from .compat import CompatProvider, async_client

if TYPE_CHECKING:
    from massgen_plugins.types import CompletionRequest, CompletionResponse, Message, ProviderSettings, StreamEvent
    from pydantic import TypeAdapter

#: option keys consumed by the plugins themselves, never sent to the provider
CONTROL_OPTIONS = frozenset({"api", "native_compaction"})


def wire_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Messages as Chat Completions JSON (unknown extra keys are kept verbatim)."""
    from massgen_plugins.types import Message

    if all(type(m) is Message for m in messages):  # the whole list in one serializer call
        out: list[dict[str, Any]] = _message_list().dump_python(messages, mode="json", exclude_none=True)
    else:  # a subclass serializes its own fields
        out = [message.model_dump(mode="json", exclude_none=True) for message in messages]
    for message, item in zip(messages, out, strict=True):
        if message.role == "assistant" and "content" not in item:
            item["content"] = None  # tool-only assistant turns need an explicit null
    return out


@functools.lru_cache(maxsize=1)
def _message_list() -> TypeAdapter[list[Message]]:
    from massgen_plugins.types import Message
    from pydantic import TypeAdapter

    return TypeAdapter(list[Message])


def request_kwargs(provider: CompatProvider, request: CompletionRequest) -> dict[str, Any]:
    """Keyword arguments for ``client.chat.completions.create``."""
    kwargs: dict[str, Any] = {"model": request.model_id, "messages": wire_messages(request.messages)}
    if request.tools:
        kwargs["tools"] = request.tools
    if request.max_tokens is not None:
        kwargs[provider.max_tokens_field] = request.max_tokens
    if request.temperature is not None:
        kwargs["temperature"] = request.temperature
    # no per-request ``timeout``: the client these go to is built with ``request.timeout``
    # (:func:`~massgen_plugins_openai.compat.async_client`)
    extra = {k: v for k, v in request.options.items() if k not in CONTROL_OPTIONS}
    if extra:
        kwargs["extra_body"] = extra
    return kwargs


def _body_error(obj: Any) -> dict[str, Any] | None:
    extra = getattr(obj, "model_extra", None) or {}
    error = extra.get("error")
    if isinstance(error, dict):
        return error
    if isinstance(error, str) and error:
        return {"message": error}
    return None


def raise_body_error(error: dict[str, Any], http_request: Any) -> None:
    """Raise an error object found in an HTTP 200 body as :class:`openai.APIError`.

    ``http_request`` is the ``httpx.Request`` the error belongs to, or a function returning it
    (built only when there is an error to raise).
    """
    import openai

    if callable(http_request):
        http_request = http_request()

    message = _v if isinstance(_v := error.get("message"), str) else None
    raise openai.APIError(message or "the provider returned an error in an HTTP 200 body",
                          request=http_request, body=error)


def tool_call(raw: Any) -> dict[str, Any]:
    """One SDK tool call as our ``ToolCall`` dict."""
    function = getattr(raw, "function", None)
    return {
        "id": getattr(raw, "id", None) or "",
        "type": "function",
        "function": {
            "name": getattr(function, "name", None) or "",
            "arguments": getattr(function, "arguments", None) or "",
        },
    }


def parse_completion(request: CompletionRequest, completion: Any, http_request: Any) -> CompletionResponse:
    """A ``ChatCompletion`` as a :class:`CompletionResponse` (raises an in-body error)."""
    from massgen_plugins.types import CompletionResponse, Message, ToolCall, Usage

    error = _body_error(completion)
    if error is not None or not getattr(completion, "choices", None):
        raise_body_error(error or {"message": "the provider returned no choices"}, http_request)
    choice = completion.choices[0]
    raw_message = choice.message
    calls = [ToolCall.model_validate(tool_call(c)) for c in (raw_message.tool_calls or [])]
    message = Message(role="assistant", content=raw_message.content, tool_calls=calls or None)
    usage = getattr(completion, "usage", None)
    return CompletionResponse(
        model=request.model,
        message=message,
        finish_reason=choice.finish_reason,
        usage=Usage(
            input_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            output_tokens=getattr(usage, "completion_tokens", 0) or 0,
        ),
        id=getattr(completion, "id", None),
    )


async def complete(provider: CompatProvider, request: CompletionRequest,
                   settings: ProviderSettings) -> CompletionResponse:
    """One non-streaming Chat Completions call.

    The plain ``create`` (not ``with_raw_response``): no header of a successful response is
    read, and an error status raises :class:`openai.APIStatusError`, which carries the response
    and its headers (``retry-after``, ``x-request-id``, ...) for the error hooks.
    """
    client = async_client(provider, settings, request.timeout)
    completion = await client.chat.completions.create(**request_kwargs(provider, request))
    return parse_completion(request, completion, sent_request(client, "chat/completions"))


def sent_request(client: Any, path: str) -> Callable[[], Any]:
    """A function building the ``httpx.Request`` a call to ``path`` made (method and URL; no
    headers, so no key), for an error found in a successful response's body."""

    def build() -> Any:
        import importlib

        url = client.base_url.join(path)
        http = importlib.import_module(type(url).__module__.partition(".")[0])  # the SDK's HTTP library
        return http.Request("POST", url)

    return build


class _ToolCallAssembler:
    """Joins streamed tool-call deltas (by ``index``) into complete calls."""

    def __init__(self) -> None:
        self.calls: dict[int, dict[str, Any]] = {}

    def add(self, delta: Any) -> None:
        index = getattr(delta, "index", None)
        if index is None:
            index = len(self.calls)
        call = self.calls.setdefault(index, {"id": "", "type": "function",
                                             "function": {"name": "", "arguments": ""}})
        if getattr(delta, "id", None):
            call["id"] = delta.id
        function = getattr(delta, "function", None)
        if function is not None:
            if getattr(function, "name", None):
                call["function"]["name"] += function.name
            if getattr(function, "arguments", None):
                call["function"]["arguments"] += function.arguments

    def done(self) -> list[dict[str, Any]]:
        return [self.calls[i] for i in sorted(self.calls)]


async def stream(provider: CompatProvider, request: CompletionRequest,
                 settings: ProviderSettings) -> AsyncIterator[StreamEvent]:
    """One streaming Chat Completions call: ``text`` deltas, one ``tool_call`` event per
    assembled call, then ``done`` with the full response."""
    import openai
    from massgen_plugins.types import CompletionResponse, Message, StreamEvent, ToolCall, Usage

    kwargs = request_kwargs(provider, request)
    kwargs["stream"] = True
    kwargs["stream_options"] = {"include_usage": True}
    client = async_client(provider, settings, request.timeout)
    sdk_stream = await client.chat.completions.create(**kwargs)
    text: list[str] = []
    tools = _ToolCallAssembler()
    finish_reason: str | None = None
    usage = Usage()
    response_id: str | None = None
    async with sdk_stream:
        async for chunk in sdk_stream:
            error = _body_error(chunk)
            if error is not None:  # an error object the SDK did not raise itself
                raise_body_error(error, sdk_stream.response.request)
            response_id = response_id or getattr(chunk, "id", None)
            if getattr(chunk, "usage", None) is not None:
                usage = Usage(input_tokens=chunk.usage.prompt_tokens or 0,
                              output_tokens=chunk.usage.completion_tokens or 0)
            for choice in chunk.choices or []:
                delta = choice.delta
                if delta is not None and delta.content:
                    text.append(delta.content)
                    yield StreamEvent(type="text", delta=delta.content)
                for call_delta in (getattr(delta, "tool_calls", None) or []):
                    tools.add(call_delta)
                if choice.finish_reason:
                    finish_reason = choice.finish_reason
    if finish_reason is None:
        raise openai.APIConnectionError(
            message="the stream ended before the model finished (no finish_reason)",
            request=sdk_stream.response.request,
        )
    calls = [ToolCall.model_validate(c) for c in tools.done()]
    for call in calls:
        yield StreamEvent(type="tool_call", tool_call=call)
    content = "".join(text) if text or not calls else None
    message = Message(role="assistant", content=content, tool_calls=calls or None)
    yield StreamEvent(type="done", response=CompletionResponse(
        model=request.model, message=message, finish_reason=finish_reason, usage=usage, id=response_id))

