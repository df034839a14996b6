"""Tools the guard itself offers the model, answered inside the turn without the caller.

Each :class:`BuiltinTool` is an OpenAI-format schema plus an async handler taking the call's
parsed arguments. When a reply asks only for built-in tools, the session answers them and sends
the turn again (at most :data:`MAX_BUILTIN_ROUNDS` times); a reply mixing built-in and caller
tools goes to the caller unchanged. To add a tool, give :func:`builtin_tools` another entry.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..types import CompletionResponse, ToolCall
    from .config import AgentConfig

MAX_BUILTIN_ROUNDS = 3

Handler = Callable[[dict[str, Any]], Awaitable[str]]
RecallFn = Callable[..., Awaitable[list[dict[str, Any]]]]

RECALL_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "recall",
        "description": "Search earlier parts of this conversation that were compressed away, and long-term "
        "memory. Use it when you need a detail (an id, a number, a decision) you no longer see.",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string", "description": "What to look for."}},
            "required": ["query"],
        },
    },
}


@dataclass(frozen=True)
class BuiltinTool:
    """A tool the guard answers itself."""

    schema: dict[str, Any]
    handler: Handler

    @property
    def name(self) -> str:
        return str(self.schema["function"]["name"])


def recall_tool(recall: RecallFn) -> BuiltinTool:
    """The ``recall`` tool over :meth:`Session.recall <massgen_plugins.guard.session.Session.recall>`."""

    async def answer(arguments: dict[str, Any]) -> str:
        query = str(arguments.get("query", ""))
        hits = await recall(query, limit=5)
        if not hits:
            return f"No archived or remembered text matches {query!r}."
        return "\n\n".join(f"[{h['source']} {h['id']}] {h['text'][:2000]}" for h in hits)

    return BuiltinTool(RECALL_TOOL, answer)


def builtin_tools(config: AgentConfig, *, recall: RecallFn) -> dict[str, BuiltinTool]:
    """The built-in tools ``config`` switches on, by name."""
    tools = [recall_tool(recall)] if config.recall_tool else []
    return {tool.name: tool for tool in tools}


def parse_arguments(arguments: str | None) -> dict[str, Any]:
    """A tool call's JSON arguments; text that is not a JSON object becomes ``{"query": text}``."""
    try:
        value = json.loads(arguments or "{}")
    except ValueError:
        return {"query": arguments or ""}
    return value if isinstance(value, dict) else {"query": str(value)}


def only_builtin_calls(response: CompletionResponse, tools: dict[str, BuiltinTool]) -> list[ToolCall]:
    """The reply's tool calls when every one of them is a built-in tool, else ``[]``."""
    calls = response.message.tool_calls or []
    if calls and all(c.function.get("name") in tools for c in calls):
        return list(calls)
    return []


async def answer_call(call: ToolCall, tools: dict[str, BuiltinTool]) -> str:
    """Run the built-in tool a call names and return its text result."""
    tool = tools[str(call.function.get("name"))]
    return await tool.handler(parse_arguments(call.function.get("arguments")))
