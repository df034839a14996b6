"""Which sentences carry information: the scoring shared by the *mask* and *extract* stages.

A sentence scores for constraint words (4 when the user said it, 2 for the assistant, 1 in tool
output), decision words (3), error words (2), and identifiers: *strong* ones (paths and file
names, URLs, ``ABC-123`` ids, ``snake_id123`` ids, hex hashes, versions, e-mail addresses) 4
each (rare, and what an agent needs again), plain numbers of two or more digits (not a leading
line counter) 1.

Keyword classes are checked per line with one C-level set operation; only words containing
digits or punctuation go through the identifier rules, so scoring stays linear and cheap.
"""

from __future__ import annotations

import re

SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")

_CONSTRAINT = frozenset(
    "must never always don't dont should shall only avoid require requires required ensure constraint "
    "constraints forbidden prefer preferred deadline budget limit mustn't shouldn't".split())
_DECISION = frozenset(
    "decided decision decisions decide chose chosen choose agreed settled resolved fixed instead approach "
    "conclusion switched plan".split())
_ERROR = frozenset(
    "error errors exception failed failure failing traceback denied timeout refused fatal cannot can't unable "
    "invalid missing crash crashed panic".split())
_STRIP = ".,;:!?()[]{}<>\"'`*"
_EXTENSIONS = frozenset(
    "py js ts go rs java json yml yaml toml md txt sql sh cfg ini csv html css c h cpp rb php lock".split())
_ID = re.compile(r"[A-Z][A-Z0-9]{1,9}-\d+")
_HEX = re.compile(r"[0-9a-f]{7,40}")
_VERSION = re.compile(r"v?\d+\.\d+(?:\.\d+)*")

C_CONSTRAINT, C_DECISION, C_ERROR = 1, 2, 4


def _strong(word: str) -> bool:
    """Is ``word`` (punctuation already stripped) a strong identifier?"""
    if "/" in word:
        return word.startswith("http") or word.count("/") >= 2 or "." in word.rsplit("/", 1)[-1]
    if "@" in word:
        return "." in word.split("@", 1)[1]
    if "-" in word and _ID.fullmatch(word):
        return True
    if "_" in word:
        return any(ch.isdigit() for ch in word) or word.count("_") >= 2
    if "." in word:
        head, _, ext = word.rpartition(".")
        return bool(head) and (ext.lower() in _EXTENSIONS or bool(_VERSION.fullmatch(word)))
    return len(word) >= 7 and bool(_HEX.fullmatch(word)) and not word.isdigit() and not word.isalpha()


def _variants(words: frozenset[str]) -> frozenset[str]:
    """``words`` plus their forms with attached punctuation, so a whole line can be checked with
    one C-level ``isdisjoint`` instead of a Python loop per word."""
    out = set()
    for word in words:
        for w in (word, word.capitalize(), word.upper()):
            out.add(w)
            for p in ".,;:!?)\"'":
                out.add(w + p)
            out.add("(" + w)
            out.add('"' + w)
    return frozenset(out)


_CONSTRAINT_V = _variants(_CONSTRAINT)
_DECISION_V = _variants(_DECISION)
_ERROR_V = _variants(_ERROR)
_ANY_V = _CONSTRAINT_V | _DECISION_V | _ERROR_V


def features(sentence: str) -> tuple[int, int, bool]:
    """``(class bits, strong identifiers, has a number)`` of one sentence.

    A number that is the first word of a line (a line or step counter) does not count."""
    words = sentence.split()
    bits = 0
    hits = _ANY_V.intersection(words)
    if hits:
        if not _CONSTRAINT_V.isdisjoint(hits):
            bits |= C_CONSTRAINT
        if not _DECISION_V.isdisjoint(hits):
            bits |= C_DECISION
        if not _ERROR_V.isdisjoint(hits):
            bits |= C_ERROR
    strong = 0
    number = False
    for k, raw in enumerate(words):
        if raw.isalpha():
            continue
        word = raw.strip(_STRIP)
        if not word or word.isalpha():
            continue
        if word.isdigit():
            number = number or (len(word) >= 2 and k > 0)
        elif strong < 3 and _strong(word):
            strong += 1
    return bits, strong, number


def score(sentence: str, role: str) -> int:
    """How much information ``sentence`` (said by ``role``) carries (0 = none)."""
    bits, strong, number = features(sentence)
    s = 0
    if bits & C_CONSTRAINT:
        s += 4 if role == "user" else (2 if role == "assistant" else 1)
    if bits & C_DECISION:
        s += 3
    if bits & C_ERROR:
        s += 2
    s += 4 * min(strong, 2) + (strong > 2)
    if number:
        s += 1
    if role == "user" and s == 0 and len(sentence) > 12:
        s = 1
    return s


def strong_words(text: str) -> list[str]:
    """The strong identifiers in ``text`` (paths, ids, file names, versions, ...), in order."""
    out = []
    for raw in text.split():
        if raw.isalpha():
            continue
        word = raw.strip(_STRIP)
        if word and not word.isalpha() and not word.isdigit() and _strong(word):
            out.append(word)
    return out


def identifiers(text: str) -> int:
    """Number of strong identifiers in ``text`` (capped at 3)."""
    return features(text)[1]


SCAN_CHARS = 65_536


def key_lines(text: str, role: str = "tool", limit: int = 3, min_score: int = 2, max_chars: int = 200,
              scan_chars: int = SCAN_CHARS) -> list[str]:
    """The ``limit`` most informative lines of ``text`` (score >= ``min_score``), in text order.

    Only the first and the last ``scan_chars`` characters are scanned (where results, summaries
    and errors usually are), so masking a huge output stays cheap; the archive keeps it all."""
    if len(text) > 2 * scan_chars:
        text = text[:scan_chars] + "\n" + text[-scan_chars:]
    scored: list[tuple[int, int, str]] = []
    for pos, line in enumerate(SPLIT.split(text)):
        line = line.strip()
        if len(line) < 4:
            continue
        value = score(line, role)
        if value >= min_score:
            scored.append((-value, pos, line if len(line) <= max_chars else line[: max_chars - 3] + "..."))
    best = sorted(scored)[:limit]
    return [line for _, _, line in sorted(best, key=lambda item: item[1])]
