"""Calls to the Anthropic API through the official ``anthropic`` SDK.

The SDK is imported inside each function, never at module import time. Every client is built
with ``max_retries=0`` (the host owns the one retry loop), the timeout from the settings or the
request, and the base URL from the settings (``ANTHROPIC_BASE_URL``).
"""

from __future__ import annotations

import datetime as _dt
import functools
import os
from collections.abc import AsyncIterator
from typing import Any

from massgen_plugins.errors import MissingCredentialsError
from massgen_plugins.types import (
    CompletionRequest,
    CompletionResponse,
    ModelInfo,
    ProviderSettings,
    StreamEvent,
    TokenCount,
    TokenCountRequest,
    ToolCall,
    Usage,
)

from .convert import (
    assistant_message,
    finish_reason,
    from_anthropic,
    to_anthropic,
    to_anthropic_tools,
    to_tool_choice,
    tool_call,
)
from .errors import TruncatedStreamError

PROVIDER = "anthropic"
KEY_ENV = "ANTHROPIC_API_KEY"
BASE_URL_ENV = "ANTHROPIC_BASE_URL"
DEFAULT_BASE_URL = "https://api.anthropic.com"
#: ``max_tokens`` is required by the Messages API; used when neither the request nor its options
#: set one (small enough for every current Claude model's output cap).
DEFAULT_MAX_TOKENS = 4096
#: Page size for ``GET /v1/models`` (the API allows 1-1000); ``settings.extra["page_size"]`` overrides.
DEFAULT_PAGE_SIZE = 100

# Options passed as named ``messages.create`` parameters when the installed SDK has them; anything
# else (including sampling parameters newer SDKs dropped, e.g. top_k) travels in extra_body.
_NAMED_OPTIONS = ("top_p", "top_k", "metadata", "thinking", "service_tier", "output_config")


@functools.lru_cache(maxsize=1)
def _sdk_parameters() -> frozenset[str]:
    import inspect

    import anthropic

    return frozenset(inspect.signature(anthropic.resources.messages.AsyncMessages.create).parameters)


def _key(settings: ProviderSettings) -> str:
    key = settings.key() or os.environ.get(KEY_ENV)
    if not key:
        raise MissingCredentialsError(
            f"no API key for provider 'anthropic': set {KEY_ENV} (for example: export {KEY_ENV}=...)"
        )
    return key


def _base_url(settings: ProviderSettings) -> str:
    return settings.base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL


def sync_client(settings: ProviderSettings) -> Any:
    """A synchronous ``anthropic.Anthropic`` client with SDK retries off."""
    import anthropic

    return anthropic.Anthropic(api_key=_key(settings), base_url=_base_url(settings),
                               timeout=settings.timeout, max_retries=0)


def async_client(settings: ProviderSettings, timeout: float | None = None) -> Any:
    """An ``anthropic.AsyncAnthropic`` client with SDK retries off, reused across calls on this event loop."""
    import anthropic
    from massgen_plugins import clients

    seconds = timeout or settings.timeout
    key = clients.config_key("anthropic-sdk", _key(settings), _base_url(settings), seconds)
    return clients.async_client(key, lambda: anthropic.AsyncAnthropic(api_key=_key(settings), base_url=_base_url(settings),
                                                          timeout=seconds, max_retries=0))


def _epoch(value: Any) -> int | None:
    if isinstance(value, _dt.datetime):
        return int(value.timestamp())
    if isinstance(value, str) and value:
        try:
            return int(_dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
        except ValueError:
            return None
    return None


def model_info(item: Any) -> ModelInfo:
    """A :class:`ModelInfo` from the SDK's ``ModelInfo`` (window and output cap when present)."""
    extra = getattr(item, "model_extra", None) or {}

    def field(name: str) -> Any:
        value = getattr(item, name, None)
        return extra.get(name) if value is None else value

    window, cap = field("max_input_tokens"), field("max_tokens")
    lifecycle = field("lifecycle")
    provenance = {"id": "api", "chat": "api"}
    if field("display_name"):
        provenance["display_name"] = "api"
    if window is not None:
        provenance["context_window"] = "api"
    if cap is not None:
        provenance["max_output_tokens"] = "api"
    return ModelInfo(
        provider=PROVIDER, id=item.id, display_name=field("display_name"),
        context_window=int(window) if window is not None else None,
        max_output_tokens=int(cap) if cap is not None else None,
        chat=True, kind="chat", tokenizer="api", created=_epoch(field("created_at")),
        deprecated=(lifecycle in ("deprecated", "retired")) if lifecycle else None,
        provenance=provenance,
    )


def list_models(settings: ProviderSettings) -> list[ModelInfo]:
    """Every model ``GET /v1/models`` lists, following ``has_more``/``after_id`` to the last page."""
    page_size = int(settings.extra.get("page_size", DEFAULT_PAGE_SIZE))
    with sync_client(settings) as client:
        return [model_info(item) for item in client.models.list(limit=page_size)]


def default_max_tokens(model: str) -> int:
    """``max_tokens`` when the caller set none: :data:`DEFAULT_MAX_TOKENS`, lowered to the model's
    output cap when the registry already knows it (offline lookup only: cache and bundled data)."""
    try:
        from massgen_plugins.registry.lookup import get_model_info

        cap = get_model_info(model, offline=True).max_output_tokens
    except Exception:  # unknown model, empty cache, registry not importable: fall back
        cap = None
    return min(DEFAULT_MAX_TOKENS, cap) if cap else DEFAULT_MAX_TOKENS


def _create_args(request: CompletionRequest) -> dict[str, Any]:
    system, messages = to_anthropic(request.messages)
    options = dict(request.options)
    max_tokens = request.max_tokens or options.pop("max_tokens", None) or default_max_tokens(request.model)
    args: dict[str, Any] = {"model": request.model_id, "messages": messages, "max_tokens": int(max_tokens)}
    options.pop("max_tokens", None)
    if system:
        args["system"] = system
    if request.tools:
        args["tools"] = to_anthropic_tools(request.tools)
        choice = to_tool_choice(options.pop("tool_choice", None))
        if choice:
            if options.pop("parallel_tool_calls", None) is False and choice["type"] in ("auto", "any", "tool"):
                choice["disable_parallel_tool_use"] = True
            args["tool_choice"] = choice
    options.pop("tool_choice", None)
    options.pop("parallel_tool_calls", None)
    if request.temperature is not None:
        # anthropic 2.x dropped ``temperature`` from ``messages.create``'s signature (it raises
        # TypeError); models that still take it get it in the body
        args.setdefault("extra_body", {})["temperature"] = request.temperature
    stop = options.pop("stop", None) or options.pop("stop_sequences", None)
    if stop:
        args["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    named = _sdk_parameters()
    for name in _NAMED_OPTIONS:
        if name in options and name in named:
            args[name] = options.pop(name)
    if "extra_headers" in options:
        args["extra_headers"] = options.pop("extra_headers")
    if options:
        args["extra_body"] = {**args.get("extra_body", {}), **options}
    return args


def raise_body_error(message: Any, settings: ProviderSettings) -> None:
    """Raise ``APIStatusError`` for an error object in an HTTP 200 body.

    The SDK reads ``{"type": "error", "error": {...}}`` with status 200 as a ``Message`` of
    type ``error`` and no content (an empty reply). It is raised instead with the same shape the
    SDK gives an ``event: error`` inside a stream (status 200, the full body), so the host's
    classifier treats both alike.
    """
    if getattr(message, "type", None) != "error":
        return
    import anthropic

    try:  # the HTTP library this SDK version is built on (newer versions use the httpx2 fork)
        import httpx2 as http
    except ImportError:  # pragma: no cover - older SDKs
        import httpx as http  # type: ignore[no-redef]

    extra = getattr(message, "model_extra", None) or {}
    found = extra.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {"type": "api_error"}
    body = {"type": "error", "error": error}
    text = str(error.get("message") or "the Anthropic API returned an error in an HTTP 200 body")
    request = http.Request("POST", _base_url(settings).rstrip("/") + "/v1/messages")
    headers = {"request-id": str(extra["request_id"])} if extra.get("request_id") else {}
    response = http.Response(200, json=body, headers=headers, request=request)
    raise anthropic.APIStatusError(text, response=response, body=body)


async def complete(request: CompletionRequest, settings: ProviderSettings) -> CompletionResponse:
    """One non-streaming ``POST /v1/messages``; SDK exceptions propagate unchanged, and an error
    object in an HTTP 200 body is raised (:func:`raise_body_error`)."""
    client = async_client(settings, request.timeout)
    message = await client.messages.create(**_create_args(request))
    raise_body_error(message, settings)
    return from_anthropic(message, request.model)


async def stream(request: CompletionRequest, settings: ProviderSettings) -> AsyncIterator[StreamEvent]:
    """A streaming ``POST /v1/messages``: text deltas, complete tool calls, then ``done``.

    An ``event: error`` inside the stream is raised by the SDK as ``APIStatusError`` with
    ``status_code == 200``; it propagates unchanged so the host's detectors see it.
    """
    client = async_client(settings, request.timeout)
    texts: list[str] = []
    calls: list[ToolCall] = []
    blocks: dict[int, dict[str, Any]] = {}
    thinking: list[dict[str, Any]] = []
    usage = Usage()
    message_id: str | None = None
    stop_reason: str | None = None
    finished = False
    events = await client.messages.create(**_create_args(request), stream=True)
    try:
        async for event in events:
            kind = event.type
            if kind == "message_start":
                message_id = event.message.id
                usage.input_tokens = getattr(event.message.usage, "input_tokens", 0) or 0
                usage.output_tokens = getattr(event.message.usage, "output_tokens", 0) or 0
            elif kind == "content_block_start":
                block = event.content_block
                blocks[event.index] = {"type": block.type, "id": getattr(block, "id", None),
                                       "name": getattr(block, "name", None), "json": [],
                                       "thinking": [getattr(block, "thinking", "") or ""],
                                       "signature": getattr(block, "signature", "") or "",
                                       "data": getattr(block, "data", None)}
                if block.type == "text" and getattr(block, "text", ""):
                    texts.append(block.text)
                    yield StreamEvent(type="text", delta=block.text)
            elif kind == "content_block_delta":
                delta = event.delta
                if delta.type == "text_delta":
                    texts.append(delta.text)
                    yield StreamEvent(type="text", delta=delta.text)
                elif delta.type == "input_json_delta":
                    blocks.setdefault(event.index, {"type": "tool_use", "json": []})["json"].append(
                        delta.partial_json)
                elif delta.type == "thinking_delta" and event.index in blocks:
                    blocks[event.index]["thinking"].append(delta.thinking)
                    yield StreamEvent(type="reasoning", delta=delta.thinking)
                elif delta.type == "signature_delta" and event.index in blocks:
                    blocks[event.index]["signature"] += delta.signature
            elif kind == "content_block_stop":
                block = blocks.pop(event.index, None)
                if block and block["type"] == "tool_use":
                    call = tool_call(block["id"], block["name"], "".join(block["json"]) or "{}")
                    calls.append(call)
                    yield StreamEvent(type="tool_call", tool_call=call)
                elif block and block["type"] == "thinking":
                    thinking.append({"type": "thinking", "thinking": "".join(block["thinking"]),
                                     "signature": block["signature"]})
                elif block and block["type"] == "redacted_thinking":
                    thinking.append({"type": "redacted_thinking", "data": block["data"]})
            elif kind == "message_delta":
                stop_reason = getattr(event.delta, "stop_reason", None) or stop_reason
                out = getattr(event.usage, "output_tokens", None)
                if out is not None:
                    usage.output_tokens = out
                inp = getattr(event.usage, "input_tokens", None)
                if inp:
                    usage.input_tokens = inp
            elif kind == "message_stop":
                finished = True
    finally:
        await events.close()
    if not finished:
        raise TruncatedStreamError(
            f"the Anthropic stream for {request.model} ended before message_stop "
            f"({len(''.join(texts))} characters of text had arrived): the answer is incomplete")
    response = CompletionResponse(
        model=request.model, id=message_id, message=assistant_message(texts, calls, thinking),
        finish_reason=finish_reason(stop_reason), usage=usage,
    )
    yield StreamEvent(type="done", response=response)


def count_tokens(request: TokenCountRequest, settings: ProviderSettings) -> TokenCount:
    """Exact input tokens from ``POST /v1/messages/count_tokens`` (messages, system and tools)."""
    system, messages = to_anthropic(request.messages)
    args: dict[str, Any] = {"model": request.model.split("/", 1)[1], "messages": messages}
    if system:
        args["system"] = system
    if request.tools:
        args["tools"] = to_anthropic_tools(request.tools)
    with sync_client(settings) as client:
        result = client.messages.count_tokens(**args)
    return TokenCount(tokens=int(result.input_tokens), method="api", exact=True, margin=0.0)
