"""OpenAI: models and chat completions (from the compatible base) plus the Responses API —
``/v1/responses`` (JSON and SSE), ``GET /v1/responses/{id}``, ``previous_response_id`` chaining,
``/v1/responses/compact`` and ``/v1/responses/input_tokens`` (as the provider documents them)."""

from __future__ import annotations

import base64
import json
import threading
import time
import zlib
from typing import Any

from .. import replies, tokens
from ..replies import Conversation, Generated, Turn
from ..spec import EmulatedModel, Fault
from .base import HttpError, Reply, Request, Sizes, sse
from .openai_compat import OpenAICompatDialect, content_text, openai_error
from .pairing import responses_pairing_error

_OVERFLOW_MESSAGE = "Your input exceeds the context window of this model. Please adjust your input and try again."
#: Compaction summaries are capped so a compaction item costs a small, bounded number of tokens.
COMPACTION_TOKENS = 200


def encode_compaction(summary: str) -> str:
    """The opaque ``encrypted_content`` of a compaction item (carries the summary)."""
    return "gAAAAB" + base64.urlsafe_b64encode(zlib.compress(json.dumps({"s": summary}).encode())).decode()


def decode_compaction(blob: Any) -> str:
    """The summary inside ``encrypted_content`` ("" when it is not one of ours)."""
    if not isinstance(blob, str) or not blob.startswith("gAAAAB"):
        return ""
    try:
        return str(json.loads(zlib.decompress(base64.urlsafe_b64decode(blob[6:].encode()))).get("s", ""))
    except (ValueError, zlib.error):
        return ""


def items_conversation(items: list[Any], instructions: str | None, tools: Any) -> tuple[Conversation, list[str], int]:
    """``(conversation, texts to count, item count)`` of Responses API input items."""
    conv = Conversation()
    texts: list[str] = []
    system: list[str] = [instructions] if instructions else []
    names: dict[str, str] = {}
    for item in items:
        if isinstance(item, str):
            item = {"role": "user", "content": item}
        if not isinstance(item, dict):
            continue
        kind = item.get("type", "message")
        if kind == "message" or ("role" in item and kind not in ("function_call", "function_call_output")):
            text = content_text(item.get("content"))
            texts.append(text)
            role = item.get("role", "user")
            if role in ("system", "developer"):
                system.append(text)
            else:
                conv.turns.append(Turn("assistant" if role == "assistant" else "user", text))
        elif kind == "function_call":
            names[str(item.get("call_id"))] = str(item.get("name", ""))
            texts.extend([str(item.get("name", "")), str(item.get("arguments", ""))])
            conv.turns.append(Turn("assistant", f"{item.get('name')}({item.get('arguments', '')})"))
        elif kind == "function_call_output":
            output = item.get("output")
            text = output if isinstance(output, str) else content_text(output)
            texts.append(text)
            conv.turns.append(Turn("tool", text, names.get(str(item.get("call_id")))))
        elif kind == "compaction":
            summary = decode_compaction(item.get("encrypted_content"))
            texts.append(summary)
            if summary:
                conv.turns.append(Turn("assistant", summary))
    if instructions:
        texts.insert(0, instructions)
    for tool in tools or []:
        if isinstance(tool, dict) and tool.get("type") == "function" and tool.get("name"):
            conv.tools.append(str(tool["name"]))
            texts.append(json.dumps(tool, sort_keys=True))
    conv.system = "\n".join(system)
    return conv, texts, len(items)


class OpenAIDialect(OpenAICompatDialect):
    provider = "openai"
    root = "/v1"

    def __init__(self, emulator: Any) -> None:
        super().__init__(emulator)
        self._stored: dict[str, tuple[list[Any], dict[str, Any]]] = {}
        self._store_lock = threading.Lock()

    def route_more(self, req: Request, sub: str, fault: Fault | None) -> Reply:
        if req.method == "POST" and sub == "/responses":
            return self.responses(req, fault)
        if req.method == "POST" and sub == "/responses/compact":
            return self.compact(req)
        if req.method == "POST" and sub == "/responses/input_tokens":
            _, _, texts, n = self.responses_input(req)
            return Reply(body={"object": "response.input_tokens", "input_tokens": self.count(texts, n)},
                         headers=self.base_headers())
        if req.method == "GET" and sub.startswith("/responses/"):
            with self._store_lock:
                stored = self._stored.get(sub[len("/responses/"):])
            if stored is None:
                raise HttpError(self.error_reply(404, openai_error(
                    f"Response with id '{sub[len('/responses/'):]}' not found.", "invalid_request_error", None, None)))
            return Reply(body=stored[1], headers=self.base_headers())
        raise HttpError(self.not_found(req))

    # -- input -----------------------------------------------------------------------------------------
    def input_items(self, req: Request) -> list[Any]:
        body = req.json
        raw = body.get("input")
        items: list[Any] = [{"role": "user", "content": raw}] if isinstance(raw, str) else list(raw or [])
        previous = body.get("previous_response_id")
        if previous:
            with self._store_lock:
                stored = self._stored.get(str(previous))
            if stored is None:
                raise HttpError(self.error_reply(400, openai_error(
                    f"Previous response with id '{previous}' not found.", "invalid_request_error",
                    "previous_response_id", "previous_response_not_found")))
            items = stored[0] + items
        return items

    def responses_input(self, req: Request) -> tuple[EmulatedModel, list[Any], list[str], int]:
        m = self.resolve_chat_model(req)
        items = self.input_items(req)
        conv, texts, n = items_conversation(items, req.json.get("instructions"), req.json.get("tools"))
        return m, items, texts, n

    # -- /responses ------------------------------------------------------------------------------------
    def responses(self, req: Request, fault: Fault | None) -> Reply:
        body = req.json
        m = self.resolve_chat_model(req)
        items = self.input_items(req)
        pairing = responses_pairing_error(items)
        if pairing is not None:
            raise HttpError(self.error_reply(400, openai_error(pairing, "invalid_request_error", "input")))
        conv, texts, n = items_conversation(items, body.get("instructions"), body.get("tools"))
        requested = body.get("max_output_tokens")
        requested = requested if isinstance(requested, int) and not isinstance(requested, bool) else None
        sizes = Sizes(self.count(texts, n), requested, 0)
        stream = bool(body.get("stream"))
        over_cap = self.output_over_cap(m, sizes, self.forced_output_cap(fault))
        if over_cap is not None:
            raise HttpError(self.error_reply(400, openai_error(
                f"Invalid 'max_output_tokens': integer above maximum value. Expected a value <= {m.max_output}, "
                f"but got {over_cap} instead.", "invalid_request_error", "max_output_tokens",
                "integer_above_max_value")))
        base = self.response_object(req, m, "in_progress")
        overflow = self.overflow_sizes(m, sizes, self.forced_overflow(fault))
        if overflow is not None:
            error = openai_error(fault.message if fault and fault.message else _OVERFLOW_MESSAGE,
                                 "invalid_request_error", "input", "context_length_exceeded")
            if not stream:
                raise HttpError(self.error_reply(400, error))
            frames = [sse({"type": "response.created", "sequence_number": 0, "response": base}, "response.created"),
                      sse({"type": "response.in_progress", "sequence_number": 1, "response": base},
                          "response.in_progress"),
                      sse({"type": "error", "sequence_number": 2, "error": error["error"]}, "error")]
            return Reply(events=frames, headers=self.base_headers(), content_type="text/event-stream")
        gen = replies.generate(conv, str(body.get("model")), requested if requested is not None else m.max_output)
        output = self.output_items(gen)
        done = dict(base, status="incomplete" if gen.truncated else "completed", output=output,
                    usage=self.responses_usage(sizes.input, gen.output_tokens),
                    incomplete_details={"reason": "max_output_tokens"} if gen.truncated else None)
        if body.get("store", True) is not False:
            with self._store_lock:
                self._stored[done["id"]] = (items + output, done)
        if not stream:
            return Reply(body=done, headers=self.base_headers())
        return self.responses_stream(base, done)

    def response_object(self, req: Request, m: EmulatedModel, status: str) -> dict[str, Any]:
        body = req.json
        return {
            "id": self.next_id("resp_emu"), "object": "response", "created_at": int(time.time()), "status": status,
            "background": False, "error": None, "incomplete_details": None, "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"), "model": body.get("model") or m.id, "output": [],
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "previous_response_id": body.get("previous_response_id"), "reasoning": {"effort": None, "summary": None},
            "store": body.get("store", True), "temperature": 1.0, "text": {"format": {"type": "text"}},
            "tool_choice": body.get("tool_choice", "auto"), "tools": body.get("tools") or [], "top_p": 1.0,
            "truncation": body.get("truncation", "disabled"), "usage": None, "metadata": body.get("metadata") or {},
        }

    @staticmethod
    def responses_usage(prompt: int, output: int) -> dict[str, Any]:
        return {"input_tokens": prompt, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": output,
                "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": prompt + output}

    def output_items(self, gen: Generated) -> list[dict[str, Any]]:
        if gen.tool_calls:
            return [{"type": "function_call", "id": call.id.replace("call_", "fc_"), "call_id": call.id,
                     "name": call.name, "arguments": call.arguments_json, "status": "completed"}
                    for call in gen.tool_calls]
        return [{"type": "message", "id": self.next_id("msg_emu"), "status": "completed", "role": "assistant",
                 "content": [{"type": "output_text", "text": gen.text, "annotations": [], "logprobs": []}]}]

    def responses_stream(self, base: dict[str, Any], done: dict[str, Any]) -> Reply:
        events: list[tuple[str, dict[str, Any]]] = [("response.created", {"response": base}),
                                                    ("response.in_progress", {"response": base})]
        partial = 0
        for index, item in enumerate(done["output"]):
            if item["type"] == "function_call":
                events.append(("response.output_item.added",
                               {"output_index": index, "item": dict(item, arguments="", status="in_progress")}))
                for piece in replies.chunk_text(item["arguments"], 3) or [""]:
                    events.append(("response.function_call_arguments.delta",
                                   {"item_id": item["id"], "output_index": index, "delta": piece}))
                    partial = partial or len(events)
                events.append(("response.function_call_arguments.done", {
                    "item_id": item["id"], "output_index": index, "arguments": item["arguments"],
                    "name": item["name"]}))
            else:
                text = item["content"][0]["text"]
                events.append(("response.output_item.added",
                               {"output_index": index, "item": dict(item, status="in_progress", content=[])}))
                events.append(("response.content_part.added", {
                    "item_id": item["id"], "output_index": index, "content_index": 0,
                    "part": {"type": "output_text", "text": "", "annotations": [], "logprobs": []}}))
                for piece in replies.chunk_text(text):
                    events.append(("response.output_text.delta", {
                        "item_id": item["id"], "output_index": index, "content_index": 0, "delta": piece,
                        "logprobs": []}))
                    partial = partial or len(events)
                events.append(("response.output_text.done", {
                    "item_id": item["id"], "output_index": index, "content_index": 0, "text": text, "logprobs": []}))
                events.append(("response.content_part.done", {
                    "item_id": item["id"], "output_index": index, "content_index": 0,
                    "part": item["content"][0]}))
            events.append(("response.output_item.done", {"output_index": index, "item": item}))
        final = "response.incomplete" if done["status"] == "incomplete" else "response.completed"
        events.append((final, {"response": done}))
        frames = [sse({"type": name, "sequence_number": seq, **data}, name) for seq, (name, data) in enumerate(events)]
        return Reply(events=frames, partial=partial or 2, headers=self.base_headers(),
                     content_type="text/event-stream", meta={"response": base})

    def stream_error_frames(self, req: Request, fault: Fault, reply: Reply, sent: int) -> list[bytes]:
        if not req.path.endswith("/responses"):
            return super().stream_error_frames(req, fault, reply, sent)
        err = self.stream_error_object(req, fault)
        if fault.error_type == "overflow":
            err = dict(err, message=fault.message or _OVERFLOW_MESSAGE, param="input")
        if fault.form == "flat":
            return [sse({"type": "error", "sequence_number": sent, "code": err.get("code"),
                         "message": err.get("message"), "param": err.get("param")}, "error")]
        if fault.form == "failed":
            response = dict(reply.meta.get("response") or {}, status="failed",
                            error={"code": err.get("code") or "server_error", "message": err.get("message")})
            return [sse({"type": "response.failed", "sequence_number": sent, "response": response}, "response.failed")]
        return [sse({"type": "error", "sequence_number": sent, "error": err}, "error")]

    # -- /responses/compact ------------------------------------------------------------------------------
    def compact(self, req: Request) -> Reply:
        m, items, texts, n = self.responses_input(req)
        prompt = self.count(texts, n)
        kept: list[dict[str, Any]] = []
        rest: list[Turn] = []
        for item in items:
            if isinstance(item, dict) and item.get("type", "message") == "message" and item.get("role") == "user":
                kept.append({"type": "message", "id": item.get("id") or self.next_id("msg_emu"), "role": "user",
                             "status": "completed",
                             "content": [{"type": "input_text", "text": content_text(item.get("content"))}]})
            elif isinstance(item, dict):
                conv, _, _ = items_conversation([item], None, None)
                rest.extend(conv.turns)
        summary, _ = tokens.truncate_to(replies.summarize(rest), COMPACTION_TOKENS)
        compaction = {"type": "compaction", "id": self.next_id("cmp_emu"), "encrypted_content": encode_compaction(summary)}
        out = tokens.count_text(summary)
        return Reply(body={"id": self.next_id("resp_emu"), "object": "response.compaction",
                           "created_at": int(time.time()), "output": [*kept, compaction],
                           "usage": self.responses_usage(prompt, out)}, headers=self.base_headers())
