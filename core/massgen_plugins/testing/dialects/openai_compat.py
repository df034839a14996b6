"""The OpenAI-compatible dialect: ``/models`` and ``/chat/completions`` (JSON and SSE).

Shared by OpenAI, Groq, xAI, Nebius and OpenRouter; each subclass sets its path root, model JSON
and the verbatim error envelopes (as the providers document them and users pasted them into issues).
"""

from __future__ import annotations

import json
import time
from typing import Any

from .. import replies
from ..replies import Conversation, Generated, Turn
from ..spec import EmulatedModel, Fault
from .base import Dialect, HttpError, Reply, Request, Sizes, retry_headers, sse
from .pairing import chat_pairing_error


def openai_error(message: str, type_: str | None, param: str | None = None, code: Any = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def content_text(content: Any) -> str:
    """The text of an OpenAI message ``content`` (a string or a list of parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    out: list[str] = []
    if isinstance(content, list):
        for part in content:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, dict):
                for key in ("text", "input_text", "output_text", "refusal"):
                    if isinstance(part.get(key), str):
                        out.append(part[key])
                        break
    return "\n".join(out)


def chat_conversation(body: dict[str, Any]) -> tuple[Conversation, list[str], int]:
    """``(conversation, texts to count, message count)`` of a chat-completions body."""
    conv = Conversation()
    texts: list[str] = []
    names: dict[str, str] = {}
    messages = body.get("messages") or []
    system: list[str] = []
    for msg in messages:
        if not isinstance(msg, dict):
            continue
        role = msg.get("role", "user")
        text = content_text(msg.get("content"))
        texts.append(text)
        for call in msg.get("tool_calls") or []:
            fn = call.get("function") or {}
            names[call.get("id", "")] = fn.get("name", "")
            texts.extend([fn.get("name", ""), fn.get("arguments", "")])
        if role in ("system", "developer"):
            system.append(text)
        elif role == "tool":
            conv.turns.append(Turn("tool", text, names.get(msg.get("tool_call_id", ""))))
        elif role == "assistant":
            conv.turns.append(Turn("assistant", text))
        else:
            conv.turns.append(Turn("user", text))
    for tool in body.get("tools") or []:
        fn = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(fn, dict) and fn.get("name"):
            conv.tools.append(fn["name"])
            texts.append(json.dumps(fn, sort_keys=True))
    conv.system = "\n".join(system)
    return conv, texts, len(messages)


class OpenAICompatDialect(Dialect):
    """``{root}/models`` and ``{root}/chat/completions`` the way api.openai.com serves them."""

    root = "/v1"
    owned_by = "openai"
    default_output = 0  # OpenAI-style windows only count the output a request asks for

    # -- routing -----------------------------------------------------------------------------------
    def handle(self, req: Request, fault: Fault | None) -> Reply:
        path = req.path
        if not path.startswith(self.root + "/"):
            raise HttpError(self.not_found(req))
        sub = path[len(self.root):]
        if req.method == "GET" and sub == "/models":
            return self.list_models(req)
        if req.method == "GET" and sub.startswith("/models/"):
            return self.get_model(req, sub[len("/models/"):])
        if req.method == "POST" and sub == "/chat/completions":
            return self.chat(req, fault)
        return self.route_more(req, sub, fault)

    def route_more(self, req: Request, sub: str, fault: Fault | None) -> Reply:
        """Provider-specific routes beyond models and chat completions."""
        raise HttpError(self.not_found(req))

    # -- models ------------------------------------------------------------------------------------
    def model_json(self, m: EmulatedModel) -> dict[str, Any]:
        data = {"id": m.id, "object": "model", "created": m.created, "owned_by": m.owned_by or self.owned_by}
        data.update(m.extra)
        return data

    def list_models(self, req: Request) -> Reply:
        return Reply(body={"object": "list", "data": [self.model_json(m) for m in self.catalogue()]},
                     headers=self.base_headers())

    def get_model(self, req: Request, model_id: str) -> Reply:
        m = self.find_model(model_id)
        if m is None:
            raise HttpError(self.unknown_model(model_id))
        return Reply(body=self.model_json(m), headers=self.base_headers())

    # -- chat ----------------------------------------------------------------------------------------
    def output_param(self, body: dict[str, Any]) -> tuple[str, int | None]:
        for name in ("max_completion_tokens", "max_tokens"):
            value = body.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                return name, value
        return "max_tokens", None

    def resolve_chat_model(self, req: Request) -> EmulatedModel:
        model_id = req.json.get("model")
        if not isinstance(model_id, str) or not model_id:
            raise HttpError(self.error_reply(400, openai_error(
                "you must provide a model parameter", "invalid_request_error", None, None)))
        m = self.find_model(model_id)
        if m is None:
            raise HttpError(self.unknown_model(model_id))
        if not m.is_chat:
            raise HttpError(self.not_chat(m))
        return m

    def chat(self, req: Request, fault: Fault | None) -> Reply:
        body = req.json
        m = self.resolve_chat_model(req)
        pairing = chat_pairing_error(body.get("messages") or [])
        if pairing is not None:
            raise HttpError(self.error_reply(400, openai_error(pairing[0], "invalid_request_error", pairing[1])))
        conv, texts, n = chat_conversation(body)
        param, requested = self.output_param(body)
        sizes = Sizes(self.count(texts, n), requested, self.default_output)
        stream = bool(body.get("stream"))
        over_cap = self.output_over_cap(m, sizes, self.forced_output_cap(fault))
        if over_cap is not None:
            raise HttpError(self.output_cap_error(m, param, over_cap))
        overflow = self.overflow_sizes(m, sizes, self.forced_overflow(fault))
        if overflow is not None:
            return self.overflow_reply(req, m, overflow[0], overflow[1], requested is not None, stream)
        limit = requested if requested is not None else m.max_output
        gen = replies.generate(conv, body.get("model") or m.id, limit)
        if stream:
            return self.chat_stream(req, m, gen, sizes.input)
        return Reply(body=self.chat_json(req, m, gen, sizes.input), headers=self.base_headers())

    def finish_reason(self, gen: Generated) -> str:
        return "tool_calls" if gen.tool_calls else ("length" if gen.truncated else "stop")

    def usage(self, prompt: int, completion: int) -> dict[str, Any]:
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                              "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}

    def chat_json(self, req: Request, m: EmulatedModel, gen: Generated, prompt: int) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": gen.text or None, "refusal": None,
                                   "annotations": []}
        if gen.tool_calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments_json}}
                for c in gen.tool_calls
            ]
        return {
            "id": self.next_id("chatcmpl-emu"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": req.json.get("model") or m.id,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": self.finish_reason(gen)}],
            "usage": self.usage(prompt, gen.output_tokens),
            "system_fingerprint": "fp_emulator",
        }

    def chunk(self, cid: str, created: int, model: str, delta: dict[str, Any] | None,
              finish: str | None = None, **extra: Any) -> dict[str, Any]:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        data = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                "system_fingerprint": "fp_emulator", "choices": choices}
        data.update(extra)
        return data

    def chat_stream(self, req: Request, m: EmulatedModel, gen: Generated, prompt: int) -> Reply:
        cid, created, model = self.next_id("chatcmpl-emu"), int(time.time()), req.json.get("model") or m.id
        frames = [sse(self.chunk(cid, created, model, {"role": "assistant", "content": "", "refusal": None}))]
        for i, call in enumerate(gen.tool_calls):
            frames.append(sse(self.chunk(cid, created, model, {"tool_calls": [
                {"index": i, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}]})))
            for piece in replies.chunk_text(call.arguments_json, 3) or [""]:
                frames.append(sse(self.chunk(cid, created, model, {"tool_calls": [
                    {"index": i, "function": {"arguments": piece}}]})))
        for piece in replies.chunk_text(gen.text):
            frames.append(sse(self.chunk(cid, created, model, {"content": piece})))
        frames.append(sse(self.final_chunk(cid, created, model, gen, prompt)))
        options = req.json.get("stream_options") or {}
        if isinstance(options, dict) and options.get("include_usage"):
            frames.append(sse(self.chunk(cid, created, model, None, usage=self.usage(prompt, gen.output_tokens))))
        frames.append(sse("[DONE]"))
        return Reply(events=frames, partial=2, headers=self.base_headers(), content_type="text/event-stream")

    def final_chunk(self, cid: str, created: int, model: str, gen: Generated, prompt: int) -> dict[str, Any]:
        return self.chunk(cid, created, model, {}, self.finish_reason(gen))

    # -- errors ----------------------------------------------------------------------------------------
    def base_headers(self) -> dict[str, str]:
        return {"x-request-id": self.next_id("req_")}

    def error_reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
        return Reply(status=status, body=body, headers={**self.base_headers(), **(headers or {})})

    def not_found(self, req: Request) -> Reply:
        return self.error_reply(404, openai_error(f"Invalid URL ({req.method} {req.path})", "invalid_request_error"))

    def unauthenticated(self, req: Request) -> Reply:
        # OpenAI's reply to a request without a key (continuedev/continue#10931 quotes the message)
        return self.error_reply(401, openai_error(
            "You didn't provide an API key. You need to provide your API key in an Authorization header using "
            "Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if "
            "you're accessing the API from your browser and are prompted for a username and password. You can "
            "obtain an API key from https://platform.openai.com/account/api-keys.", "invalid_request_error"))

    def unknown_model(self, model_id: str) -> Reply:
        return self.error_reply(404, openai_error(
            f"The model `{model_id}` does not exist or you do not have access to it.",
            "invalid_request_error", None, "model_not_found"))

    def not_chat(self, m: EmulatedModel) -> Reply:
        return self.error_reply(404, openai_error(
            "This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
            "Did you mean to use v1/completions?", "invalid_request_error", "model", None))

    def output_cap_error(self, m: EmulatedModel, param: str, requested: int) -> Reply:
        return self.error_reply(400, openai_error(
            f"{param} is too large: {requested}. This model supports at most {m.max_output} completion tokens, "
            f"whereas you provided {requested}.", "invalid_request_error", param, "invalid_value"))

    def overflow_error(self, m: EmulatedModel, prompt: int, output: int, stated_output: bool) -> tuple[int, Any]:
        """``(status, body)`` of this provider's context-overflow error."""
        if m.input_limit is not None and prompt > m.input_limit:
            message = (f"Input tokens exceed the configured limit of {m.input_limit} tokens. Your messages "
                       f"resulted in {prompt} tokens. Please reduce the length of the messages.")
        elif stated_output:
            message = (f"This model's maximum context length is {m.context_window} tokens. However, you requested "
                       f"{prompt + output} tokens ({prompt} in the messages, {output} in the completion). "
                       "Please reduce the length of the messages or completion.")
        else:
            message = (f"This model's maximum context length is {m.context_window} tokens. However, your messages "
                       f"resulted in {prompt} tokens. Please reduce the length of the messages.")
        return 400, openai_error(message, "invalid_request_error", "messages", "context_length_exceeded")

    def overflow_reply(self, req: Request, m: EmulatedModel, prompt: int, output: int, stated_output: bool,
                       stream: bool) -> Reply:
        status, body = self.overflow_error(m, prompt, output, stated_output)
        raise HttpError(self.error_reply(status, body))

    def model_name(self, req: Request) -> str:
        return req.record.model or "the model"

    def error_for(self, kind: str, req: Request, fault: Fault) -> tuple[int, Any, dict[str, str]]:
        """``(status, body, headers)`` for an error-kind fault."""
        model = self.model_name(req)
        retry = fault.retry_after if fault.retry_after is not None else 20.0
        if kind == "rate_limit":
            message = fault.message or (
                f"Rate limit reached for {model} in organization org-emulator on tokens per min (TPM): "
                f"Limit 30000, Used 29000, Requested 5086. Please try again in {retry:g}s. "
                "Visit https://platform.openai.com/account/rate-limits to learn more.")
            return 429, openai_error(message, "tokens", None, "rate_limit_exceeded"), {
                **retry_headers(fault), "x-ratelimit-limit-tokens": "30000", "x-ratelimit-remaining-tokens": "1000",
                "x-ratelimit-reset-tokens": f"{retry:g}s"}
        if kind == "quota":
            return 429, openai_error(fault.message or (
                "You exceeded your current quota, please check your plan and billing details. For more information "
                "on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."),
                "insufficient_quota", None, "insufficient_quota"), {}
        if kind == "server_error":
            return 500, openai_error(fault.message or (
                "The server had an error while processing your request. Sorry about that!"), "server_error"), {}
        if kind == "unavailable":
            return 503, openai_error(fault.message or "Service Unavailable. Please try again later.",
                                     "server_error", None, "service_unavailable"), retry_headers(fault)
        if kind == "overloaded":
            return 503, openai_error(fault.message or "The engine is currently overloaded, please try again later.",
                                     "server_error", None, "overloaded"), retry_headers(fault)
        if kind == "payload_too_large":
            return 413, openai_error(fault.message or (
                "Request too large: the request body exceeds the maximum size of 50 MB."),
                "invalid_request_error", None, "request_too_large"), {}
        if kind == "http200_error":
            return 200, {"error": {"message": fault.message or "Internal Server Error", "code": 500}}, {}
        raise ValueError(kind)

    def fault_reply(self, req: Request, fault: Fault) -> Reply:
        status, body, headers = self.error_for(fault.kind, req, fault)
        return self.error_reply(status, body, headers)

    def stream_error_object(self, req: Request, fault: Fault) -> dict[str, Any]:
        """The error object an in-stream error carries for ``fault.error_type``."""
        kind = fault.error_type
        if kind == "overflow":
            m = self.find_model(req.record.model) or EmulatedModel(req.record.model or "model", 8192)
            _, body = self.overflow_error(m, m.context_window + 1, 0, False)
        else:
            _, body, _ = self.error_for({"overloaded": "overloaded"}.get(kind, kind), req, fault)
        err = body.get("error") if isinstance(body, dict) else None
        return err if isinstance(err, dict) else {"message": str(err or body), "type": "server_error", "code": None}

    def stream_error_frames(self, req: Request, fault: Fault, reply: Reply, sent: int) -> list[bytes]:
        return [sse({"error": self.stream_error_object(req, fault)})]
