"""Token counting for OpenAI models with the provider's own endpoint, and model facts used by
listing and compaction.

* ``allow_network`` and a Responses-capable model: ``client.responses.input_tokens.count``
  (:func:`api_count`, ``method='api:responses/input_tokens'``, exact: OpenAI's own tokenizer
  and message framing, tools included).
* Otherwise the plugin does not answer, and the built-in local counter does
  (:mod:`massgen_plugins.tokens`: tiktoken, exact for OpenAI models, cached per message) -- the
  same counter the guard and the compression runner use, so local counts never disagree
  between a plugin and the host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from massgen_plugins.types import Message, TokenCount

_O200K_PREFIXES = ("gpt-5", "gpt-4.5", "gpt-4.1", "gpt-4o", "chatgpt-4o", "o1", "o3", "o4", "ft:gpt-4o",
                   "codex", "computer-use", "gpt-realtime", "gpt-audio", "gpt-image", "omni-moderation")
_CL100K_PREFIXES = ("gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada", "davinci-002",
                    "babbage-002")
_RESPONSES_PREFIXES = ("gpt-5", "gpt-4.1", "gpt-4o", "chatgpt-4o", "o1", "o3", "o4", "codex", "computer-use",
                       "gpt-4.5")


def encoding_name(model_id: str) -> str | None:
    """The tiktoken encoding of an OpenAI model id (``gpt-4o`` → ``o200k_base``), or ``None``
    for models tiktoken does not know (speech, images of older families, unknown names)."""
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
