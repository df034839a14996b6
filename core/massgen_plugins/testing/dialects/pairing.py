"""Tool-call pairing, checked the way each real API checks it, with its own error wording.

Every provider rejects a tool call left without its result and a result without its call; the
emulator does too, so a client that breaks a pair is caught offline. The wording is the APIs'
own, as users have reported it:

* OpenAI Chat Completions (400 ``invalid_request_error``, ``param`` ``messages.[i].role``) --
  both bodies quoted in https://github.com/sdcb/chats/pull/132;
* OpenAI Responses (400 ``invalid_request_error``, ``param`` ``input``) --
  https://github.com/massgen/MassGen/issues/590 (a call without its output) and
  https://github.com/continuedev/continue/issues/10092 (an output without its call);
* Anthropic Messages (400 ``invalid_request_error``) --
  https://github.com/anthropics/claude-code/issues/8210 (a call without its result) and
  https://github.com/browseros-ai/BrowserOS-agent/pull/106 (a result without its call);
* Gemini (400 ``INVALID_ARGUMENT``) -- https://github.com/langchain-ai/langchain/issues/27799,
  https://github.com/google-gemini/gemini-cli/issues/17208 and
  https://github.com/google-gemini/gemini-cli/issues/11814.
"""

from __future__ import annotations

from typing import Any


def chat_pairing_error(messages: list[Any]) -> tuple[str, str] | None:
    """``(message, param)`` of the first pairing rule a Chat Completions ``messages`` list breaks."""
    pending: list[str] = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        if role == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in pending:
                return ("Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                        "with 'tool_calls'.", f"messages.[{index}].role")
            pending.remove(call_id)
            continue
        if pending:
            return _unanswered(pending), f"messages.[{index}].role"
        if role == "assistant":
            pending = [str(c.get("id")) for c in message.get("tool_calls") or [] if isinstance(c, dict)]
    if pending:
        return _unanswered(pending), f"messages.[{len(messages) - 1}].role"
    return None


def responses_pairing_error(items: list[Any]) -> str | None:
    """The message of the first pairing rule a Responses ``input`` list breaks: every
    ``function_call`` has a ``function_call_output`` after it, every output a call before it."""
    calls: list[str] = []
    outputs: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call":
            calls.append(str(item.get("call_id")))
        elif item.get("type") == "function_call_output":
            call_id = str(item.get("call_id"))
            if call_id not in calls:
                return f"No tool call found for function call output with call_id {call_id}."
            outputs.add(call_id)
    missing = [c for c in calls if c not in outputs]
    return f"No tool output found for function call {missing[0]}." if missing else None


def _unanswered(ids: list[str]) -> str:
    return ("An assistant message with 'tool_calls' must be followed by tool messages responding to each "
            f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(ids)}")


def _blocks(message: Any, kind: str) -> list[tuple[int, dict[str, Any]]]:
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list):
        return []
    return [(k, b) for k, b in enumerate(content) if isinstance(b, dict) and b.get("type") == kind]


def anthropic_pairing_error(messages: list[Any]) -> str | None:
    """The message of the first pairing rule an Anthropic ``messages`` list breaks."""
    for index, message in enumerate(messages):
        previous = messages[index - 1] if index else None
        calls = {str(b.get("id")) for _, b in _blocks(previous, "tool_use")} if previous is not None else set()
        for k, block in _blocks(message, "tool_result"):
            if str(block.get("tool_use_id")) not in calls:
                return (f"messages.{index}.content.{k}: unexpected `tool_use_id` found in `tool_result` blocks: "
                        f"{block.get('tool_use_id')}. Each `tool_result` block must have a corresponding `tool_use` "
                        "block in the previous message.")
        uses = [str(b.get("id")) for _, b in _blocks(message, "tool_use")]
        if uses:
            following = messages[index + 1] if index + 1 < len(messages) else None
            answered = {str(b.get("tool_use_id")) for _, b in _blocks(following, "tool_result")}
            missing = [u for u in uses if u not in answered]
            if missing:
                return (f"messages.{index}: `tool_use` ids were found without `tool_result` blocks immediately "
                        f"after: {', '.join(missing)}. Each `tool_use` block must have a corresponding "
                        "`tool_result` block in the next message.")
    return None


def _parts(content: Any, camel: str, snake: str) -> int:
    parts = content.get("parts") if isinstance(content, dict) else None
    return sum(1 for p in parts or [] if isinstance(p, dict) and (camel in p or snake in p))


def gemini_pairing_error(contents: list[Any]) -> str | None:
    """The message of the first pairing rule a Gemini ``contents`` list breaks."""
    for index, content in enumerate(contents):
        calls = _parts(content, "functionCall", "function_call")
        responses = _parts(content, "functionResponse", "function_response")
        previous = contents[index - 1] if index else None
        previous_calls = _parts(previous, "functionCall", "function_call") if previous is not None else 0
        if responses and not previous_calls:
            return "Please ensure that function response turn comes immediately after a function call turn."
        if responses and responses != previous_calls:
            return ("Please ensure that the number of function response parts is equal to the number of function "
                    "call parts of the function call turn.")
        if calls and (previous is None or not isinstance(previous, dict) or previous.get("role", "user") != "user"):
            return ("Please ensure that function call turn comes immediately after a user turn or after a function "
                    "response turn.")
        if previous_calls and not responses:
            return ("Please ensure that the number of function response parts is equal to the number of function "
                    "call parts of the function call turn.")
    return None
