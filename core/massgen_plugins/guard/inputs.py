"""What a caller hands to ``send``/``stream``, checked before anything is sent or stored.

Every problem is an :class:`~massgen_plugins.errors.InputError` that names the message and the
field (``messages[1].role``), never a pydantic ``ValidationError``: bytes instead of text, an
unknown role, a tool result without its call, a tool call left unanswered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from ..errors import InputError
from ..types import Message


def _message(value: Any, index: int) -> Message:
    if isinstance(value, Message):
        return value
    if not isinstance(value, dict):
        raise InputError(f"messages[{index}]: a message is a dict or a Message, not {type(value).__name__}")
    if isinstance(value.get("content"), bytes | bytearray):
        raise InputError(f"messages[{index}].content: bytes are not text; decode them first (e.g. data.decode('utf-8'))")
    try:
        return Message.model_validate(value)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "(message)"
            if field == "role":
                problems.append(f"messages[{index}].role: unknown role {value.get('role')!r} (one of: system, "
                                "developer, user, assistant, tool)")
            else:
                problems.append(f"messages[{index}].{'.'.join(str(p) for p in error['loc'])}: {error['msg']}")
        raise InputError("; ".join(dict.fromkeys(problems))) from None


def as_messages(content: Any) -> list[Message]:
    """The messages ``send`` was given: a string (a user turn), a Message, a dict or a list of them."""
    if isinstance(content, str):
        return [Message(role="user", content=content)]
    if isinstance(content, bytes | bytearray):
        raise InputError("send(): content is bytes, not text; decode it first (e.g. data.decode('utf-8'))")
    if isinstance(content, Message | dict):
        return [_message(content, 0)]
    if isinstance(content, Sequence):
        return [_message(m, i) for i, m in enumerate(content)]
    raise InputError(f"send() takes a string, a Message or a list of messages, not {type(content).__name__}")


def check_tool_pairing(messages: Sequence[Message], *, first_new: int = 0, start: int = 0) -> None:
    """Every tool call answered by one result right after its assistant message, and no result
    without its call -- the rule every provider enforces -- checked locally before a request.

    ``first_new`` is the index of the first message the caller just added (named in errors as
    ``messages[i]`` relative to what was passed to ``send``). ``start`` skips a prefix already
    known to be valid (it must end where no tool call is pending).
    """

    def where(index: int) -> str:
        return f"messages[{index - first_new}]" if index >= first_new else f"the conversation's message {index}"

    pending: dict[str, int] = {}
    for index in range(start, len(messages)):
        message = messages[index]
        if message.role == "tool":
            call_id = message.tool_call_id
            if not call_id:
                raise InputError(f"{where(index)}.tool_call_id: a tool result needs the id of the call it answers")
            if call_id not in pending:
                raise InputError(f"{where(index)}.tool_call_id: {call_id!r} answers no tool call of the assistant "
                                 "message before it")
            del pending[call_id]
            continue
        if pending:
            ids = ", ".join(repr(i) for i in sorted(pending))
            raise InputError(f"{where(index)}: tool call(s) {ids} of {where(min(pending.values()))} have no result; "
                             "send a tool message for each call (role 'tool', its tool_call_id) first")
        if message.role == "assistant" and message.tool_calls:
            for call in message.tool_calls:
                if call.id in pending:
                    raise InputError(f"{where(index)}.tool_calls: duplicate tool call id {call.id!r}")
                pending[call.id] = index
    if pending:
        ids = ", ".join(repr(i) for i in sorted(pending))
        raise InputError(f"tool call(s) {ids} of {where(min(pending.values()))} have no result; send a tool "
                         "message for each call (role 'tool', its tool_call_id)")
