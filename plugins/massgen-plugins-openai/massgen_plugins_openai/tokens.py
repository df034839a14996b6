"""Token counting for OpenAI models: the Responses ``/responses/input_tokens`` endpoint, or
tiktoken locally.

* ``allow_network`` and a Responses-capable model: ``client.responses.input_tokens.count``
  (``method='api'``, exact). If the endpoint fails or no key is set, the local count answers.
* Locally: the model's tiktoken encoding (``o200k_base`` for GPT-4o/4.1/5 and the o-series,
  ``cl100k_base`` for GPT-4/3.5) over every text part, plus the OpenAI cookbook's chat framing
  (3 tokens per message, 1 per name, 3 to prime the reply) and the JSON of tool schemas. The
  text is tokenized exactly; the framing and tool rendering are the documented approximation,
  hence ``exact=False`` with a 2 % margin.
* tiktoken's encoding files missing (offline, no cache): ``None``, so the built-in estimator
  answers.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from massgen_plugins.types import Message, TokenCount

TIKTOKEN_MARGIN = 0.02
_O200K_PREFIXES = ("gpt-5", "gpt-4.5", "gpt-4.1", "gpt-4o", "chatgpt-4o", "o1", "o3", "o4", "ft:gpt-4o",
                   "codex", "computer-use", "gpt-realtime", "gpt-audio")
_CL100K_PREFIXES = ("gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada", "davinci-002",
                    "babbage-002")
_RESPONSES_PREFIXES = ("gpt-5", "gpt-4.1", "gpt-4o", "chatgpt-4o", "o1", "o3", "o4", "codex", "computer-use",
                       "gpt-4.5")


def encoding_name(model_id: str) -> str | None:
    """The tiktoken encoding of an OpenAI model id, or ``None`` for unknown models."""
    base = model_id.rsplit("/", 1)[-1].lower()
    if base.startswith("gpt-oss"):
        return "o200k_harmony"
    if base.startswith(_O200K_PREFIXES):
        return "o200k_base"
    if base.startswith(_CL100K_PREFIXES):
        return "cl100k_base"
    return None


def responses_capable(model_id: str) -> bool:
    """Can ``model_id`` be used with the Responses API (and ``/responses/compact``)?"""
    return model_id.lower().startswith(_RESPONSES_PREFIXES)


@lru_cache(maxsize=8)
def _encoding(name: str) -> Any:
    import tiktoken

    return tiktoken.get_encoding(name)


def load_encoding(name: str) -> Any | None:
    """The tiktoken encoding, or ``None`` when its BPE file is unavailable (offline, no cache)."""
    try:
        return _encoding(name)
    except Exception:
        return None


def _part_text(part: dict[str, Any]) -> str:
    kind = part.get("type")
    if kind == "compaction":
        # opaque; the server counts it as a compressed state: estimate from its size
        return ""
    if "text" in part:
        return str(part["text"])
    return ""


def compaction_tokens(messages: list[Message]) -> int:
    """A local estimate for opaque compaction items: one token per 4 characters of payload."""
    total = 0
    for message in messages:
        if isinstance(message.content, list):
            for part in message.content:
                if isinstance(part, dict) and part.get("type") == "compaction":
                    total += max(1, len(str(part.get("encrypted_content", ""))) // 4)
    return total


def count_local(messages: list[Message], tools: list[dict[str, Any]], encoding: Any) -> int:
    """Cookbook-style chat token count with ``encoding`` (see module docstring)."""
    total = 3  # every reply is primed with <|start|>assistant<|message|>
    for message in messages:
        total += 3
        if isinstance(message.content, str):
            total += len(encoding.encode(message.content, disallowed_special=()))
        elif isinstance(message.content, list):
            for part in message.content:
                if isinstance(part, dict):
                    text = _part_text(part)
                    if text:
                        total += len(encoding.encode(text, disallowed_special=()))
                    elif part.get("type") in ("image_url", "input_image"):
                        total += 85  # a low-detail image tile; detail images cost more
        if message.name:
            total += 1 + len(encoding.encode(message.name, disallowed_special=()))
        for call in message.tool_calls or []:
            rendered = json.dumps(call.function, ensure_ascii=False)
            total += 3 + len(encoding.encode(rendered, disallowed_special=()))
        if message.tool_call_id:
            total += len(encoding.encode(message.tool_call_id, disallowed_special=()))
    if tools:
        total += len(encoding.encode(json.dumps(tools, ensure_ascii=False), disallowed_special=()))
    return total + compaction_tokens(messages)


def tiktoken_count(model_id: str, messages: list[Message], tools: list[dict[str, Any]],
                   margin: float = TIKTOKEN_MARGIN) -> TokenCount | None:
    """A local tiktoken count for an OpenAI-tokenized model, or ``None`` (unknown model or
    encoding files unavailable)."""
    from massgen_plugins.types import TokenCount

    name = encoding_name(model_id)
    if name is None:
        return None
    encoding = load_encoding(name)
    if encoding is None:
        return None
    return TokenCount(tokens=count_local(messages, tools, encoding), method=f"tiktoken:{name}",
                      exact=False, margin=margin)


def api_count(client: Any, model_id: str, messages: list[Message], tools: list[dict[str, Any]]) -> TokenCount:
    """Count with ``/responses/input_tokens`` (exact: the provider's own tokenizer and framing)."""
    from massgen_plugins.types import TokenCount

    from .responses import split_instructions, to_input, to_tools

    instructions, rest = split_instructions(messages)
    kwargs: dict[str, Any] = {"model": model_id, "input": to_input(rest)}
    if instructions:
        kwargs["instructions"] = instructions
    if tools:
        kwargs["tools"] = to_tools(tools)
    result = client.responses.input_tokens.count(**kwargs)
    return TokenCount(tokens=int(result.input_tokens), method="api:responses/input_tokens", exact=True, margin=0.0)
