"""Calls to Groq through the official ``groq`` SDK (imported inside each function).

Clients are built with ``max_retries=0`` (the host owns retries), the timeout from the settings
or the request, and the base URL from the settings (``GROQ_BASE_URL``; the SDK appends
``/openai/v1/...`` itself).
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from typing import Any

from massgen_plugins.errors import MissingCredentialsError
from massgen_plugins.types import (
    CompletionRequest,
    CompletionResponse,
    Message,
    ModelInfo,
    ProviderSettings,
    StreamEvent,
    ToolCall,
    Usage,
)

from .convert import from_groq, to_groq, to_groq_tools
from .errors import TruncatedStreamError

PROVIDER = "groq"
KEY_ENV = "GROQ_API_KEY"
BASE_URL_ENV = "GROQ_BASE_URL"
DEFAULT_BASE_URL = "https://api.groq.com"

_NAMED_OPTIONS = ("top_p", "seed", "stop", "presence_penalty", "frequency_penalty", "response_format",
                  "parallel_tool_calls", "reasoning_effort", "reasoning_format", "include_reasoning",
                  "service_tier", "user", "logprobs", "top_logprobs", "n", "metadata", "search_settings",
                  "compound_custom", "documents", "citation_options", "logit_bias")

# Model ids that are not chat models, by what they are for (Groq lists them all in one list).
_KINDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"whisper|distil-whisper", re.I), "transcription"),
    (re.compile(r"(?:^|[-/])tts|playai-tts|orpheus", re.I), "tts"),
    (re.compile(r"guard|safeguard|prompt-guard", re.I), "moderation"),
    (re.compile(r"embed", re.I), "embedding"),
)


def _key(settings: ProviderSettings) -> str:
    key = settings.key() or os.environ.get(KEY_ENV)
    if not key:
        raise MissingCredentialsError(
            f"no API key for provider 'groq': set {KEY_ENV} (for example: export {KEY_ENV}=...)"
        )
    return key


def _base_url(settings: ProviderSettings) -> str:
    return settings.base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL


def sync_client(settings: ProviderSettings) -> Any:
    """A synchronous ``groq.Groq`` client with SDK retries off."""
    import groq

    return groq.Groq(api_key=_key(settings), base_url=_base_url(settings), timeout=settings.timeout,
                     max_retries=0)


def async_client(settings: ProviderSettings, timeout: float | None = None) -> Any:
    """A ``groq.AsyncGroq`` client with SDK retries off, reused across calls on this event loop."""
    import groq
    from massgen_plugins import clients

    seconds = timeout or settings.timeout
    key = clients.config_key("groq-sdk", _key(settings), _base_url(settings), seconds)
    return clients.async_client(key, lambda: groq.AsyncGroq(api_key=_key(settings), base_url=_base_url(settings),
                                                          timeout=seconds, max_retries=0))


def kind_of(model_id: str) -> str:
    """``chat``, or what a non-chat model in Groq's list is for (transcription, tts, moderation, ...)."""
    for pattern, kind in _KINDS:
        if pattern.search(model_id):
            return kind
    return "chat"


def model_info(item: Any) -> ModelInfo:
    """A :class:`ModelInfo` from the SDK's ``Model`` (extra wire fields such as ``context_window``)."""
    extra = getattr(item, "model_extra", None) or {}
    window = extra.get("context_window")
    cap = extra.get("max_completion_tokens")
    kind = kind_of(item.id)
    provenance = {"id": "api", "kind": "api"}
    if window is not None:
        provenance["context_window"] = "api"
    if cap is not None:
        provenance["max_output_tokens"] = "api"
    return ModelInfo(
        provider=PROVIDER, id=item.id, context_window=int(window) if window is not None else None,
        max_output_tokens=int(cap) if cap is not None else None, chat=kind == "chat", kind=kind,
        created=getattr(item, "created", None), provenance=provenance,
        owned_by=getattr(item, "owned_by", None), active=extra.get("active"),
    )


def list_models(settings: ProviderSettings) -> list[ModelInfo]:
    """Every model ``GET /openai/v1/models`` lists (one page: the endpoint is not paginated)."""
    with sync_client(settings) as client:
        return [model_info(item) for item in client.models.list().data]


def _create_args(request: CompletionRequest) -> dict[str, Any]:
    options = dict(request.options)
    args: dict[str, Any] = {"model": request.model_id, "messages": to_groq(request.messages)}
    max_tokens = request.max_tokens or options.pop("max_tokens", None) or options.pop("max_completion_tokens", None)
    options.pop("max_tokens", None)
    options.pop("max_completion_tokens", None)
    if max_tokens:
        args["max_completion_tokens"] = int(max_tokens)
    if request.temperature is not None:
        args["temperature"] = request.temperature
    if request.tools:
        args["tools"] = to_groq_tools(request.tools)
        if "tool_choice" in options:
            args["tool_choice"] = options.pop("tool_choice")
    options.pop("tool_choice", None)
    for name in _NAMED_OPTIONS:
        if name in options:
            args[name] = options.pop(name)
    if "extra_headers" in options:
        args["extra_headers"] = options.pop("extra_headers")
    if options:
        args["extra_body"] = options
    return args


async def complete(request: CompletionRequest, settings: ProviderSettings) -> CompletionResponse:
    """One non-streaming ``POST /openai/v1/chat/completions``; SDK exceptions propagate unchanged."""
    client = async_client(settings, request.timeout)
    completion = await client.chat.completions.create(**_create_args(request))
    return from_groq(completion, request.model)


async def stream(request: CompletionRequest, settings: ProviderSettings) -> AsyncIterator[StreamEvent]:
    """A streaming chat completion: text deltas, complete tool calls, then ``done``.

    Tool-call fragments (by ``index``) are assembled and emitted once the stream says why it
    stopped. An ``error`` inside the stream is raised by the SDK as ``groq.APIError``.
    """
    client = async_client(settings, request.timeout)
    texts: list[str] = []
    pending: dict[int, dict[str, Any]] = {}
    calls: list[ToolCall] = []
    usage = Usage()
    reason: str | None = None
    completion_id: str | None = None

    def flush() -> list[ToolCall]:
        done = [ToolCall(id=p["id"] or f"call_{i}", function={"name": p["name"], "arguments": "".join(p["args"]) or "{}"})
                for i, p in sorted(pending.items())]
        pending.clear()
        calls.extend(done)
        return done

    chunks = await client.chat.completions.create(**_create_args(request), stream=True)
    try:
        async for chunk in chunks:
            completion_id = chunk.id or completion_id
            chunk_usage = getattr(chunk, "usage", None) or getattr(getattr(chunk, "x_groq", None), "usage", None)
            if chunk_usage is not None:
                usage = Usage(input_tokens=getattr(chunk_usage, "prompt_tokens", 0) or 0,
                              output_tokens=getattr(chunk_usage, "completion_tokens", 0) or 0)
            for choice in chunk.choices[:1]:
                delta = choice.delta
                if delta.content:
                    texts.append(delta.content)
                    yield StreamEvent(type="text", delta=delta.content)
                for fragment in delta.tool_calls or []:
                    slot = pending.setdefault(fragment.index, {"id": None, "name": "", "args": []})
                    if fragment.id:
                        slot["id"] = fragment.id
                    if fragment.function is not None:
                        if fragment.function.name:
                            slot["name"] += fragment.function.name
                        if fragment.function.arguments:
                            slot["args"].append(fragment.function.arguments)
                if choice.finish_reason:
                    reason = choice.finish_reason
                    for call in flush():
                        yield StreamEvent(type="tool_call", tool_call=call)
    finally:
        await chunks.close()
    if reason is None:
        raise TruncatedStreamError(
            f"the Groq stream for {request.model} ended without a finish_reason "
            f"({len(''.join(texts))} characters of text had arrived): the answer is incomplete")
    response = CompletionResponse(
        model=request.model, id=completion_id,
        message=Message(role="assistant", content="".join(texts) or None, tool_calls=calls or None),
        finish_reason=reason, usage=usage,
    )
    yield StreamEvent(type="done", response=response)
