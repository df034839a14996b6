"""Translate between the OpenAI Chat Completions format and Gemini's ``contents``.

* system and developer messages become ``system_instruction``;
* ``assistant`` is role ``model``; its ``tool_calls`` are ``function_call`` parts (``args`` a dict);
* ``tool`` messages are ``function_response`` parts in a ``user`` turn; the function *name*
  Gemini needs is looked up from the assistant call with the same ``tool_call_id``;
* consecutive turns of the same role are merged, so the responses to parallel calls arrive in one
  turn as the API expects;
* a ``thought_signature`` Gemini attached to a function call is kept on the :class:`ToolCall`
  (base64, extra field ``thought_signature``) and sent back with it, as Gemini 3 requires.

Plain dicts in the REST field names the SDK accepts (snake_case); no SDK import here.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from massgen_plugins.types import CompletionResponse, Message, ToolCall, Usage

#: Gemini's documented stand-in for a function call that has no thought signature of its own (a
#: call made by another provider, before a fallback to Gemini 3, which rejects unsigned calls).
DUMMY_THOUGHT_SIGNATURE = b"skip_thought_signature_validator"

#: Inserted when a conversation (after compression, say) starts with a model turn.
LEADING_USER_PLACEHOLDER = "(The conversation continues from an earlier part.)"

_FINISH = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "BLOCKLIST": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "MALFORMED_FUNCTION_CALL": "error",
}


def _parts(content: str | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}] if content else []
    parts: list[dict[str, Any]] = []
    for part in content:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind in ("text", "input_text", "output_text"):
            if part.get("text"):
                parts.append({"text": str(part["text"])})
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if isinstance(url, str) and url.startswith("data:") and ";base64," in url:
                mime, data = url[5:].split(";base64,", 1)
                parts.append({"inline_data": {"mime_type": mime or "image/png", "data": base64.b64decode(data)}})
            elif isinstance(url, str) and url:
                parts.append({"file_data": {"file_uri": url, "mime_type": _guess_mime(url)}})
        elif any(k in part for k in ("inline_data", "file_data", "function_call", "function_response")):
            parts.append({k: v for k, v in part.items() if k != "type"})
        # parts of other providers (an OpenAI compaction item, ...) mean nothing to Gemini
    return parts


def _guess_mime(url: str) -> str:
    lower = url.lower().split("?", 1)[0]
    for ext, mime in ((".png", "image/png"), (".gif", "image/gif"), (".webp", "image/webp"),
                      (".pdf", "application/pdf")):
        if lower.endswith(ext):
            return mime
    return "image/jpeg"


def _arguments(call: ToolCall) -> dict[str, Any]:
    raw = call.function.get("arguments") or "{}"
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return {"_raw_arguments": str(raw)}
    return value if isinstance(value, dict) else {"value": value}


def _function_call_part(call: ToolCall) -> dict[str, Any]:
    part: dict[str, Any] = {"function_call": {"name": str(call.function.get("name", "")),
                                              "args": _arguments(call)}}
    if call.id and not call.id.startswith("gemini-call-"):
        part["function_call"]["id"] = call.id
    signature = (call.model_extra or {}).get("thought_signature")
    if signature:
        part["thought_signature"] = base64.b64decode(signature)
    return part


def _response_value(message: Message) -> dict[str, Any]:
    text = message.text()
    try:
        value = json.loads(text) if text else None
    except ValueError:
        value = None
    if isinstance(value, dict):
        return value
    key = "error" if (message.model_extra or {}).get("is_error") else "output"
    return {key: value if value is not None else text}


def needs_signatures(model: str | None) -> bool:
    """Gemini 3 models reject a function call in the history that carries no thought signature."""
    return bool(model) and "gemini-3" in str(model)


def to_gemini(messages: list[Message], model: str | None = None) -> tuple[str | None, list[dict[str, Any]]]:
    """``(system_instruction, contents)`` for ``generate_content`` / ``count_tokens``.

    For Gemini 3 ``model`` ids, the first function call of a model turn that has no signature
    (the call came from another provider) gets :data:`DUMMY_THOUGHT_SIGNATURE`.
    """
    system: list[str] = []
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}

    def add(role: str, parts: list[dict[str, Any]]) -> None:
        if not parts:
            return
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": list(parts)})

    for message in messages:
        if message.role in ("system", "developer"):
            if message.text().strip():
                system.append(message.text().strip())
        elif message.role == "assistant":
            parts = _parts(message.content)
            for index, call in enumerate(message.tool_calls or []):
                names[call.id] = str(call.function.get("name", ""))
                part = _function_call_part(call)
                if index == 0 and "thought_signature" not in part and needs_signatures(model):
                    part["thought_signature"] = DUMMY_THOUGHT_SIGNATURE
                parts.append(part)
            add("model", parts)
        elif message.role == "tool":
            call_id = message.tool_call_id or ""
            response: dict[str, Any] = {"name": names.get(call_id) or message.name or "tool",
                                        "response": _response_value(message)}
            if call_id and not call_id.startswith("gemini-call-"):
                response["id"] = call_id
            add("user", [{"function_response": response}])
        else:
            add("user", _parts(message.content))
    if contents and contents[0]["role"] != "user":
        # a function call must follow a user turn; a compressed history may start with the model
        contents.insert(0, {"role": "user", "parts": [{"text": LEADING_USER_PLACEHOLDER}]})
    return ("\n\n".join(system) or None), contents


def to_gemini_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI function tools as one Gemini ``Tool`` with ``function_declarations``.

    Parameters travel as ``parameters_json_schema`` (plain JSON Schema), so schemas with
    ``additionalProperties``, ``$ref`` or ``anyOf`` are not squeezed through Gemini's OpenAPI
    subset. Native Gemini tool dicts (``google_search``, ``code_execution``, ...) pass through.
    """
    declarations: list[dict[str, Any]] = []
    native: list[dict[str, Any]] = []
    for tool in tools:
        if tool.get("type") == "function" or "function" in tool:
            fn = tool.get("function", tool)
            declaration: dict[str, Any] = {"name": fn["name"]}
            if fn.get("description"):
                declaration["description"] = fn["description"]
            if fn.get("parameters"):
                declaration["parameters_json_schema"] = fn["parameters"]
            declarations.append(declaration)
        elif "name" in tool and "parameters" in tool:
            declarations.append({"name": tool["name"], "description": tool.get("description", ""),
                                 "parameters_json_schema": tool["parameters"]})
        else:
            native.append(dict(tool))
    result = [{"function_declarations": declarations}] if declarations else []
    return result + native


def to_tool_config(choice: Any) -> dict[str, Any] | None:
    """OpenAI ``tool_choice`` as Gemini's ``tool_config.function_calling_config``."""
    if choice is None:
        return None
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name") or choice.get("name")
        if name:
            return {"function_calling_config": {"mode": "ANY", "allowed_function_names": [name]}}
        return None
    mode = {"auto": "AUTO", "required": "ANY", "any": "ANY", "none": "NONE"}.get(str(choice))
    return {"function_calling_config": {"mode": mode}} if mode else None


def finish_reason(reason: Any, has_calls: bool) -> str | None:
    """Gemini's ``finish_reason`` enum in OpenAI terms."""
    if reason is None:
        return "tool_calls" if has_calls else None
    name = getattr(reason, "name", None) or str(reason)
    if name == "STOP" and has_calls:
        return "tool_calls"
    return _FINISH.get(name, name.lower())


def call_from_part(function_call: Any, signature: bytes | None) -> ToolCall:
    """A :class:`ToolCall` from an SDK ``FunctionCall`` (an id is made up when Gemini gives none)."""
    call_id = getattr(function_call, "id", None) or f"gemini-call-{uuid.uuid4().hex[:12]}"
    extra: dict[str, Any] = {}
    if signature:
        extra["thought_signature"] = base64.b64encode(signature).decode("ascii")
    return ToolCall(id=call_id, function={"name": function_call.name or "",
                                          "arguments": json.dumps(dict(function_call.args or {}))}, **extra)


def split_parts(response: Any) -> tuple[list[str], list[ToolCall], Any]:
    """Text pieces (thoughts skipped), tool calls and the finish reason of one (chunk) response."""
    texts: list[str] = []
    calls: list[ToolCall] = []
    reason = None
    for candidate in (getattr(response, "candidates", None) or [])[:1]:
        reason = getattr(candidate, "finish_reason", None)
        content = getattr(candidate, "content", None)
        for part in getattr(content, "parts", None) or []:
            if getattr(part, "function_call", None) is not None:
                calls.append(call_from_part(part.function_call, getattr(part, "thought_signature", None)))
            elif getattr(part, "text", None) and not getattr(part, "thought", False):
                texts.append(part.text)
    return texts, calls, reason


def usage_of(response: Any) -> Usage | None:
    meta = getattr(response, "usage_metadata", None)
    if meta is None:
        return None
    output = (getattr(meta, "candidates_token_count", 0) or 0) + (getattr(meta, "thoughts_token_count", 0) or 0)
    return Usage(input_tokens=getattr(meta, "prompt_token_count", 0) or 0, output_tokens=output)


def from_gemini(response: Any, model: str) -> CompletionResponse:
    """A :class:`CompletionResponse` from a ``GenerateContentResponse``."""
    texts, calls, reason = split_parts(response)
    blocked = getattr(getattr(response, "prompt_feedback", None), "block_reason", None)
    return CompletionResponse(
        model=model, id=getattr(response, "response_id", None),
        message=Message(role="assistant", content="".join(texts) or None, tool_calls=calls or None),
        # a prompt blocked by safety filters comes back with no candidates at all
        finish_reason="content_filter" if blocked and reason is None else finish_reason(reason, bool(calls)),
        usage=usage_of(response) or Usage(),
    )
