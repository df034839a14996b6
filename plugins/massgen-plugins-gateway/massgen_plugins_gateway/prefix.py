"""Recognising a resent history: chained message digests and the compressed-prefix cache.

Clients of a stateless API resend the whole conversation on every call. After the gateway has
compressed a conversation (or substituted an earlier compressed prefix), it remembers the working
conversation it used, keyed by the chained digest of the client's own view of it (what the client
sent plus the reply it got). The next call that starts with that same view reuses it, so only what
was appended since is new: counting it is incremental, and compression runs again only when the
working conversation outgrows the budget once more.

The digest of a message ignores formatting that does not survive a round trip through either API
(``None`` versus empty content, key order and whitespace inside tool-call arguments).
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Sequence

from massgen_plugins.types import Message


def _arguments(raw: object) -> str:
    if not isinstance(raw, str):
        return json.dumps(raw, sort_keys=True, separators=(",", ":"))
    try:
        return json.dumps(json.loads(raw or "{}"), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return raw


def canonical(message: Message) -> bytes:
    """The bytes a message's digest is computed from."""
    content = message.content
    text = content if isinstance(content, str) else (
        "" if not content else json.dumps(content, sort_keys=True, separators=(",", ":")))
    if content and not isinstance(content, str) and all(p.get("type") == "text" for p in content):
        text = message.text()
    calls = [(c.id, c.function.get("name"), _arguments(c.function.get("arguments"))) for c in message.tool_calls or []]
    role = "system" if message.role == "developer" else message.role
    return json.dumps([role, text, calls, message.tool_call_id or ""], separators=(",", ":")).encode()


def chain(messages: Sequence[Message], start: str = "") -> list[str]:
    """``digests[i]`` identifies ``messages[: i + 1]``."""
    out: list[str] = []
    previous = start.encode()
    for message in messages:
        previous = hashlib.blake2b(previous + b"\x00" + canonical(message), digest_size=16).hexdigest().encode()
        out.append(previous.decode())
    return out


class PrefixCache:
    """Least-recently-used map: digest of a client's view → the working conversation used for it."""

    def __init__(self, entries: int = 512) -> None:
        self.entries = entries
        self._items: OrderedDict[str, list[Message]] = OrderedDict()

    def put(self, digest: str, working: list[Message]) -> None:
        if self.entries <= 0:
            return
        self._items[digest] = working
        self._items.move_to_end(digest)
        while len(self._items) > self.entries:
            self._items.popitem(last=False)

    def longest(self, digests: Sequence[str]) -> tuple[int, list[Message]] | None:
        """``(n, working)`` for the longest known prefix ``messages[:n]``, or ``None``."""
        for n in range(len(digests), 0, -1):
            working = self._items.get(digests[n - 1])
            if working is not None:
                self._items.move_to_end(digests[n - 1])
                return n, working
        return None

    def __len__(self) -> int:
        return len(self._items)
