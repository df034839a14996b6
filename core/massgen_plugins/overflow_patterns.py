"""Message-text rules for context overflow, with the token counts each wording states.

Used *after* the structural checks (status, code, type) in every provider plugin and in the
built-in generic detector. Each rule returns ``(limit, requested)``; either may be ``None`` when
the wording does not state it. Wordings come verbatim from provider docs and error bodies users pasted into issue threads.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Counts = tuple[int | None, int | None]


def _n(text: str | None) -> int | None:
    return int(text.replace(",", "")) if text else None


_RULES: list[tuple[str, re.Pattern[str], Callable[[re.Match[str]], Counts]]] = [
    (  # OpenAI chat, OpenRouter, vLLM/Nebius: "maximum context length is 8192 tokens. However, your
        # messages resulted in 8227 tokens" / "you requested about 26265 tokens"
        "maximum context length",
        re.compile(
            r"maximum context length is ([\d,]+) tokens\.?(?:.*?(?:resulted in|requested(?: about)?) ([\d,]+) tokens)?",
            re.I | re.S,
        ),
        lambda m: (_n(m.group(1)), _n(m.group(2))),
    ),
    (  # OpenAI GPT-5 family
        "configured limit",
        re.compile(
            r"input tokens exceed the configured limit of ([\d,]+) tokens\.?(?:.*?resulted in ([\d,]+) tokens)?",
            re.I | re.S,
        ),
        lambda m: (_n(m.group(1)), _n(m.group(2))),
    ),
    (  # Anthropic: "prompt is too long: 208310 tokens > 200000 maximum"
        "prompt is too long",
        re.compile(r"prompt is too long(?::\s*([\d,]+) tokens\s*>\s*([\d,]+))?", re.I),
        lambda m: (_n(m.group(2)), _n(m.group(1))),
    ),
    (  # Anthropic: "input length and `max_tokens` exceed context limit: 199759 + 8192 > 200000"
        "exceed context limit",
        re.compile(r"exceeds? context limit(?::\s*([\d,]+)\s*\+\s*([\d,]+)\s*>\s*([\d,]+))?", re.I),
        lambda m: (
            _n(m.group(3)),
            (_n(m.group(1)) or 0) + (_n(m.group(2)) or 0) if m.group(1) else None,
        ),
    ),
    (  # Gemini: "The input token count (1200293) exceeds the maximum number of tokens allowed (1048576)."
        "maximum number of tokens allowed",
        re.compile(
            r"input token count(?:\s*\(([\d,]+)\))? exceeds the maximum number of tokens allowed(?:\s*\(([\d,]+)\))?",
            re.I,
        ),
        lambda m: (_n(m.group(2)), _n(m.group(1))),
    ),
    (  # xAI REST: "This model's maximum prompt length is 131072 but the request contains 149617 tokens."
        "maximum prompt length",
        re.compile(r"maximum prompt length is ([\d,]+)(?: but the request contains ([\d,]+) tokens)?", re.I),
        lambda m: (_n(m.group(1)), _n(m.group(2))),
    ),
    (  # xAI gRPC: "[input_too_large] Current message (1149677 tokens) exceeds budget (975424 tokens)"
        "input_too_large",
        re.compile(r"input_too_large\]?(?:.*?\(([\d,]+) tokens\) exceeds budget \(([\d,]+) tokens\))?", re.I | re.S),
        lambda m: (_n(m.group(2)), _n(m.group(1))),
    ),
    (  # OpenAI Responses: "Your input exceeds the context window of this model."
        "exceeds the context window",
        re.compile(r"exceeds the context window", re.I),
        lambda m: (None, None),
    ),
    (  # Groq (no numbers): "Please reduce the length of the messages or completion."
        "reduce the length of the messages",
        re.compile(r"reduce the length of the messages", re.I),
        lambda m: (None, None),
    ),
    (
        "context length exceeded",
        re.compile(r"context[_ ]length[_ ]exceeded|context window exceeded|too many tokens in (?:the )?prompt", re.I),
        lambda m: (None, None),
    ),
]

# Wordings that look related but are NOT overflow: rate limits (incl. TPM "Request too large"),
# quota, output caps, payload size.
_NOT_OVERFLOW = re.compile(
    r"rate limit|tokens per min|\(TPM\)|requests per min|quota|billing|credits"
    r"|maximum allowed number of output tokens|max_(?:completion_)?tokens`? (?:is too large|must be)"
    r"|at most \d+ completion tokens|request exceeds the maximum size|payload size|request entity too large",
    re.I,
)


def match_overflow(message: str) -> tuple[str, Counts] | None:
    """``(rule name, (limit, requested))`` if ``message`` reads as a context overflow, else ``None``."""
    if not message or _NOT_OVERFLOW.search(message):
        return None
    for name, pattern, counts in _RULES:
        found = pattern.search(message)
        if found:
            return name, counts(found)
    return None


def counts_in(message: str) -> Counts:
    """The ``(limit, requested)`` counts an overflow message states (``(None, None)`` if none)."""
    for _, pattern, counts in _RULES:
        found = pattern.search(message or "")
        if found:
            return counts(found)
    return (None, None)
