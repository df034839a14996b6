"""Groq: OpenAI-compatible under ``/openai/v1``; model JSON carries ``context_window``; the
overflow message states no numbers; a request over the TPM limit is a 413 (as the provider documents them)."""

from __future__ import annotations

from typing import Any

from ..replies import Generated
from ..spec import EmulatedModel, Fault
from .base import Reply, Request, retry_headers
from .openai_compat import OpenAICompatDialect, openai_error


class GroqDialect(OpenAICompatDialect):
    def unauthenticated(self, req: Request) -> Reply:
        # Groq's 401 (ag5826000/resume-commentor#4 shows the body)
        return self.error_reply(401, openai_error("Invalid API Key", "invalid_request_error", None, "invalid_api_key"))

    provider = "groq"
    root = "/openai/v1"
    owned_by = "Groq"

    def model_json(self, m: EmulatedModel) -> dict[str, Any]:
        data = {"id": m.id, "object": "model", "created": m.created, "owned_by": m.owned_by or self.owned_by,
                "active": True, "context_window": m.context_window, "public_apps": None,
                "max_completion_tokens": m.max_output}
        data.update(m.extra)
        return data

    def base_headers(self) -> dict[str, str]:
        return {"x-request-id": self.next_id("req_"), "x-groq-region": "emulator"}

    def usage(self, prompt: int, completion: int) -> dict[str, Any]:
        return {"queue_time": 0.01, "prompt_tokens": prompt, "prompt_time": 0.001, "completion_tokens": completion,
                "completion_time": 0.01, "total_tokens": prompt + completion, "total_time": 0.011}

    def final_chunk(self, cid: str, created: int, model: str, gen: Generated, prompt: int) -> dict[str, Any]:
        return self.chunk(cid, created, model, {}, self.finish_reason(gen),
                          x_groq={"id": "req_" + cid[-12:], "usage": self.usage(prompt, gen.output_tokens)})

    def output_cap_error(self, m: EmulatedModel, param: str, requested: int) -> Reply:
        body = {"error": {"message": f"`{param}` must be less than or equal to `{m.max_output}`, the maximum value for "
                                     f"`{param}` is less than the `context_window` for this model",
                          "type": "invalid_request_error", "param": param}}
        return self.error_reply(400, body)

    def overflow_error(self, m: EmulatedModel, prompt: int, output: int, stated_output: bool) -> tuple[int, Any]:
        return 400, openai_error("Please reduce the length of the messages or completion.",
                                 "invalid_request_error", "messages", "context_length_exceeded")

    def unknown_model(self, model_id: str) -> Reply:
        return self.error_reply(404, openai_error(
            f"The model `{model_id}` does not exist or you do not have access to it.",
            "invalid_request_error", None, "model_not_found"))

    def not_chat(self, m: EmulatedModel) -> Reply:
        return self.error_reply(400, openai_error(
            f"The model `{m.id}` does not support chat completions", "invalid_request_error", "model",
            "model_not_supported"))

    def error_for(self, kind: str, req: Request, fault: Fault) -> tuple[int, Any, dict[str, str]]:
        model = self.model_name(req)
        retry = fault.retry_after if fault.retry_after is not None else 50.0
        if kind == "rate_limit":
            message = fault.message or (
                f"Rate limit reached for model `{model}` in organization `org_emulator` service tier `on_demand` on "
                f"tokens per minute (TPM): Limit 6000, Used 5800, Requested 903. Please try again in {retry:g}s. "
                "Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing")
            return 429, openai_error(message, "tokens", None, "rate_limit_exceeded"), {
                **retry_headers(fault), "x-ratelimit-limit-tokens": "6000", "x-ratelimit-remaining-tokens": "200",
                "x-ratelimit-reset-tokens": f"{retry:g}s", "x-ratelimit-limit-requests": "14400",
                "x-ratelimit-remaining-requests": "14399", "x-ratelimit-reset-requests": "6s"}
        if kind == "quota":
            return 429, openai_error(fault.message or (
                f"Rate limit reached for model `{model}` in organization `org_emulator` service tier `on_demand` on "
                "tokens per day (TPD): Limit 500000, Used 500000, Requested 903. Your organization has reached its "
                "daily quota. Upgrade to Dev Tier today at https://console.groq.com/settings/billing"),
                "tokens", None, "rate_limit_exceeded"), {}
        if kind == "payload_too_large":
            return 413, openai_error(fault.message or (
                f"Request too large for model `{model}` in organization `org_emulator` service tier `on_demand` on "
                "tokens per minute (TPM): Limit 6000, Requested 6294, please reduce your message size and try again. "
                "Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing"),
                "tokens", None, "rate_limit_exceeded"), {}
        if kind == "server_error":
            return 500, openai_error(fault.message or "Internal Server Error", "internal_server_error"), {}
        if kind in ("unavailable", "overloaded"):
            return 503, openai_error(fault.message or (
                "Service Unavailable: the model is currently over capacity, please try again later."),
                "service_unavailable", None, "service_unavailable"), retry_headers(fault)
        return super().error_for(kind, req, fault)


