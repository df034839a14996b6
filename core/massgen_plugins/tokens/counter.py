"""Token counting for whole conversations, cached per message.

A :class:`TokenCounter` counts one model's conversations. Every message's count is cached under
a key built from its content (role, text or parts, tool calls, ids), so recounting a growing
conversation only tokenizes what is new. On top of that, :meth:`TokenCounter.count` remembers
the list it counted last: when called again with the same message objects (plus appended ones)
it only checks object identity for the old prefix, which makes the recount after one appended
message on a 1M-token history take well under a millisecond.

Messages are treated as immutable values: replace ``message.content`` (assign a new value)
rather than mutating a parts list in place; an in-place mutation of a list is only seen when the
identity fast path is bypassed (:meth:`TokenCounter.clear`).

What is counted, following OpenAI's chat accounting (exact for OpenAI models with tiktoken):

* per message: 3 tokens of framing + 1 for the role + the content; ``name`` adds 1 + its tokens;
* text parts are counted as text; image parts as 765 tokens (85 with ``detail: low``);
  an OpenAI compaction part as ``max(32, len(encrypted_content) // 16)``; any other part as its
  JSON text (an upper bound);
* assistant tool calls: the function name and the arguments JSON + 7 framing tokens each;
* tool messages: the content + the ``tool_call_id`` framing (+2);
* tool schemas: their JSON text + 8 tokens each; 3 tokens prime the reply.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from .tokenizers import Tokenizer, tokenizer_for

MESSAGE_OVERHEAD = 4  # <|start|>role ... <|end|> framing, incl. the role token
REPLY_PRIMING = 3
NAME_OVERHEAD = 1
TOOL_CALL_OVERHEAD = 7
TOOL_RESULT_OVERHEAD = 2
TOOL_SCHEMA_OVERHEAD = 8
IMAGE_TOKENS = 765
IMAGE_TOKENS_LOW = 85


def _get(message: Any, key: str) -> Any:
    if isinstance(message, dict):
        return message.get(key)
    return getattr(message, key, None)


def _calls_json(calls: Any) -> str:
    if not calls:
        return ""
    out = []
    for call in calls:
        if not isinstance(call, dict):
            call = call.model_dump() if hasattr(call, "model_dump") else dict(call)
        out.append(call)
    return json.dumps(out, sort_keys=True, ensure_ascii=False)


def message_key(message: Any) -> tuple[Any, ...]:
    """A hashable key that identifies a message's countable content."""
    content = _get(message, "content")
    if content is not None and not isinstance(content, str):
        content = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return (
        _get(message, "role"),
        content,
        _calls_json(_get(message, "tool_calls")),
        _get(message, "tool_call_id"),
        _get(message, "name"),
    )


class TokenCounter:
    """Counts conversations for one model with a per-message cache.

    >>> counter = TokenCounter("openai/gpt-4o")
    >>> counter.count([{"role": "user", "content": "hello"}])  # doctest: +SKIP
    """

    def __init__(self, model: str, tokenizer: Tokenizer | None = None, *, max_cache: int = 200_000) -> None:
        self.model = model
        self.tokenizer = tokenizer or tokenizer_for(model)
        self._text = self.tokenizer.count_text
        self._cache: dict[tuple[Any, ...], int] = {}
        self._max_cache = max_cache
        self._last: list[tuple[Any, Any, Any, int]] = []
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    # -- properties ------------------------------------------------------------------------
    @property
    def method(self) -> str:
        return self.tokenizer.method

    @property
    def exact(self) -> bool:
        return self.tokenizer.exact

    @property
    def margin(self) -> float:
        return self.tokenizer.margin

    def with_margin(self, tokens: int) -> int:
        """``tokens`` raised by the tokenizer's relative margin (what a budget check should use)."""
        return int(tokens * (1.0 + self.margin) + 0.999) if self.margin else tokens

    # -- counting --------------------------------------------------------------------------
    def text(self, text: str) -> int:
        """Tokens of a plain string (no message framing)."""
        return self._text(text) if text else 0

    def _part(self, part: Any) -> int:
        if not isinstance(part, dict):
            return self.text(str(part))
        kind = part.get("type")
        if kind in ("text", "input_text", "output_text") or (kind is None and "text" in part):
            return self.text(str(part.get("text", "")))
        if kind in ("image_url", "input_image", "image"):
            url = part.get("image_url")
            detail = part.get("detail") or (url.get("detail") if isinstance(url, dict) else None)
            return IMAGE_TOKENS_LOW if detail == "low" else IMAGE_TOKENS
        if kind == "compaction":
            return max(32, len(str(part.get("encrypted_content", ""))) // 16)
        return self.text(json.dumps(part, ensure_ascii=False, default=str))

    def _compute(self, message: Any) -> int:
        tokens = MESSAGE_OVERHEAD
        content = _get(message, "content")
        if isinstance(content, str):
            tokens += self.text(content)
        elif content:
            tokens += sum(self._part(p) for p in content)
        name = _get(message, "name")
        if name:
            tokens += NAME_OVERHEAD + self.text(str(name))
        calls = _get(message, "tool_calls")
        for call in calls or ():
            fn = call.get("function") if isinstance(call, dict) else getattr(call, "function", None)
            fn = fn or {}
            tokens += TOOL_CALL_OVERHEAD + self.text(str(fn.get("name", ""))) + self.text(
                str(fn.get("arguments", "")))
        if _get(message, "tool_call_id"):
            tokens += TOOL_RESULT_OVERHEAD
        return tokens

    def message(self, message: Any) -> int:
        """Tokens of one message (framing included), from the cache when seen before."""
        key = message_key(message)
        cached = self._cache.get(key)
        if cached is not None:
            self.hits += 1
            return cached
        self.misses += 1
        tokens = self._compute(message)
        if len(self._cache) >= self._max_cache:
            self._cache.clear()
        self._cache[key] = tokens
        return tokens

    def tools(self, tools: Sequence[dict[str, Any]] | None) -> int:
        """Tokens of the tool schemas offered with the call."""
        if not tools:
            return 0
        key = ("\x00tools", json.dumps(list(tools), sort_keys=True, ensure_ascii=False, default=str))
        cached = self._cache.get(key)
        if cached is None:
            cached = sum(TOOL_SCHEMA_OVERHEAD + self.text(json.dumps(t, ensure_ascii=False, default=str))
                         for t in tools)
            self._cache[key] = cached
        return cached

    def per_message(self, messages: Iterable[Any]) -> list[int]:
        """Each message's tokens (framing included), in order."""
        return [self.message(m) for m in messages]

    def count(self, messages: Sequence[Any], tools: Sequence[dict[str, Any]] | None = None) -> int:
        """Total input tokens of ``messages`` + ``tools`` + reply priming.

        Incremental: messages that are the same objects (with the same content objects) as in
        the previous call are not even re-keyed.
        """
        with self._lock:
            last = self._last
            fresh: list[tuple[Any, Any, Any, int]] = []
            total = 0
            n_last = len(last)
            for i, m in enumerate(messages):
                content = _get(m, "content")
                calls = _get(m, "tool_calls")
                if i < n_last:
                    entry = last[i]
                    if entry[0] is m and entry[1] is content and entry[2] is calls:
                        fresh.append(entry)
                        total += entry[3]
                        continue
                tokens = self.message(m)
                fresh.append((m, content, calls, tokens))
                total += tokens
            self._last = fresh
        return total + self.tools(tools) + REPLY_PRIMING

    def clear(self) -> None:
        """Forget every cached count."""
        with self._lock:
            self._cache.clear()
            self._last = []


_counters: dict[str, TokenCounter] = {}
_counters_lock = threading.Lock()


def counter_for(model: str) -> TokenCounter:
    """The process-wide cached :class:`TokenCounter` for ``model``."""
    with _counters_lock:
        counter = _counters.get(model)
        if counter is None:
            counter = _counters[model] = TokenCounter(model)
        return counter


def reset_counters() -> None:
    """Forget every process-wide counter (tests that change the tokenizer environment)."""
    with _counters_lock:
        _counters.clear()
