"""Anthropic: ``/v1/models`` (``after_id``/``before_id``/``limit``/``has_more``), ``/v1/messages``
(JSON and SSE: message_start, content_block_start/delta/stop with ``text_delta`` and
``input_json_delta``, message_delta, message_stop, ``event: error``) and
``/v1/messages/count_tokens``. Errors use ``{"type":"error","error":{type,message},"request_id"}``
plus a ``request-id`` header (as the provider documents them)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from .. import replies
from ..replies import Conversation, Generated, Turn
from ..spec import EmulatedModel, Fault
from .base import Dialect, HttpError, Reply, Request, Sizes, retry_headers, sse
from .pairing import anthropic_pairing_error


def block_text(content: Any) -> str:
    """The text of a content value: a string or a list of blocks (text, tool_result, ...)."""
    if isinstance(content, str):
        return content
    out: list[str] = []
    for block in content or []:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            out.append(str(block.get("text", "")))
        elif kind == "tool_use":
            out.extend([str(block.get("name", "")), json.dumps(block.get("input", {}), sort_keys=True)])
        elif kind == "tool_result":
            out.append(block_text(block.get("content")))
        elif kind in ("thinking", "redacted_thinking"):
            out.append(str(block.get("thinking", "")))
        elif kind == "compaction":
            out.append(str(block.get("content") or ""))
    return "\n".join(t for t in out if t)


def messages_conversation(body: dict[str, Any]) -> tuple[Conversation, list[str], int]:
    """``(conversation, texts to count, message count)`` of a Messages API body."""
    conv = Conversation()
    texts: list[str] = []
    system = body.get("system")
    conv.system = block_text(system) if system is not None else ""
    if conv.system:
        texts.append(conv.system)
    names: dict[str, str] = {}
    messages = body.get("messages") or []
    for msg in messages:
        if not isinstance(msg, dict):
            continue
        content = msg.get("content")
        text = block_text(content)
        texts.append(text)
        blocks = content if isinstance(content, list) else []
        for block in blocks:
            if isinstance(block, dict) and block.get("type") == "tool_use":
                names[str(block.get("id"))] = str(block.get("name", ""))
        results = [b for b in blocks if isinstance(b, dict) and b.get("type") == "tool_result"]
        if msg.get("role") == "assistant":
            conv.turns.append(Turn("assistant", text))
        elif results:
            last = results[-1]
            conv.turns.append(Turn("tool", block_text(last.get("content")), names.get(str(last.get("tool_use_id")))))
        else:
            conv.turns.append(Turn("user", text))
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and tool.get("name"):
            conv.tools.append(str(tool["name"]))
            texts.append(json.dumps(tool, sort_keys=True))
    return conv, texts, len(messages)


def anthropic_error(type_: str, message: str, request_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "error", "error": {"type": type_, "message": message}}
    if request_id:
        body["request_id"] = request_id
    return body


def rfc3339(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class AnthropicDialect(Dialect):
    provider = "anthropic"
    accepted_credentials = frozenset({"x-api-key", "bearer"})

    def unauthenticated(self, req: Request) -> Reply:
        # Anthropic's 401 (stackblitz-labs/bolt.diy#156 quotes the message)
        return self.error(401, "authentication_error", "x-api-key header is required")

    def handle(self, req: Request, fault: Fault | None) -> Reply:
        if req.method == "GET" and req.path == "/v1/models":
            return self.list_models(req)
        if req.method == "GET" and req.path.startswith("/v1/models/"):
            m = self.find_model(req.path[len("/v1/models/"):])
            if m is None:
                raise HttpError(self.error(404, "not_found_error", f"model: {req.path[len('/v1/models/'):]}"))
            return Reply(body=self.model_json(m), headers=self.headers())
        if req.method == "POST" and req.path == "/v1/messages":
            return self.messages(req, fault)
        if req.method == "POST" and req.path == "/v1/messages/count_tokens":
            return self.count_tokens(req)
        raise HttpError(self.error(404, "not_found_error", f"Not found: {req.method} {req.path}"))

    # -- plumbing ------------------------------------------------------------------------------------
    def headers(self, request_id: str | None = None) -> dict[str, str]:
        return {"request-id": request_id or self.next_id("req_"), "anthropic-organization-id": "org-emulator"}

    def error(self, status: int, type_: str, message: str, headers: dict[str, str] | None = None) -> Reply:
        rid = self.next_id("req_")
        return Reply(status=status, body=anthropic_error(type_, message, rid),
                     headers={**self.headers(rid), **(headers or {})})

    # -- models ----------------------------------------------------------------------------------------
    def model_json(self, m: EmulatedModel) -> dict[str, Any]:
        data = {"type": "model", "id": m.id, "display_name": m.display_name or m.id, "created_at": rfc3339(m.created),
                "max_input_tokens": m.context_window, "max_tokens": m.max_output, "lifecycle": "active"}
        data.update(m.extra)
        return data

    def list_models(self, req: Request) -> Reply:
        models = sorted(self.catalogue(), key=lambda m: m.created, reverse=True)  # newest first, as the API
        ids = [m.id for m in models]
        try:
            limit = int(req.query.get("limit", "20"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 1000:
            raise HttpError(self.error(400, "invalid_request_error", "limit: Input should be between 1 and 1000"))
        after, before = req.query.get("after_id"), req.query.get("before_id")
        for cursor in (after, before):
            if cursor and cursor not in ids:
                raise HttpError(self.error(400, "invalid_request_error", f"Invalid cursor: {cursor}"))
        if before:
            end = ids.index(before)
            start = max(0, end - limit)
            page, has_more = models[start:end], start > 0
        else:
            start = ids.index(after) + 1 if after else 0
            page, has_more = models[start:start + limit], start + limit < len(models)
        return Reply(body={"data": [self.model_json(m) for m in page], "has_more": has_more,
                           "first_id": page[0].id if page else None, "last_id": page[-1].id if page else None},
                     headers=self.headers())

    # -- messages --------------------------------------------------------------------------------------
    def resolve(self, req: Request) -> EmulatedModel:
        model_id = req.json.get("model")
        if not isinstance(model_id, str) or not model_id:
            raise HttpError(self.error(400, "invalid_request_error", "model: Field required"))
        m = self.find_model(model_id)
        if m is None:
            raise HttpError(self.error(404, "not_found_error", f"model: {model_id}"))
        if not m.is_chat:
            raise HttpError(self.error(400, "invalid_request_error", f"model: {model_id} does not support messages"))
        if not isinstance(req.json.get("messages"), list):
            raise HttpError(self.error(400, "invalid_request_error", "messages: Field required"))
        return m

    def count_tokens(self, req: Request) -> Reply:
        self.resolve(req)
        _, texts, n = messages_conversation(req.json)
        return Reply(body={"input_tokens": self.count(texts, n)}, headers=self.headers())

    def messages(self, req: Request, fault: Fault | None) -> Reply:
        body = req.json
        m = self.resolve(req)
        max_tokens = body.get("max_tokens")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
            raise HttpError(self.error(400, "invalid_request_error", "max_tokens: Field required"))
        pairing = anthropic_pairing_error(body.get("messages") or [])
        if pairing is not None:
            raise HttpError(self.error(400, "invalid_request_error", pairing))
        conv, texts, n = messages_conversation(body)
        sizes = Sizes(self.count(texts, n), max_tokens, max_tokens)
        stream = bool(body.get("stream"))
        over_cap = self.output_over_cap(m, sizes, self.forced_output_cap(fault))
        if over_cap is not None:
            raise HttpError(self.error(400, "invalid_request_error",
                                       f"max_tokens: {over_cap} > {m.max_output}, which is the maximum allowed "
                                       f"number of output tokens for {m.id}"))
        overflow = self.overflow_sizes(m, sizes, self.forced_overflow(fault))
        if overflow is not None:
            message = self.overflow_message(m, *overflow)
            if stream:  # the in-stream form: HTTP 200, then `event: error`
                return Reply(events=[sse(anthropic_error("invalid_request_error", message), "error")],
                             headers=self.headers(), content_type="text/event-stream")
            raise HttpError(self.error(400, "invalid_request_error", message))
        gen = replies.generate(conv, str(body.get("model")), max_tokens)
        thinking = body.get("thinking")
        if isinstance(thinking, dict) and thinking.get("type") == "enabled":
            # extended thinking: a thinking block (with its signature) before the answer
            gen.thinking = "Let me think this through step by step. " + " ".join(gen.text.split()[:12])
        if stream:
            return self.stream(req, gen, sizes.input)
        return Reply(body=self.message_json(req, gen, sizes.input), headers=self.headers())

    @staticmethod
    def overflow_message(m: EmulatedModel, prompt: int, output: int) -> str:
        if prompt > m.context_window:
            return f"prompt is too long: {prompt} tokens > {m.context_window} maximum"
        return (f"input length and `max_tokens` exceed context limit: {prompt} + {output} > {m.context_window}, "
                "decrease input length or `max_tokens` and try again")

    @staticmethod
    def stop_reason(gen: Generated) -> str:
        return "tool_use" if gen.tool_calls else ("max_tokens" if gen.truncated else "end_turn")

    @staticmethod
    def usage(prompt: int, output: int) -> dict[str, Any]:
        return {"input_tokens": prompt, "output_tokens": output, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0, "service_tier": "standard"}

    def content(self, gen: Generated) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        thinking = gen.thinking
        if thinking:
            blocks.append({"type": "thinking", "thinking": thinking, "signature": "emu-signature-" + str(len(thinking))})
        if gen.text:
            blocks.append({"type": "text", "text": gen.text})
        for call in gen.tool_calls:
            blocks.append({"type": "tool_use", "id": call.id.replace("call_", "toolu_"), "name": call.name,
                           "input": call.arguments})
        return blocks

    def message_json(self, req: Request, gen: Generated, prompt: int) -> dict[str, Any]:
        return {"id": self.next_id("msg_emu"), "type": "message", "role": "assistant",
                "model": req.json.get("model"), "content": self.content(gen), "stop_reason": self.stop_reason(gen),
                "stop_sequence": None, "usage": self.usage(prompt, gen.output_tokens)}

    def stream(self, req: Request, gen: Generated, prompt: int) -> Reply:
        start: dict[str, Any] = {"id": self.next_id("msg_emu"), "type": "message", "role": "assistant", "model": req.json.get("model"),
                 "content": [], "stop_reason": None, "stop_sequence": None, "usage": self.usage(prompt, 1)}
        frames = [sse({"type": "message_start", "message": start}, "message_start")]
        for index, block in enumerate(self.content(gen)):
            if block["type"] == "thinking":
                frames.append(sse({"type": "content_block_start", "index": index,
                                   "content_block": {"type": "thinking", "thinking": "", "signature": ""}},
                                  "content_block_start"))
                for piece in replies.chunk_text(block["thinking"]):
                    frames.append(sse({"type": "content_block_delta", "index": index,
                                       "delta": {"type": "thinking_delta", "thinking": piece}}, "content_block_delta"))
                frames.append(sse({"type": "content_block_delta", "index": index,
                                   "delta": {"type": "signature_delta", "signature": block["signature"]}},
                                  "content_block_delta"))
            elif block["type"] == "text":
                frames.append(sse({"type": "content_block_start", "index": index,
                                   "content_block": {"type": "text", "text": ""}}, "content_block_start"))
                if index == 0:
                    frames.append(sse({"type": "ping"}, "ping"))
                for piece in replies.chunk_text(block["text"]):
                    frames.append(sse({"type": "content_block_delta", "index": index,
                                       "delta": {"type": "text_delta", "text": piece}}, "content_block_delta"))
            else:
                frames.append(sse({"type": "content_block_start", "index": index, "content_block": {
                    "type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}}, "content_block_start"))
                if index == 0:
                    frames.append(sse({"type": "ping"}, "ping"))
                payload = json.dumps(block["input"], separators=(",", ":"))
                for piece in replies.chunk_text(payload, 3) or [""]:
                    frames.append(sse({"type": "content_block_delta", "index": index,
                                       "delta": {"type": "input_json_delta", "partial_json": piece}},
                                      "content_block_delta"))
            frames.append(sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
        frames.append(sse({"type": "message_delta", "delta": {"stop_reason": self.stop_reason(gen), "stop_sequence": None},
                           "usage": {"output_tokens": gen.output_tokens}}, "message_delta"))
        frames.append(sse({"type": "message_stop"}, "message_stop"))
        return Reply(events=frames, partial=4, headers=self.headers(), content_type="text/event-stream")

    # -- faults ----------------------------------------------------------------------------------------
    def error_for(self, kind: str, req: Request, fault: Fault) -> tuple[int, str, str, dict[str, str]]:
        if kind == "rate_limit":
            return 429, "rate_limit_error", fault.message or (
                "This request would exceed the rate limit for your organization (org-emulator) of 20,000 input "
                "tokens per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see "
                "the response headers for current usage. Please reduce the prompt length or the maximum tokens "
                "requested, or try again later. You may also contact sales at https://claude.com/contact-sales to "
                "discuss your options for a rate limit increase."), {
                **retry_headers(fault), "anthropic-ratelimit-input-tokens-limit": "20000",
                "anthropic-ratelimit-input-tokens-remaining": "0"}
        if kind == "quota":
            return 400, "invalid_request_error", fault.message or (
                "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to "
                "upgrade or purchase credits."), {}
        if kind == "server_error":
            return 500, "api_error", fault.message or "Internal server error", {}
        if kind == "unavailable":
            return 503, "api_error", fault.message or "Service unavailable", retry_headers(fault)
        if kind == "overloaded":
            return 529, "overloaded_error", fault.message or "Overloaded", retry_headers(fault)
        if kind == "payload_too_large":
            return 413, "request_too_large", fault.message or "Request exceeds the maximum size", {}
        if kind == "http200_error":
            return 200, "api_error", fault.message or "Internal server error", {}
        raise ValueError(kind)

    def fault_reply(self, req: Request, fault: Fault) -> Reply:
        status, type_, message, headers = self.error_for(fault.kind, req, fault)
        if fault.kind == "http200_error" and req.record.stream:
            return Reply(events=[sse(anthropic_error(type_, message), "error")], headers=self.headers(),
                         content_type="text/event-stream")
        return self.error(status, type_, message, headers)

    def stream_error_frames(self, req: Request, fault: Fault, reply: Reply, sent: int) -> list[bytes]:
        if fault.error_type == "overflow":
            m = self.find_model(req.record.model) or EmulatedModel(req.record.model or "model", 200_000)
            body = anthropic_error("invalid_request_error", fault.message or self.overflow_message(
                m, m.context_window + 1, 0))
        else:
            _, type_, message, _ = self.error_for(fault.error_type, req, fault)
            body = anthropic_error(type_, message)
        return [sse(body, "error")]
