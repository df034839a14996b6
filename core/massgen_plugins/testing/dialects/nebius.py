"""Nebius Token Factory: OpenAI-compatible under ``/v1``; ``/models?verbose=true`` adds
``context_length``, pricing and features. No verbatim overflow body is published, so overflow uses
the vLLM wording (inferred from vLLM's source)."""

from __future__ import annotations

from typing import Any

from ..spec import EmulatedModel, Fault
from .base import Reply, Request, retry_headers
from .openai_compat import OpenAICompatDialect


def vllm_error(message: str, status: int, type_: str = "BadRequestError") -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": status}}


class NebiusDialect(OpenAICompatDialect):
    provider = "nebius"
    root = "/v1"

    def unauthenticated(self, req: Request) -> Reply:
        # a 401 in the vLLM-style envelope the rest of this dialect uses (no verbatim body on record)
        return self.error_reply(401, vllm_error("Unauthorized: missing or invalid API key", 401,
                                                "AuthenticationError"))
    owned_by = "system"

    def list_models(self, req: Request) -> Reply:
        verbose = req.query.get("verbose", "").lower() in ("true", "1", "yes")
        data = [self.verbose_json(m) if verbose else self.model_json(m) for m in self.catalogue()]
        return Reply(body={"object": "list", "data": data}, headers=self.base_headers())

    def verbose_json(self, m: EmulatedModel) -> dict[str, Any]:
        modality = {"chat": "text->text", "embedding": "text->embedding"}.get(m.kind, f"text->{m.kind}")
        data = {"id": m.id, "object": "model", "created": m.created, "owned_by": m.owned_by or self.owned_by,
                "name": m.display_name or m.id, "context_length": m.context_window,
                "max_output_tokens": m.max_output if m.is_chat else None,
                "architecture": {"modality": modality, "tokenizer": "Other", "instruct_type": None},
                "pricing": {"prompt": "0.00000013", "completion": "0.0000004"},
                "supported_features": ["tools", "json_mode"] if m.is_chat else [],
                "regions": [{"name": "eu-north1"}], "quantization": "fp8"}
        data.update(m.extra)
        return data

    def overflow_error(self, m: EmulatedModel, prompt: int, output: int, stated_output: bool) -> tuple[int, Any]:
        return 400, vllm_error(
            f"This model's maximum context length is {m.context_window} tokens. However, you requested "
            f"{prompt + output} tokens ({prompt} in the messages, {output} in the completion). "
            "Please reduce the length of the messages or completion.", 400)

    def output_cap_error(self, m: EmulatedModel, param: str, requested: int) -> Reply:
        return self.error_reply(400, vllm_error(
            f"{param} is too large: {requested}. This model supports at most {m.max_output} completion tokens, "
            f"whereas you provided {requested}.", 400))

    def unknown_model(self, model_id: str) -> Reply:
        return self.error_reply(404, vllm_error(f"The model `{model_id}` does not exist.", 404, "NotFoundError"))

    def not_chat(self, m: EmulatedModel) -> Reply:
        return self.error_reply(400, vllm_error(f"The model `{m.id}` does not support chat completions.", 400))

    def error_for(self, kind: str, req: Request, fault: Fault) -> tuple[int, Any, dict[str, str]]:
        model = self.model_name(req)
        if kind == "rate_limit":
            return 429, vllm_error(fault.message or (
                f"Rate limit exceeded for model {model}: too many tokens per minute (TPM). Please retry later."),
                429, "RateLimitError"), retry_headers(fault)
        if kind == "quota":
            return 429, vllm_error(fault.message or (
                "Insufficient quota: your account balance is exhausted. Top up your balance to continue."),
                429, "insufficient_quota"), {}
        if kind == "server_error":
            return 500, vllm_error(fault.message or "Internal server error", 500, "InternalServerError"), {}
        if kind in ("unavailable", "overloaded"):
            return 503, vllm_error(fault.message or "The model is overloaded. Please try again later.", 503,
                                   "ServiceUnavailableError"), retry_headers(fault)
        if kind == "payload_too_large":
            return 413, vllm_error(fault.message or "Request Entity Too Large", 413, "PayloadTooLargeError"), {}
        return super().error_for(kind, req, fault)
