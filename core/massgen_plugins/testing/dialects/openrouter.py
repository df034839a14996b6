"""OpenRouter: OpenAI-compatible under ``/api/v1``; numeric ``error.code`` with ``metadata``;
errors that happen after a stream started arrive with HTTP 200 as an SSE chunk carrying
``error`` and ``finish_reason: "error"`` (as the provider documents them)."""

from __future__ import annotations

import time
from typing import Any

from ..spec import EmulatedModel, Fault
from .base import Reply, Request, retry_headers, sse
from .openai_compat import OpenAICompatDialect

_PROCESSING = b": OPENROUTER PROCESSING\n\n"


def or_error(message: str, code: int, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"message": message, "code": code}
    if metadata is not None:
        err["metadata"] = metadata
    return {"error": err}


class OpenRouterDialect(OpenAICompatDialect):
    provider = "openrouter"
    root = "/api/v1"

    def needs_credentials(self, req: Request) -> bool:
        return not (req.method == "GET" and req.path.startswith(self.root + "/models"))  # a public catalogue

    def unauthenticated(self, req: Request) -> Reply:
        # OpenRouter's 401 (musistudio/claude-code-router#227 quotes the body)
        return self.error_reply(401, {"error": {"message": "No auth credentials found", "code": 401}})

    def model_json(self, m: EmulatedModel) -> dict[str, Any]:
        author = m.id.split("/", 1)[0]
        data = {
            "id": m.id, "canonical_slug": m.id, "hugging_face_id": "", "name": m.display_name or m.id,
            "created": m.created, "description": f"{m.display_name or m.id} (emulated)",
            "context_length": m.context_window,
            "architecture": {"modality": "text->text", "input_modalities": ["text"], "output_modalities": ["text"],
                             "tokenizer": "Other", "instruct_type": None},
            "pricing": {"prompt": "0.0000025", "completion": "0.00001", "request": "0", "image": "0",
                        "web_search": "0", "internal_reasoning": "0"},
            "top_provider": {"context_length": m.context_window, "max_completion_tokens": m.max_output,
                             "is_moderated": author == "openai"},
            "per_request_limits": None,
            "supported_parameters": ["max_tokens", "temperature", "tools", "tool_choice", "stream", "stop"],
            "default_parameters": {},
        }
        data.update(m.extra)
        return data

    def base_headers(self) -> dict[str, str]:
        return {"x-generation-id": self.next_id("gen-")}

    def overflow_error(self, m: EmulatedModel, prompt: int, output: int, stated_output: bool) -> tuple[int, Any]:
        return 400, or_error(
            f"This endpoint's maximum context length is {m.context_window} tokens. However, you requested about "
            f"{prompt + output} tokens ({prompt} of text input, {output} in the output). Please reduce the length "
            "of either one, or use the context-compression plugin to compress your prompt automatically.",
            400, {"provider_name": None})

    def overflow_reply(self, req: Request, m: EmulatedModel, prompt: int, output: int, stated_output: bool,
                       stream: bool) -> Reply:
        if not stream:
            return super().overflow_reply(req, m, prompt, output, stated_output, stream)
        _, body = self.overflow_error(m, prompt, output, stated_output)
        return self.error_stream(req, body["error"])

    def error_stream(self, req: Request, error: dict[str, Any]) -> Reply:
        """HTTP 200 and an SSE chunk carrying ``error`` (OpenRouter's mid-stream error form)."""
        return Reply(events=[_PROCESSING, self.error_chunk(req, error), sse("[DONE]")],
                     headers=self.base_headers(), content_type="text/event-stream")

    def error_chunk(self, req: Request, error: dict[str, Any]) -> bytes:
        model = req.record.model or "model"
        return sse({"id": self.next_id("gen-"), "object": "chat.completion.chunk", "created": int(time.time()),
                    "model": model, "provider": "emulator", "error": error,
                    "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error",
                                 "native_finish_reason": "error"}]})

    def output_cap_error(self, m: EmulatedModel, param: str, requested: int) -> Reply:
        return self.error_reply(400, or_error(
            f"{param} is too large: {requested}. This model supports at most {m.max_output} completion tokens, "
            f"whereas you provided {requested}.", 400, {"provider_name": "emulator"}))

    def unknown_model(self, model_id: str) -> Reply:
        return self.error_reply(400, or_error(f"{model_id} is not a valid model ID", 400))

    def not_found(self, req: Request) -> Reply:
        return self.error_reply(404, or_error("Not Found", 404))

    def error_for(self, kind: str, req: Request, fault: Fault) -> tuple[int, Any, dict[str, str]]:
        model = self.model_name(req)
        if kind == "rate_limit":
            return 429, or_error(fault.message or (
                f"Rate limit exceeded: limit_rpm/{model}. High demand for {model} on OpenRouter - limited to 20 "
                "requests per minute. Please retry shortly."), 429,
                {"headers": {"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0"}}), retry_headers(fault)
        if kind == "quota":
            return 402, or_error(fault.message or (
                "This request requires more credits, or fewer max_tokens. You requested up to 4096 tokens, but can "
                "only afford 1234. To increase, visit https://openrouter.ai/settings/credits and upgrade to a paid "
                "account"), 402), {}
        if kind == "server_error":
            return 500, or_error(fault.message or "Internal Server Error", 500), {}
        if kind == "unavailable":
            return 503, or_error(fault.message or (
                "No endpoints found that can handle the requested parameters."), 503), retry_headers(fault)
        if kind == "overloaded":
            return 502, or_error(fault.message or "Overloaded", 502,
                                 {"provider_name": "emulator", "raw": "overloaded"}), retry_headers(fault)
        if kind == "payload_too_large":
            return 413, or_error(fault.message or "Request Entity Too Large: the request body is too large.", 413), {}
        if kind == "http200_error":
            return 200, or_error(fault.message or "Provider returned error", 502,
                                 {"provider_name": "emulator", "raw": "upstream error"}), {}
        raise ValueError(kind)

    def fault_reply(self, req: Request, fault: Fault) -> Reply:
        status, body, headers = self.error_for(fault.kind, req, fault)
        if fault.kind == "http200_error" and req.record.stream:
            return self.error_stream(req, body["error"])
        return self.error_reply(status, body, headers)

    def stream_error_frames(self, req: Request, fault: Fault, reply: Reply, sent: int) -> list[bytes]:
        return [self.error_chunk(req, self.stream_error_object(req, fault)), sse("[DONE]")]
