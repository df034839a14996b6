"""What a tool call is for, read from its name and arguments: the verb a tool is named for, the
tools plugins declare (``tool_actions`` hook), whether a result refused the call, which arguments
name the record it changed, and tool calls written as markup in a reply (OpenHands' and Cline's
forms for models without function calling). The :mod:`.ledger` builds on these.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from .salience import C_ERROR, features

WRITE_VERBS = frozenset(
    "add append apply book cancel change commit create delete edit insert modify move patch post put remove "
    "rename replace send set submit update upgrade upload write".split())
_REFUSED = re.compile(r"\b(?:errors?|error\(s\)|failed|wrong|incorrect|invalid|rejected|denied|not found|"
                      r"no such file|cannot|unable)\b|\"(?:correct|success|ok)\"\s*:\s*false", re.I)
_KEY_ARG = re.compile(r"(?:^|_)(?:id|ids|key|number|code|name|email|ref)$")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_QUALIFIERS = frozenset({"multi", "batch", "bulk", "file", "files", "fs", "text", "code", "str", "notebook"})
_OBJECT_WORDS = frozenset({"", "file", "files", "flag", "answer", "patch", "text", "line", "lines", "code"})
_FUNCTION = re.compile(r"<function=([\w.-]+)>")
_PARAMETER = re.compile(r"<parameter=(\w+)>")
_TAG_CALL = re.compile(r"<((?:write|replace|insert|apply|search_and_replace|execute|create|edit|delete)_?\w*)>\s*\n")
_CHILD = re.compile(r"<(\w+)>")


ActionKind = Literal["edit", "create", "delete", "open", "submit", "shell", "record", "read"]


@dataclass(frozen=True)
class ToolAction:
    """What one tool does, declared by a plugin (``tool_actions`` hook) when its name and
    arguments do not say it. ``kind``: ``edit``/``create``/``delete`` (the file named by the
    ``path`` argument; an ``edit`` without one edits the open file), ``open`` (makes the ``path``
    argument the open file), ``submit`` (the ``argument`` holds the answer; default: every
    one-line argument), ``shell`` (the ``argument`` is a shell command; default ``command``),
    ``record`` (changes a record, named by its key arguments) or ``read`` (changes nothing)."""

    tool: str
    kind: ActionKind
    path: str | None = None
    argument: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.tool, str) or not self.tool.strip():
            raise ValueError("a ToolAction needs the tool's name")
        if self.kind not in get_args(ActionKind):
            raise ValueError(f"tool action {self.tool!r}: kind must be one of {', '.join(get_args(ActionKind))}, "
                             f"not {self.kind!r}")


def plugin_actions() -> tuple[ToolAction, ...]:
    """Every plugin's declared tool actions (collected once per plugin host; none without one)."""
    try:
        from ..manager import get_hooks

        return get_hooks().tool_actions()
    except Exception:  # no host (a bare import, a broken environment): the built-in reading stands
        return ()


def tool_verb(name: str) -> str:
    """The verb a tool is named for: ``update`` of ``update_reservation``, ``updateReservation``,
    ``tools.update-reservation``; ``create`` of ``createfile``; ``edit`` of ``MultiEdit`` and
    ``write`` of ``file_write`` (a qualifier first)."""
    base = name.rsplit(".", 1)[-1]
    base = _CAMEL.sub("_", base).replace("-", "_").lstrip("_").lower()
    words = base.split("_")
    verb = words[0]
    if verb in _QUALIFIERS and len(words) > 1 and words[1] in WRITE_VERBS:  # MultiEdit, file_write
        return words[1]
    if verb not in WRITE_VERBS:
        for known in WRITE_VERBS:
            if len(known) >= 4 and verb.startswith(known) and verb[len(known):] in _OBJECT_WORDS:
                return known
    return verb


def refused(result: str) -> bool:
    """Does a tool result say in its first line that the call was refused or failed (``Error:
    not enough seats``, ``Wrong flag!``, ``{"correct": false}``, a syntax error in an edit)?"""
    first = result.lstrip()[:200].split("\n", 1)[0]
    return bool(_REFUSED.search(first)) or bool(features(first)[0] & C_ERROR)


def is_write(name: str) -> bool:
    """Does the tool ``name`` change state (``update_reservation``, ``edit_file``, ``submit``)?"""
    return tool_verb(name) in WRITE_VERBS


def key_arguments(args: dict[str, Any]) -> str:
    """The arguments that say *which* record a call changed (``reservation_id=ABC123``): keys
    naming an id, key, number, code, name or e-mail with a short value; else the first short
    scalar argument."""
    picked = [(k, v) for k, v in args.items() if _KEY_ARG.search(k.lower()) and _short(v)]
    if not picked:
        picked = [(k, v) for k, v in args.items() if _short(v)][:1]
    return ", ".join(f"{k}={_scalar(v)}" for k, v in picked[:4])


def one_line(value: Any, limit: int = 300) -> bool:
    """A number or one line of text of at most ``limit`` characters (an answer: a flag can be
    long; an id is short)."""
    return isinstance(value, str | int | float) and not isinstance(value, bool) and 0 < len(str(value)) <= limit \
        and "\n" not in str(value)


def _short(value: Any) -> bool:
    """An id-like value: one short line, or a list of at most four of them."""
    if isinstance(value, list):
        return 0 < len(value) <= 4 and all(_short(v) for v in value)
    return one_line(value, 48)


def _scalar(value: Any) -> str:
    return "[" + ", ".join(map(str, value)) + "]" if isinstance(value, list) else str(value)


def text_tool_calls(text: str) -> list[tuple[str, dict[str, str]]]:
    """Tool calls written as markup in a reply, ``(name, arguments)``: OpenHands' form for models
    without function calling (``<function=NAME><parameter=KEY>VALUE</parameter></function>``)
    and Cline's (``<write_to_file><path>PATH</path><content>...</content></write_to_file>``)."""
    calls = [(name, {k: v.strip("\n") for k, v in elements(body, _PARAMETER, lambda _: "</parameter>")})
             for name, body in elements(text, _FUNCTION, lambda _: "</function>", to_end=True)]
    for name, body in elements(text, _TAG_CALL, lambda tag: f"</{tag}>"):
        calls.append((name, {k: v.strip() for k, v in elements(body, _CHILD, lambda tag: f"</{tag}>")}))
    return calls


def elements(text: str, opening: re.Pattern[str], closing: Callable[[str], str], *,
             to_end: bool = False) -> list[tuple[str, str]]:
    """``(name, body)`` of each element of ``text`` whose opening tag matches ``opening`` (group 1:
    its name) and whose closing tag ``closing(name)`` comes before the next opening tag -- or,
    ``to_end``, of every element, an unclosed one running to the next opening or the end. Each
    closing tag is looked for only up to the next opening, so this stays linear however many tags
    are left open."""
    opened = list(opening.finditer(text))
    out: list[tuple[str, str]] = []
    for n, m in enumerate(opened):
        limit = opened[n + 1].start() if n + 1 < len(opened) else len(text)
        at = text.find(closing(m.group(1)), m.end(), limit)
        if at >= 0 or to_end:
            out.append((m.group(1), text[m.end():at if at >= 0 else limit]))
    return out
