"""Deterministic, cheap replies derived from the request.

- a system prompt / instructions mentioning "summar" → a summary built from the conversation
  (lines carrying numbers or ids are kept verbatim, so compression tests see real summaries);
- tools offered and the last message is a user message containing ``[[call <tool> <json-args>]]``
  → tool call(s) (several markers → parallel calls);
- the last message is a tool result → a text reply acknowledging it (so agent loops end);
- otherwise ``"emulated reply from <model> to: <first words>"``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from . import tokens

_MARKER = re.compile(r"\[\[call\s+([A-Za-z0-9_.:-]+)\s*")
_HAS_NUMBER_OR_ID = re.compile(r"\d|\b[A-Za-z]+[-_][A-Za-z0-9][\w-]*\b|\b[A-Z]{2,}\b")
_SUMMARY_HEADER = re.compile(r"^Summary of \d+ earlier messages:$")
_FIRST_WORDS = 12


@dataclass
class Turn:
    """One message of a conversation, reduced to role and text."""

    role: str  # "user", "assistant" or "tool"
    text: str
    tool_name: str | None = None


@dataclass
class Conversation:
    """A request reduced to what the reply generator needs."""

    system: str = ""
    turns: list[Turn] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]

    @property
    def arguments_json(self) -> str:
        return json.dumps(self.arguments, separators=(",", ":"))


@dataclass
class Generated:
    """The reply: text or tool calls, whether it was cut at the output limit, its token count."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    truncated: bool = False
    output_tokens: int = 0
    thinking: str = ""  # extended thinking / reasoning, for dialects that stream it


def stable_id(prefix: str, *parts: Any) -> str:
    """A short id that depends only on ``parts`` (replies are deterministic)."""
    digest = hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    return f"{prefix}{digest[:24]}"


def parse_tool_markers(text: str, offered: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """``[[call name {json}]]`` markers in ``text`` for tools in ``offered``."""
    calls: list[tuple[str, dict[str, Any]]] = []
    decoder = json.JSONDecoder()
    for match in _MARKER.finditer(text):
        name = match.group(1)
        rest = text[match.end():]
        args: Any = {}
        if rest.startswith("{"):
            try:
                args, _ = decoder.raw_decode(rest)
            except json.JSONDecodeError:
                args = {}
        if not isinstance(args, dict):
            args = {"value": args}
        if not offered or name in offered:
            calls.append((name, args))
    return calls


def summarize(turns: list[Turn]) -> str:
    """A summary that keeps every line carrying a number or an id, plus each turn's opening."""
    kept: list[str] = []
    seen: set[str] = set()
    for turn in turns:
        lines = [line.strip() for line in turn.text.splitlines() if line.strip()]
        for line in lines:
            if _SUMMARY_HEADER.match(line):
                continue  # an earlier summary being re-summarized: keep its points, not its header
            if _HAS_NUMBER_OR_ID.search(line) and line not in seen:
                seen.add(line)
                kept.append(line if line.startswith("- ") else f"- {line}")
    if not kept:
        for turn in turns:
            opening = " ".join(turn.text.split()[:_FIRST_WORDS])
            if opening and opening not in seen:
                seen.add(opening)
                kept.append(f"- {turn.role}: {opening}")
    header = f"Summary of {len(turns)} earlier messages:"
    return "\n".join([header, *kept])


def generate(conv: Conversation, model: str, max_output: int) -> Generated:
    """The deterministic reply to ``conv`` from ``model``, at most ``max_output`` tokens long."""
    last = conv.turns[-1] if conv.turns else None
    if conv.tools and last is not None and last.role == "user":
        markers = parse_tool_markers(last.text, conv.tools)
        if markers:
            calls = [
                ToolCall(id=stable_id("call_", model, i, name, args, len(conv.turns)), name=name, arguments=args)
                for i, (name, args) in enumerate(markers)
            ]
            out = sum(tokens.count_text(c.name) + tokens.count_text(c.arguments_json) for c in calls)
            return Generated(tool_calls=calls, output_tokens=out)
    if "summar" in conv.system.lower():
        text = summarize([t for t in conv.turns])
    elif last is not None and last.role == "tool":
        opening = " ".join(last.text.split()[:_FIRST_WORDS])
        text = f"emulated reply from {model} after tool {last.tool_name or 'result'}: {opening}"
    else:
        user = next((t for t in reversed(conv.turns) if t.role == "user"), None)
        opening = " ".join((user.text if user else "").split()[:_FIRST_WORDS])
        text = f"emulated reply from {model} to: {opening}"
    text, cut = tokens.truncate_to(text, max_output)
    return Generated(text=text, truncated=cut, output_tokens=tokens.count_text(text))


def chunk_text(text: str, pieces: int = 4) -> list[str]:
    """Split ``text`` into up to ``pieces`` consecutive non-empty parts (for streaming deltas)."""
    if not text:
        return []
    words = re.findall(r"\S+\s*|\s+", text)
    if len(words) <= 1:
        return [text]
    size = max(1, -(-len(words) // pieces))
    return ["".join(words[i:i + size]) for i in range(0, len(words), size)]
