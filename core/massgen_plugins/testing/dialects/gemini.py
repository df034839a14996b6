"""Gemini Developer API under both ``/v1`` and ``/v1beta``: ``models`` (``pageSize``/``pageToken``/
``nextPageToken``), ``models/{m}:generateContent``, ``:streamGenerateContent?alt=sse`` (with
``functionCall`` parts; in-stream errors as ``data: {"error": ...}``) and ``:countTokens``.
Errors use ``{"error":{code,message,status[,details]}}`` (as the provider documents them).

The Gemini window is the *input* limit (``inputTokenLimit``): a request overflows when its input
alone exceeds ``context_window``; ``maxOutputTokens`` above ``max_output`` is the output-cap 400.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from .. import replies
from ..replies import Conversation, Generated, Turn
from ..spec import EmulatedModel, Fault
from .base import Dialect, HttpError, Reply, Request, sse
from .pairing import gemini_pairing_error

_VERSIONS = ("/v1/", "/v1beta/")
_METHODS = {
    "chat": ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"],
    "tts": ["countTokens", "generateContent"],
    "embedding": ["embedContent", "countTextTokens", "countTokens", "asyncBatchEmbedContent"],
    "image": ["predict"],
}


def gemini_error(code: int, status: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details is not None:
        err["details"] = details
    return {"error": err}


def _get(d: dict[str, Any], camel: str, snake: str) -> Any:
    return d.get(camel, d.get(snake))


def parts_text(parts: Any) -> str:
    out: list[str] = []
    for part in parts or []:
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("text"), str):
            out.append(part["text"])
        call = _get(part, "functionCall", "function_call")
        if isinstance(call, dict):
            out.extend([str(call.get("name", "")), json.dumps(call.get("args", {}), sort_keys=True)])
        result = _get(part, "functionResponse", "function_response")
        if isinstance(result, dict):
            out.append(json.dumps(result.get("response", {}), sort_keys=True))
    return "\n".join(t for t in out if t)


def contents_conversation(body: dict[str, Any]) -> tuple[Conversation, list[str], int]:
    """``(conversation, texts to count, content count)`` of a generateContent / countTokens body."""
    inner = _get(body, "generateContentRequest", "generate_content_request")
    if isinstance(inner, dict):
        body = inner
    conv = Conversation()
    texts: list[str] = []
    system = _get(body, "systemInstruction", "system_instruction")
    if isinstance(system, dict):
        conv.system = parts_text(system.get("parts"))
    elif isinstance(system, str):
        conv.system = system
    if conv.system:
        texts.append(conv.system)
    contents = body.get("contents") or []
    for content in contents:
        if not isinstance(content, dict):
            continue
        parts = content.get("parts") or []
        text = parts_text(parts)
        texts.append(text)
        responses = [_get(p, "functionResponse", "function_response") for p in parts if isinstance(p, dict)]
        responses = [r for r in responses if isinstance(r, dict)]
        if content.get("role") == "model":
            conv.turns.append(Turn("assistant", text))
        elif responses:
            conv.turns.append(Turn("tool", json.dumps(responses[-1].get("response", {})), responses[-1].get("name")))
        else:
            conv.turns.append(Turn("user", text))
    for tool in body.get("tools") or []:
        for decl in _get(tool, "functionDeclarations", "function_declarations") or []:
            if isinstance(decl, dict) and decl.get("name"):
                conv.tools.append(str(decl["name"]))
                texts.append(json.dumps(decl, sort_keys=True))
    return conv, texts, len(contents)


class GeminiDialect(Dialect):
    provider = "gemini"
    accepted_credentials = frozenset({"x-goog-api-key", "key"})

    def unauthenticated(self, req: Request) -> Reply:
        # Google answers a keyless call with 403 PERMISSION_DENIED, not 401
        # (PublicAffairs/openai-gemini#92 and google-gemini/deprecated-generative-ai-python#463 quote it)
        return self.error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without "
                          "established identity). Please use API Key or other form of API consumer identity to "
                          "call this API.")

    def model_of(self, req: Request) -> str | None:
        name = self._model_segment(req.path)
        return name.split(":", 1)[0] if name else None

    def is_stream(self, req: Request) -> bool:
        return req.path.endswith(":streamGenerateContent")

    @staticmethod
    def _model_segment(path: str) -> str | None:
        for version in _VERSIONS:
            if path.startswith(version + "models/"):
                return path[len(version + "models/"):]
        return None

    # -- routing ----------------------------------------------------------------------------------
    def handle(self, req: Request, fault: Fault | None) -> Reply:
        version = next((v.strip("/") for v in _VERSIONS if req.path.startswith(v)), None)
        if version is None:
            raise HttpError(self.error(404, "NOT_FOUND", f"Method not found: {req.path}"))
        if req.method == "GET" and req.path == f"/{version}/models":
            return self.list_models(req)
        segment = self._model_segment(req.path)
        if segment is None:
            raise HttpError(self.error(404, "NOT_FOUND", f"Method not found: {req.path}"))
        model_id, _, action = segment.partition(":")
        if req.method == "GET" and not action:
            m = self.find_model(model_id)
            if m is None:
                raise HttpError(self.error(404, "NOT_FOUND", f"models/{model_id} is not found for API version {version}"))
            return Reply(body=self.model_json(m))
        if req.method == "POST" and action in ("generateContent", "streamGenerateContent", "countTokens"):
            m = self.resolve(model_id, version, action)
            if action == "countTokens":
                _, texts, n = contents_conversation(req.json)
                total = self.count(texts, n)
                return Reply(body={"totalTokens": total,
                                   "promptTokensDetails": [{"modality": "TEXT", "tokenCount": total}]})
            return self.generate(req, m, fault, stream=action == "streamGenerateContent")
        raise HttpError(self.error(404, "NOT_FOUND", f"Method not found: {req.path}"))

    def error(self, code: int, status: str, message: str, details: list[Any] | None = None,
              headers: dict[str, str] | None = None) -> Reply:
        return Reply(status=code, body=gemini_error(code, status, message, details), headers=dict(headers or {}))

    # -- models --------------------------------------------------------------------------------------
    def model_json(self, m: EmulatedModel) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": f"models/{m.id}", "baseModelId": m.id, "version": "001",
            "displayName": m.display_name or m.id, "description": f"{m.display_name or m.id} (emulated)",
            "inputTokenLimit": m.context_window, "outputTokenLimit": m.max_output,
            "supportedGenerationMethods": _METHODS.get(m.kind, ["generateContent"]),
        }
        if m.kind in ("chat", "tts"):
            data.update({"temperature": 1, "topP": 0.95, "topK": 64, "maxTemperature": 2})
        data.update(m.extra)
        return data

    def list_models(self, req: Request) -> Reply:
        models = self.catalogue()
        try:
            size = int(req.query.get("pageSize") or 50)
        except ValueError:
            size = 50
        size = min(max(size, 1), 1000)
        token = req.query.get("pageToken") or ""
        start = 0
        if token:
            try:
                start = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("offset:"))
            except (ValueError, UnicodeDecodeError):
                raise HttpError(self.error(400, "INVALID_ARGUMENT", "Invalid page token.")) from None
        page = models[start:start + size]
        body: dict[str, Any] = {"models": [self.model_json(m) for m in page]}
        if start + size < len(models):
            body["nextPageToken"] = base64.urlsafe_b64encode(f"offset:{start + size}".encode()).decode()
        return Reply(body=body)

    # -- generation ----------------------------------------------------------------------------------
    def resolve(self, model_id: str, version: str, action: str) -> EmulatedModel:
        m = self.find_model(model_id)
        method = "generateContent" if action == "streamGenerateContent" else action
        if m is None or method not in _METHODS.get(m.kind, []):
            raise HttpError(self.error(
                404, "NOT_FOUND", f"models/{model_id} is not found for API version {version}, or is not supported "
                                  f"for {method}. Call ListModels to see the list of available models and their "
                                  "supported methods."))
        return m

    def generate(self, req: Request, m: EmulatedModel, fault: Fault | None, *, stream: bool) -> Reply:
        body = req.json
        config = _get(body, "generationConfig", "generation_config") or {}
        requested = _get(config, "maxOutputTokens", "max_output_tokens") if isinstance(config, dict) else None
        requested = requested if isinstance(requested, int) and not isinstance(requested, bool) else None
        pairing = gemini_pairing_error(body.get("contents") or [])
        if pairing is not None:
            raise HttpError(self.error(400, "INVALID_ARGUMENT", pairing))
        conv, texts, n = contents_conversation(body)
        prompt = self.count(texts, n)
        if self.forced_output_cap(fault) or (requested is not None and requested > m.max_output):
            value = requested if requested is not None and requested > m.max_output else m.max_output + 1
            raise HttpError(self.error(400, "INVALID_ARGUMENT",
                                       f"Unable to submit request because it has a maxOutputTokens value of {value} "
                                       f"but the supported range is from 1 (inclusive) to {m.max_output + 1} "
                                       "(exclusive). Update the value and try again."))
        if self.forced_overflow(fault) or prompt > m.context_window:
            count = prompt + m.context_window if self.forced_overflow(fault) else prompt
            raise HttpError(self.error(400, "INVALID_ARGUMENT", self.overflow_message(m, count)))
        gen = replies.generate(conv, m.id, requested if requested is not None else m.max_output)
        if stream:
            return self.stream(m, gen, prompt)
        return Reply(body=self.response_json(m, gen, prompt, self.parts(gen), final=True))

    @staticmethod
    def overflow_message(m: EmulatedModel, count: int) -> str:
        return (f"The input token count ({count}) exceeds the maximum number of tokens allowed "
                f"({m.context_window}).")

    @staticmethod
    def parts(gen: Generated) -> list[dict[str, Any]]:
        if gen.tool_calls:
            return [{"functionCall": {"name": c.name, "args": c.arguments}} for c in gen.tool_calls]
        return [{"text": gen.text}]

    def response_json(self, m: EmulatedModel, gen: Generated, prompt: int, parts: list[dict[str, Any]],
                      *, final: bool) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
        if final:
            candidate["finishReason"] = "MAX_TOKENS" if gen.truncated else "STOP"
        usage: dict[str, Any] = {"promptTokenCount": prompt, "totalTokenCount": prompt,
                                 "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]}
        if final:
            usage["candidatesTokenCount"] = gen.output_tokens
            usage["totalTokenCount"] = prompt + gen.output_tokens
        return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": m.id,
                "responseId": self.next_id("resp-emu")}

    def stream(self, m: EmulatedModel, gen: Generated, prompt: int) -> Reply:
        frames: list[bytes] = []
        if gen.tool_calls:
            frames.append(sse(self.response_json(m, gen, prompt, self.parts(gen), final=True), crlf=True))
        else:
            pieces = replies.chunk_text(gen.text) or [""]
            for i, piece in enumerate(pieces):
                frames.append(sse(self.response_json(m, gen, prompt, [{"text": piece}], final=i == len(pieces) - 1),
                                  crlf=True))
        return Reply(events=frames, partial=1, content_type="text/event-stream")

    # -- faults ----------------------------------------------------------------------------------------
    def error_for(self, kind: str, req: Request, fault: Fault) -> tuple[int, str, str, list[Any] | None]:
        model = req.record.model or "gemini"
        if kind == "rate_limit":
            delay = fault.retry_after if fault.retry_after is not None else 47.0
            return 429, "RESOURCE_EXHAUSTED", fault.message or (
                "You exceeded your current quota, please check your plan and billing details. For more information "
                "on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current "
                "usage, head to: https://ai.dev/usage?tab=rate-limit. \n* Quota exceeded for metric: "
                "generativelanguage.googleapis.com/generate_content_free_tier_input_token_count, limit: 250000, "
                f"model: {model}\nPlease retry in {delay:g}s."), [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_input_token_count",
                    "quotaId": "GenerateContentInputTokensPerModelPerMinute-FreeTier",
                    "quotaDimensions": {"location": "global", "model": model}, "quotaValue": "250000"}]},
                {"@type": "type.googleapis.com/google.rpc.Help",
                 "links": [{"description": "Learn more about Gemini API quotas",
                            "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{delay:g}s"}]
        if kind == "quota":
            return 429, "RESOURCE_EXHAUSTED", fault.message or (
                "You exceeded your current quota, please check your plan and billing details. For more information "
                "on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."), [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_paid_tier_requests",
                    "quotaId": "GenerateRequestsPerDayPerProjectPerModel"}]}]
        if kind == "server_error":
            return 500, "INTERNAL", fault.message or (
                "An internal error has occurred. Please retry or report in "
                "https://developers.generativeai.google/guide/troubleshooting"), None
        if kind in ("unavailable", "overloaded"):
            return 503, "UNAVAILABLE", fault.message or "The model is overloaded. Please try again later.", None
        if kind == "payload_too_large":  # Gemini answers the payload limit with 400, not 413
            return 400, "INVALID_ARGUMENT", fault.message or "Request payload size exceeds the limit: 20971520 bytes.", None
        if kind == "http200_error":
            return 200, "INTERNAL", fault.message or "An internal error has occurred.", None
        raise ValueError(kind)

    def fault_reply(self, req: Request, fault: Fault) -> Reply:
        code, status, message, details = self.error_for(fault.kind, req, fault)
        headers = {"retry-after": f"{fault.retry_after:g}"} if fault.kind == "rate_limit" and fault.retry_after else {}
        if fault.kind == "http200_error" and req.record.stream:
            return Reply(events=[sse(gemini_error(500, status, message), crlf=True)], content_type="text/event-stream")
        return self.error(code, status, message, details, headers)

    def stream_error_frames(self, req: Request, fault: Fault, reply: Reply, sent: int) -> list[bytes]:
        if fault.error_type == "overflow":
            m = self.find_model(req.record.model) or EmulatedModel(req.record.model or "model", 1_048_576)
            body = gemini_error(400, "INVALID_ARGUMENT", fault.message or self.overflow_message(m, m.context_window + 1))
        else:
            code, status, message, details = self.error_for(fault.error_type, req, fault)
            body = gemini_error(code, status, message, details)
        return [sse(body, crlf=True)]
