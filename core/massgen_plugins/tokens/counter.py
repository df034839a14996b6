"""Token counting for whole conversations, cached per message.

A :class:`TokenCounter` counts one model's conversations. Every message's count is cached under
a key built from its content (role, text or parts, tool calls, ids), so recounting a growing
conversation only tokenizes what is new. On top of that, :meth:`TokenCounter.count` remembers
the list it counted last: when called again, the longest run of leading messages that are the
same objects (with the same ``content`` and ``tool_calls`` objects) is taken from that count
after an identity check at C speed, and only the rest is looked at. The recount after one
appended message on a 1M-token history takes well under a millisecond, and so does the recount
of a conversation whose last messages were replaced (a retried turn, a history reset to a
common prefix).

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

import gc
import json
import operator
import threading
from collections.abc import Iterable, Sequence
from itertools import repeat
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


def _calls_key(calls: Any) -> tuple[Any, ...]:
    """A hashable key of tool calls (id, name, arguments) without JSON encoding."""
    if not calls:
        return ()
    out = []
    for call in calls:
        if isinstance(call, dict):
            fn = call.get("function") or {}
            out.append((call.get("id"), fn.get("name"), fn.get("arguments")))
        else:
            fn = getattr(call, "function", None) or {}
            out.append((getattr(call, "id", None), fn.get("name"), fn.get("arguments")))
    return tuple(out)


def message_key(message: Any) -> tuple[Any, ...]:
    """A hashable key that identifies a message's countable content."""
    if isinstance(message, dict):
        get = message.get
        content, calls = get("content"), get("tool_calls")
        role, call_id, name = get("role"), get("tool_call_id"), get("name")
    else:
        content, calls = message.content, message.tool_calls
        role, call_id, name = message.role, message.tool_call_id, message.name
    if content is not None and not isinstance(content, str):
        content = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return (role, content, _calls_key(calls) if calls else (), call_id, name)


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
        self._objs: list[Any] = []  # the messages counted last (identity fast path)
        self._contents: list[Any] = []
        self._calls: list[Any] = []
        self._tokens: list[int] = []
        self._total = 0
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

        Incremental: the leading messages that are the same objects as last time, with the same
        ``content`` and ``tool_calls`` objects (checked at C speed), keep their counts; only
        the messages after them are looked at (in the per-message cache).
        """
        with self._lock:
            start = self._shared_prefix(messages)
            if start < len(self._objs):
                del self._objs[start:], self._contents[start:], self._calls[start:], self._tokens[start:]
                self._total = sum(self._tokens)
            total = self._total
            # a bulk count allocates many small objects and no cycles: keep the cyclic garbage
            # collector from re-scanning the (large) heap meanwhile
            pause_gc = len(messages) - start > 32 and gc.isenabled()
            if pause_gc:
                gc.disable()
            try:
                for m in messages[start:] if start else messages:
                    tokens = self.message(m)
                    self._objs.append(m)
                    self._contents.append(_get(m, "content"))
                    self._calls.append(_get(m, "tool_calls"))
                    self._tokens.append(tokens)
                    total += tokens
            finally:
                if pause_gc:
                    gc.enable()
            self._total = total
        return total + self.tools(tools) + REPLY_PRIMING

    def _shared_prefix(self, messages: Sequence[Any]) -> int:
        """How many leading ``messages`` are, with their ``content`` and ``tool_calls``, the very
        objects counted last time."""
        n = min(len(self._objs), len(messages))
        if not n:
            return 0
        prefix = messages if isinstance(messages, list) and len(messages) == n else messages[:n]
        n = _first_false(map(operator.is_, prefix, self._objs), n)
        if not n:
            return 0
        prefix = prefix[:n] if len(prefix) != n else prefix
        try:
            if isinstance(prefix[0], dict):
                contents = map(dict.get, prefix, repeat("content"))
                calls = map(dict.get, prefix, repeat("tool_calls"))
            else:
                contents = map(getattr, prefix, repeat("content"))
                calls = map(getattr, prefix, repeat("tool_calls"))
            n = _first_false(map(operator.is_, contents, self._contents), n)
            return _first_false(map(operator.is_, calls, self._calls), n)
        except (TypeError, AttributeError):  # a mixed list of dicts and Message objects
            for i, (m, c, t) in enumerate(zip(prefix, self._contents, self._calls, strict=False)):
                if _get(m, "content") is not c or _get(m, "tool_calls") is not t:
                    return i
            return n

    def clear(self) -> None:
        """Forget every cached count."""
        with self._lock:
            self._cache.clear()
            self._objs, self._contents, self._calls, self._tokens, self._total = [], [], [], [], 0


def _first_false(flags: Iterable[bool], limit: int) -> int:
    """The index of the first false flag among the first ``limit`` (``limit`` when none is),
    found at C speed."""
    try:
        return min(operator.indexOf(flags, False), limit)
    except ValueError:
        return limit


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
