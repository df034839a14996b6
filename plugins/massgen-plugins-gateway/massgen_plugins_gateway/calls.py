"""What the gateway needs from a request, whichever API it arrived on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from massgen_plugins.guard import RequestOptions
from massgen_plugins.types import Message


@dataclass
class ChatCall:
    """A request reduced to the guard's terms (OpenAI-format messages and tools)."""

    api: str  # "openai" or "anthropic"
    model: str  # as the client sent it
    messages: list[Message]
    tools: list[dict[str, Any]] = field(default_factory=list)
    max_tokens: int | None = None
    stream: bool = False
    include_usage: bool = False
    options: RequestOptions | None = None  # sampling and output options, portable terms
