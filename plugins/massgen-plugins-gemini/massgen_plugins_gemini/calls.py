"""Calls to the Gemini Developer API through the official ``google-genai`` SDK.

The SDK is imported inside each function. Quirks handled here:

* google-genai 3.x defaults to API version ``v1``; the client is pinned to ``v1beta`` (system
  instructions, tools and ``parameters_json_schema`` all live there), overridable with
  ``settings.extra["api_version"]``;
* the base URL comes from the settings (``GEMINI_BASE_URL``), never from the SDK's own
  ``GOOGLE_GEMINI_BASE_URL``, and ``vertexai=False`` is explicit so ``GOOGLE_GENAI_USE_VERTEXAI``
  in the environment cannot switch backends;
* google-genai does not retry unless ``retry_options`` are given: none are, so the host's loop
  is the only one; the SDK runs on httpx clients the plugin injects (see :class:`GeminiClient`),
  so an installed aiohttp cannot bring its hidden connection retry back;
* ``timeout`` is given to the SDK in milliseconds;
* automatic function calling is disabled: tool calls are returned to the caller.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, cast

from massgen_plugins.errors import MissingCredentialsError
from massgen_plugins.types import (
    CompletionRequest,
    CompletionResponse,
    Message,
    ModelInfo,
    ProviderSettings,
    StreamEvent,
    TokenCount,
    TokenCountRequest,
    ToolCall,
    Usage,
)

from .convert import finish_reason, from_gemini, split_parts, to_gemini, to_gemini_tools, to_tool_config, usage_of
from .errors import TruncatedStreamError

if TYPE_CHECKING:
    from google.genai import types as gtypes

PROVIDER = "gemini"
KEY_ENVS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
BASE_URL_ENV = "GEMINI_BASE_URL"
DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
API_VERSION = "v1beta"
#: ``pageSize`` for ``GET models`` (API default 50, max 1000); ``settings.extra["page_size"]`` overrides.
DEFAULT_PAGE_SIZE = 200

_NAMED_OPTIONS = ("top_p", "top_k", "candidate_count", "seed", "presence_penalty", "frequency_penalty",
                  "response_mime_type", "response_json_schema", "thinking_config", "safety_settings",
                  "response_modalities", "cached_content", "labels", "media_resolution")


def _key(settings: ProviderSettings) -> str:
    key = settings.key() or next((os.environ[v] for v in KEY_ENVS if os.environ.get(v)), None)
    if not key:
        raise MissingCredentialsError(
            "no API key for provider 'gemini': set GEMINI_API_KEY or GOOGLE_API_KEY "
            "(for example: export GEMINI_API_KEY=...)"
        )
    return key


class GeminiClient:
    """A ``google.genai.Client`` plus the httpx clients it runs on, closed together.

    google-genai picks its transport from what is importable: aiohttp for async calls when
    aiohttp is installed (then a failed connection is retried once, after sleeping 1-10 s,
    behind the caller's back), else httpx2, else httpx. Injecting our own ``httpx`` clients makes
    the transport the same everywhere, keeps the SDK free of hidden retries, and still honours
    the usual proxy environment variables.
    """

    def __init__(self, settings: ProviderSettings, timeout: float | None = None) -> None:
        import httpx
        from google import genai
        from google.genai import types

        seconds = float(timeout or settings.timeout)
        self._sync = httpx.Client(timeout=seconds)
        self._async = httpx.AsyncClient(timeout=seconds, event_hooks={"response": [raise_body_error]})
        options = types.HttpOptions(
            base_url=settings.base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL,
            api_version=str(settings.extra.get("api_version", API_VERSION)),
            timeout=int(seconds * 1000),
            httpx_client=self._sync,
            httpx_async_client=self._async,
        )
        self.sdk = genai.Client(api_key=_key(settings), vertexai=False, http_options=options)

    def close(self) -> None:
        self.sdk.close()
        self._sync.close()

    async def aclose(self) -> None:
        await self.sdk.aio.aclose()
        await self._async.aclose()
        self.close()


async def raise_body_error(response: Any) -> None:
    """Raise the SDK's error for an error object in an HTTP 200 ``generateContent`` body.

    The SDK would read ``{"error": {...}}`` with status 200 as a reply without candidates (an
    empty answer); this httpx response hook raises ``ServerError``/``ClientError`` for the code
    inside instead, so the host retries or reports it. Streams are left alone: their error
    chunks are raised by the SDK already.
    """
    if response.status_code != 200 or not response.request.url.path.endswith(":generateContent"):
        return
    await response.aread()
    try:
        body = response.json()
    except ValueError:
        return
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return
    from google.genai import errors

    stated = error.get("code")
    code = stated if isinstance(stated, int) else 500
    kind = errors.ServerError if code >= 500 else errors.ClientError if code >= 400 else errors.APIError
    raise kind(code, body, response)


def client(settings: ProviderSettings, timeout: float | None = None) -> GeminiClient:
    """A Developer-API client pinned to ``v1beta``, on httpx, without retries."""
    return GeminiClient(settings, timeout)


def _kind(actions: list[str], model_id: str) -> str:
    """What a model is for, from ``supportedGenerationMethods`` (and the id for speech models)."""
    if "generateContent" in actions or "streamGenerateContent" in actions:
        return "tts" if model_id.endswith("-tts") or "-tts-" in model_id else "chat"
    if "embedContent" in actions or "embedText" in actions or "batchEmbedContents" in actions:
        return "embedding"
    if "predict" in actions or "predictLongRunning" in actions:
        return "image" if "imagen" in model_id else "video" if "veo" in model_id else "other"
    if "bidiGenerateContent" in actions:
        return "live"
    return "other"


def model_info(item: Any) -> ModelInfo:
    """A :class:`ModelInfo` from the SDK's ``Model`` (``name`` is ``models/<id>``)."""
    model_id = (item.name or "").removeprefix("models/")
    actions = list(item.supported_actions or [])
    kind = _kind(actions, model_id)
    provenance = {"id": "api", "chat": "api", "kind": "api"}
    for field, value in (("display_name", item.display_name), ("context_window", item.input_token_limit),
                         ("max_output_tokens", item.output_token_limit)):
        if value is not None:
            provenance[field] = "api"
    return ModelInfo(
        provider=PROVIDER, id=model_id, display_name=item.display_name,
        context_window=item.input_token_limit, max_output_tokens=item.output_token_limit,
        chat="generateContent" in actions and kind == "chat", kind=kind, tokenizer="api", provenance=provenance,
        supported_actions=actions,
    )


def list_models(settings: ProviderSettings) -> list[ModelInfo]:
    """Every base model ``GET /v1beta/models`` lists, following ``nextPageToken`` to the end."""
    page_size = int(settings.extra.get("page_size", DEFAULT_PAGE_SIZE))
    c = client(settings)
    try:
        return [model_info(item) for item in c.sdk.models.list(config={"page_size": page_size})]
    finally:
        c.close()


def _config(request: CompletionRequest, system: str | None) -> dict[str, Any]:
    options = dict(request.options)
    config: dict[str, Any] = {"automatic_function_calling": {"disable": True}}
    if system:
        config["system_instruction"] = system
    if request.tools:
        config["tools"] = to_gemini_tools(request.tools)
        tool_config = to_tool_config(options.pop("tool_choice", None))
        if tool_config:
            config["tool_config"] = tool_config
    options.pop("tool_choice", None)
    options.pop("parallel_tool_calls", None)
    max_tokens = request.max_tokens or options.pop("max_tokens", None) or options.pop("max_output_tokens", None)
    options.pop("max_tokens", None)
    options.pop("max_output_tokens", None)
    if max_tokens:
        config["max_output_tokens"] = int(max_tokens)
    if request.temperature is not None:
        config["temperature"] = request.temperature
    stop = options.pop("stop", None) or options.pop("stop_sequences", None)
    if stop:
        config["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    for name in _NAMED_OPTIONS:
        if name in options:
            config[name] = options.pop(name)
    if options:
        config["http_options"] = {"extra_body": options}
    return config


def _sdk(contents: list[dict[str, Any]]) -> list[gtypes.ContentDict]:
    """Our contents are plain dicts in the API's JSON shape, which the SDK accepts as ``ContentDict``."""
    return cast("list[gtypes.ContentDict]", contents)


def _sdk_config(request: CompletionRequest, system: str | None) -> gtypes.GenerateContentConfigDict:
    return cast("gtypes.GenerateContentConfigDict", _config(request, system))


async def complete(request: CompletionRequest, settings: ProviderSettings) -> CompletionResponse:
    """One ``models/{m}:generateContent``; SDK exceptions propagate unchanged."""
    system, contents = to_gemini(request.messages, request.model)
    c = client(settings, request.timeout)
    try:
        response = await c.sdk.aio.models.generate_content(model=request.model_id, contents=_sdk(contents),
                                                           config=_sdk_config(request, system))
    finally:
        await c.aclose()
    return from_gemini(response, request.model)


async def stream(request: CompletionRequest, settings: ProviderSettings) -> AsyncIterator[StreamEvent]:
    """``models/{m}:streamGenerateContent?alt=sse``: text deltas, tool calls, then ``done``.

    An ``{"error": ...}`` chunk mid-stream is raised by the SDK as ``ClientError``/``ServerError``
    during iteration; it propagates unchanged.
    """
    system, contents = to_gemini(request.messages, request.model)
    c = client(settings, request.timeout)
    texts: list[str] = []
    calls: list[ToolCall] = []
    usage = Usage()
    reason: Any = None
    response_id: str | None = None
    try:
        chunks = await c.sdk.aio.models.generate_content_stream(model=request.model_id, contents=_sdk(contents),
                                                                config=_sdk_config(request, system))
        async for chunk in chunks:
            response_id = getattr(chunk, "response_id", None) or response_id
            pieces, new_calls, chunk_reason = split_parts(chunk)
            reason = chunk_reason or reason
            for piece in pieces:
                texts.append(piece)
                yield StreamEvent(type="text", delta=piece)
            for call in new_calls:
                calls.append(call)
                yield StreamEvent(type="tool_call", tool_call=call)
            usage = usage_of(chunk) or usage
    finally:
        await c.aclose()
    if reason is None:
        raise TruncatedStreamError(
            f"the Gemini stream for {request.model} ended without a finishReason "
            f"({len(''.join(texts))} characters of text had arrived): the answer is incomplete")
    response = CompletionResponse(
        model=request.model, id=response_id,
        message=Message(role="assistant", content="".join(texts) or None, tool_calls=calls or None),
        finish_reason=finish_reason(reason, bool(calls)), usage=usage,
    )
    yield StreamEvent(type="done", response=response)


def count_tokens(request: TokenCountRequest, settings: ProviderSettings) -> TokenCount:
    """Input tokens from ``models/{m}:countTokens``.

    In Developer-API mode the SDK accepts only ``contents`` (a ``system_instruction`` or ``tools``
    in the config raise ``ValueError`` client-side), so the system prompt is counted as a leading
    user part -- the same text, so the count is exact -- and tool schemas as their JSON text, which
    is an approximation: with tools the result is marked inexact with a small margin.
    """
    import json

    system, contents = to_gemini(request.messages, request.model)
    prefix: list[dict[str, Any]] = []
    if system:
        prefix.append({"text": system})
    if request.tools:
        prefix.append({"text": json.dumps(to_gemini_tools(request.tools), default=str)})
    if prefix:
        if contents and contents[0]["role"] == "user":
            contents[0] = {"role": "user", "parts": prefix + contents[0]["parts"]}
        else:
            contents.insert(0, {"role": "user", "parts": prefix})
    c = client(settings)
    try:
        result = c.sdk.models.count_tokens(model=request.model.split("/", 1)[1], contents=_sdk(contents))
    finally:
        c.close()
    exact = not request.tools
    return TokenCount(tokens=int(result.total_tokens or 0), method="api", exact=exact,
                      margin=0.0 if exact else 0.05)
