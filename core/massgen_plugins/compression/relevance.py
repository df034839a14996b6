"""Which words carry information *in this session*: term statistics over the conversation itself.

A term is a word as an agent writes it -- ``src/marshmallow/fields.py``, ``flag{b3l0w_th3_r4dar}``,
``call_9f2``, ``TimeDelta`` -- lower-cased, plus the alphanumeric pieces of a compound one (so
``flag{...}`` also answers to ``flag``, and a path to its file name). :class:`SessionStats` counts
in how many messages each term occurs (document frequency over the session's messages) and
weighs a term by its BM25 inverse document frequency: a word every message uses weighs almost
nothing, an identifier that only a few messages mention weighs most. No fixed list of word
classes is involved; what is rare is rare *in this conversation*.

A term that is not a plain word (a path, an id, a flag) keeps an idf of at least
:data:`IDENTIFIER_IDF` even when every passage uses it: in a session about one task, the file it
edits is everywhere, and it is the task's subject, not filler.

A term seen in a single message weighs half: a value that recurs (the flag found in an output
and then submitted, the file opened, edited and diffed) is what a task turns on, a one-off token
of a hex dump is not.

The **query** -- the latest user message and the system prompt -- steers selection: its terms
(the rarer, the stronger) multiply the weight of lines that mention them.

Linear: one regular-expression pass over (at most the first and last ``SCAN_CHARS`` characters
of) each message.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from ..types import Message
from .conversation import message_text

_WORD = re.compile(r"[\w{}/.\-@:+=~]+")
_PIECE = re.compile(r"[^\W_]{3,}|\d+")
_STRIP = ".-:/=+~@"
SCAN_CHARS = 16_384
WINDOWS = 48  # a session is cut into about this many passages (the documents) ...
WINDOW_MIN = 1_024  # ... of at least this many tokens ...
MIN_WINDOWS = 12  # ... unless the session is too short for a dozen of those
IDENTIFIER_IDF = 1.0  # least idf of a term that is not a plain word (a path, an id, a flag)
K1 = 4.0  # term-frequency saturation (BM25 k1; high: what a task keeps returning to counts)
QUERY_BOOST = 1.5  # a term of the latest user message weighs (1 + QUERY_BOOST) times as much
SYSTEM_BOOST = 0.5  # a term of the system prompt, (1 + SYSTEM_BOOST) times


_SUFFIX = re.compile(r"(?:ing|ed|es|s|e)$")


def stem(word: str) -> str:
    """A crude, consistent stem of a plain word (``changed``, ``changes``, ``change`` ->
    ``chang``; ``files``, ``file`` -> ``fil``), so a question's words meet the session's; identifiers
    are left alone."""
    if len(word) < 4 or not word.isalpha():
        return word
    out = _SUFFIX.sub("", word, count=1)
    return out if len(out) >= 3 else word


def word_terms(text: str) -> tuple[set[str], set[str]]:
    """``(words, pieces)`` of ``text``: its words (punctuation at the ends stripped, lower-cased,
    plain words stemmed), and the alphanumeric pieces of its compound words that are not words
    of it themselves."""
    words: set[str] = set()
    pieces: set[str] = set()
    for raw in _WORD.findall(text.lower()):
        word = raw.strip(_STRIP)
        if len(word) < 2:
            continue
        if word.isalpha():
            words.add(stem(word))
            continue
        words.add(word)
        if not word.isalnum():
            pieces.update(stem(p) for p in _PIECE.findall(word))
    return words, pieces - words


def terms(text: str) -> set[str]:
    """All terms of ``text``: its words and the pieces of its compound words."""
    words, pieces = word_terms(text)
    return words | pieces


def scan(text: str, limit: int = SCAN_CHARS) -> str:
    """The part of ``text`` that statistics look at: all of it up to ``2 * limit`` characters,
    else its first and last ``limit`` characters (where results, summaries and errors are)."""
    return text if len(text) <= 2 * limit else text[:limit] + "\n" + text[-limit:]


def message_terms(message: Message) -> set[str]:
    """Terms of a message's text and of its tool calls (names and arguments)."""
    found = terms(scan(message_text(message)))
    for call in message.tool_calls or ():
        fn = call.function or {}
        found |= terms(scan(f"{fn.get('name', '')} {fn.get('arguments', '')}"))
    return found


def windows(sizes: Sequence[int]) -> list[int]:
    """The passage each message belongs to: consecutive messages grouped into passages of about
    ``max(total / WINDOWS, min(WINDOW_MIN, total / MIN_WINDOWS))`` tokens (a message is never
    split; a huge one is a passage of its own), so even a short session has a dozen passages. Equal-sized passages make term frequencies comparable whatever the
    format -- one message per step or one per task."""
    total = sum(sizes)
    size = max(1, total // WINDOWS, min(WINDOW_MIN, total // MIN_WINDOWS))
    out: list[int] = []
    group, used = 0, 0
    for n in sizes:
        if used and used + n > size:
            group, used = group + 1, 0
        out.append(group)
        used += n
    return out


class SessionStats:
    """Term statistics of a conversation.

    Documents are **passages** of consecutive messages of about equal size (:func:`windows`). A
    term's weight in a passage is BM25's: its idf over the passages times a saturating function
    of how many of the passage's messages use it -- high for what one task keeps coming back to
    (the file it opened, edited and diffed; the flag it found and submitted) and nowhere else.

    The query (latest user message, system prompt) adds, to each line that uses one of its
    terms, the term's idf over messages times the query's boost (an everyday word of the
    session has an idf near zero, so it steers nothing).
    """

    def __init__(self, docs: Sequence[set[str]], groups: Sequence[int] | None = None,
                 query: dict[int, float] | None = None) -> None:
        groups = list(groups) if groups is not None else list(range(len(docs)))
        self.docs = docs
        self.groups = groups
        self.n_messages = len(docs)
        self.message_df: Counter[str] = Counter()
        self.tf: dict[int, Counter[str]] = {}
        for doc, group in zip(docs, groups, strict=True):
            self.message_df.update(doc)
            self.tf.setdefault(group, Counter()).update(doc)
        self.df: Counter[str] = Counter()
        for counts in self.tf.values():
            self.df.update(counts.keys())
        self.n = len(self.tf)
        self.query: dict[str, float] = {}
        for i, boost in (query or {}).items():
            for t in docs[i]:
                self.query[t] = max(self.query.get(t, 0.0), boost * self._idf(self.message_df[t], self.n_messages))
        self._cache: dict[tuple[int, str], float] = {}

    @classmethod
    def of(cls, messages: Sequence[Message], sizes: Sequence[int] | None = None, *,
           query: dict[int, float] | None = None) -> SessionStats:
        """Statistics of ``messages`` (``sizes``: their token counts, else characters / 4);
        ``query`` maps message indices (the latest user message, the system prompt) to the boost
        their terms get."""
        docs = [message_terms(m) for m in messages]
        if sizes is None:
            sizes = [len(message_text(m)) // 4 + 4 for m in messages]
        return cls(docs, windows(sizes), query)

    def group(self, index: int) -> int:
        """The document message ``index`` belongs to."""
        return self.groups[index]

    @staticmethod
    def _idf(df: int, n: int) -> float:
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5)) if df else 0.0

    def message_idf(self, term: str) -> float:
        """Inverse document frequency of ``term`` over the messages."""
        return self._idf(self.message_df.get(term, 0), self.n_messages)

    def idf(self, term: str) -> float:
        """BM25 inverse document frequency of ``term`` over the documents (0 when unseen)."""
        return self._idf(self.df.get(term, 0), self.n)

    def weight(self, term: str, group: int) -> float:
        """Information ``term`` carries in document ``group``: idf times saturated frequency."""
        key = (group, term)
        w = self._cache.get(key)
        if w is None:
            tf = self.tf.get(group, Counter()).get(term, 0) or 1
            idf = self.idf(term)
            if not term.isalpha():  # an identifier everywhere in a session is its subject, not filler
                idf = max(idf, IDENTIFIER_IDF)
            w = idf * (tf * (K1 + 1.0)) / (tf + K1)
            if self.message_df.get(term, 0) <= 1:
                w *= 0.5
            self._cache[key] = w
        return w

    def line_weight(self, line_terms: set[str] | frozenset[str], group: int) -> float:
        return sum(self.weight(t, group) + self.query.get(t, 0.0) for t in line_terms)

    def query_weight(self, term: str) -> float:
        return self.query.get(term, 0.0)
