"""xAI: OpenAI-compatible under ``/v1`` plus ``/v1/language-models``; errors carry a *string*
``error`` next to a gRPC-status ``code`` text (as the provider documents them)."""

from __future__ import annotations

from typing import Any

from ..spec import EmulatedModel, Fault
from .base import HttpError, Reply, Request, retry_headers, sse
from .openai_compat import OpenAICompatDialect

_INVALID = "Client specified an invalid argument"
_EXHAUSTED = "Some resource has been exhausted"


def xai_error(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "error": message}


class XAIDialect(OpenAICompatDialect):
    provider = "xai"
    root = "/v1"

    def unauthenticated(self, req: Request) -> Reply:
        # xAI refuses an unusable key with a 400 in its own envelope (i-am-bee/beeai-framework#447)
        return self.error_reply(400, xai_error(_INVALID, "Incorrect API key provided: . You can obtain an API key "
                                                         "from https://console.x.ai."))
    owned_by = "xai"

    def route_more(self, req: Request, sub: str, fault: Fault | None) -> Reply:
        if req.method == "GET" and sub == "/language-models":
            chat = [m for m in self.catalogue() if m.is_chat]
            return Reply(body={"models": [self.language_model_json(m) for m in chat]}, headers=self.base_headers())
        if req.method == "GET" and sub.startswith("/language-models/"):
            m = self.find_model(sub[len("/language-models/"):])
            if m is None or not m.is_chat:
                raise HttpError(self.unknown_model(sub[len("/language-models/"):]))
            return Reply(body=self.language_model_json(m), headers=self.base_headers())
        raise HttpError(self.not_found(req))

    def language_model_json(self, m: EmulatedModel) -> dict[str, Any]:
        data = {"id": m.id, "fingerprint": "fp_emulator", "created": m.created, "object": "model",
                "owned_by": m.owned_by or "xai", "version": "1.0.0", "input_modalities": ["text"],
                "output_modalities": ["text"], "prompt_text_token_price": 20000,
                "cached_prompt_text_token_price": 5000, "prompt_image_token_price": 0,
                "completion_text_token_price": 100000, "search_price": 0, "aliases": []}
        data.update(m.extra)
        return data

    def not_found(self, req: Request) -> Reply:
        return self.error_reply(404, xai_error("Some requested entity was not found",
                                               f"The requested path {req.path} was not found."))

    def unknown_model(self, model_id: str) -> Reply:
        return self.error_reply(404, xai_error(
            "Some requested entity was not found",
            f"The model {model_id} does not exist or your team does not have access to it."))

    def not_chat(self, m: EmulatedModel) -> Reply:
        return self.error_reply(400, xai_error(_INVALID, f"The model {m.id} does not support chat completions."))

    def output_cap_error(self, m: EmulatedModel, param: str, requested: int) -> Reply:
        return self.error_reply(400, xai_error(
            _INVALID, f"Invalid request: {param} must be at most {m.max_output} for model {m.id}, got {requested}."))

    def overflow_error(self, m: EmulatedModel, prompt: int, output: int, stated_output: bool) -> tuple[int, Any]:
        return 400, xai_error(_INVALID, f"This model's maximum prompt length is {m.context_window} but the request "
                                        f"contains {prompt + output} tokens.")

    def error_for(self, kind: str, req: Request, fault: Fault) -> tuple[int, Any, dict[str, str]]:
        model = self.model_name(req)
        if kind == "rate_limit":
            return 429, xai_error(_EXHAUSTED, fault.message or (
                f"Too many tokens for team emulator-team and model {model}. Your team's rate limit is — Tokens per "
                "Minute (actual/limit): 65605/16000. Please reduce your request rate or contact xAI support to "
                "increase the limit.")), retry_headers(fault)
        if kind == "quota":
            return 429, xai_error(_EXHAUSTED, fault.message or (
                "Your team emulator-team has either used all available credits or reached its monthly spending "
                "limit. To continue making API requests, please purchase more credits or raise your spending limit.")), {}
        if kind == "server_error":
            return 500, xai_error("Internal error", fault.message or "Internal server error"), {}
        if kind in ("unavailable", "overloaded"):
            return 503, xai_error("The service is currently unavailable", fault.message or (
                "The model is currently overloaded. Please try again later.")), retry_headers(fault)
        if kind == "payload_too_large":
            return 413, xai_error(_INVALID, fault.message or "Request payload too large: the body exceeds 20 MB."), {}
        if kind == "http200_error":
            return 200, xai_error("Internal error", fault.message or "Internal server error"), {}
        raise ValueError(kind)

    def stream_error_frames(self, req: Request, fault: Fault, reply: Reply, sent: int) -> list[bytes]:
        if fault.error_type == "overflow":
            m = self.find_model(req.record.model) or EmulatedModel(req.record.model or "model", 8192)
            _, body = self.overflow_error(m, m.context_window + 1, 0, False)
        else:
            kind = {"overloaded": "overloaded"}.get(fault.error_type, fault.error_type)
            _, body, _ = self.error_for(kind, req, fault)
        return [sse(body)]
