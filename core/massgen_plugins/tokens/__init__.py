"""Fast local token counting (the proactive check): exact tiktoken counts for OpenAI models,
a proxy or an estimate that never under-counts, with a stated margin, elsewhere, cached per message.

.. code-block:: python

    from massgen_plugins.tokens import count_conversation, counter_for

    tc = count_conversation("openai/gpt-4o", messages, tools)   # -> types.TokenCount
    counter = counter_for("anthropic/claude-haiku-4-5")         # reuse: incremental recounts
    counter.count(messages, tools); counter.margin               # 0.15 for Claude (estimate)

The ``count_tokens`` hook's built-in answer (``default_plugins/count_tokens_local.py``) uses
this module; provider plugins can answer first with a provider count endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .counter import TokenCounter, counter_for, message_key, reset_counters
from .tokenizers import (
    Tokenizer,
    encoding_name_for,
    estimate_tokens,
    load_encoding,
    reset_encodings,
    tokenizer_for,
)

if TYPE_CHECKING:
    from ..types import TokenCount

__all__ = [
    "TokenCounter",
    "Tokenizer",
    "count_conversation",
    "counter_for",
    "encoding_name_for",
    "estimate_tokens",
    "load_encoding",
    "message_key",
    "reset",
    "tokenizer_for",
]


def count_conversation(
    model: str, messages: Sequence[Any], tools: Sequence[dict[str, Any]] | None = None
) -> TokenCount:
    """Count ``messages`` (+ ``tools``) for ``model`` locally, as a :class:`~massgen_plugins.types.TokenCount`."""
    from ..types import TokenCount

    counter = counter_for(model)
    tokens = counter.count(messages, tools)
    return TokenCount(tokens=tokens, method=counter.method, exact=counter.exact, margin=counter.margin)


def reset() -> None:
    """Forget cached counters and loaded encodings (after changing ``TIKTOKEN_CACHE_DIR``)."""
    reset_counters()
    reset_encodings()
