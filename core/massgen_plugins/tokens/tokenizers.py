"""Tokenizer families: which tokenizer counts which model, loaded without touching the network.

* OpenAI models (and OpenAI models reached through OpenRouter) use their real BPE vocabulary
  through tiktoken: ``o200k_base`` for the GPT-4o / 4.1 / 4.5 / 5 and o-series families,
  ``cl100k_base`` for GPT-4, GPT-4-turbo and GPT-3.5. These counts are **exact** (margin 0).
* Every other model has no public local tokenizer. Its count is a **proxy**: the o200k count
  scaled by a per-provider factor, with a stated relative margin (Anthropic 15 %, others 10 %;
  MassGen measured ~7.5 % variance for Gemini). Provider plugins may answer ``count_tokens``
  with the provider's own count endpoint instead.
* When tiktoken's encoding files are not on disk (no ``TIKTOKEN_CACHE_DIR`` copy and no
  network), nothing is downloaded: a regex **estimate** is used instead that bounds every class
  of text from above (:func:`estimate_tokens`): measured against exact o200k counts it lands at
  1.0x-1.6x on prose, code and JSON and up to ~12x on long runs of spaces, never below 1.0x on
  emoji, CJK, base64, hex, digits, punctuation or whitespace. Its stated margin stays 20 %.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_BLOBS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}

# provider -> (scale factor applied to a proxy count, relative margin)
PROXY_FACTORS: dict[str, tuple[float, float]] = {
    "anthropic": (1.10, 0.15),
    "gemini": (1.0, 0.10),
    "groq": (1.05, 0.10),
    "xai": (1.0, 0.10),
    "nebius": (1.05, 0.10),
    "openrouter": (1.05, 0.10),
}
DEFAULT_PROXY = (1.05, 0.10)
ESTIMATE_MARGIN = 0.20

_CL100K_PREFIXES = ("gpt-4-", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada")
_CL100K_EXACT = ("gpt-4", "gpt-4-32k")


@dataclass(frozen=True)
class Tokenizer:
    """A text -> token count function, with how exact it is."""

    method: str  # "tiktoken:o200k_base", "proxy:o200k_base*1.10", "estimate"
    exact: bool
    margin: float
    count_text: Callable[[str], int]
    encoding: Any = None  # the tiktoken Encoding when one is used (for truncation)


def encoding_name_for(model: str) -> str | None:
    """The tiktoken encoding of an OpenAI model string (``openai/gpt-4o``,
    ``openrouter/openai/gpt-4o-mini``), or ``None`` when the model is not an OpenAI model."""
    provider, _, rest = model.partition("/")
    if provider == "openrouter":
        provider, _, rest = rest.partition("/")
    if provider not in ("openai", "azure"):
        return None
    name = rest.lower()
    if name in _CL100K_EXACT or name.startswith(_CL100K_PREFIXES):
        if not name.startswith(("gpt-4o", "gpt-4.1", "gpt-4.5")):
            return "cl100k_base"
    return "o200k_base"


def encoding_file_present(name: str) -> bool:
    """Whether tiktoken would find ``name`` in its cache without a download."""
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    if cache_dir is None:
        cache_dir = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    if not cache_dir:
        return False
    key = hashlib.sha1(_BLOBS[name].encode()).hexdigest()
    return os.path.exists(os.path.join(cache_dir, key))


_lock = threading.Lock()
_encodings: dict[str, Any] = {}


def load_encoding(name: str) -> Any | None:
    """The tiktoken ``Encoding`` ``name``, or ``None`` when its file is absent or unreadable.

    Never downloads: a missing file means "use the estimate", not a network call that hangs.
    """
    with _lock:
        if name in _encodings:
            return _encodings[name]
        encoding = None
        if os.environ.get("MASSGEN_PLUGINS_NO_TIKTOKEN", "") not in ("1", "true", "yes"):
            if encoding_file_present(name):
                try:
                    import tiktoken

                    encoding = tiktoken.get_encoding(name)
                except Exception:  # a corrupt or unreadable file: estimate instead
                    encoding = None
        _encodings[name] = encoding
        return encoding


def reset_encodings() -> None:
    """Forget loaded encodings (tests that remove the encoding files)."""
    with _lock:
        _encodings.clear()


_PIECES = re.compile(r"[A-Za-z]+|[^\W\d_]+|\d{1,3}|\s+|[^\w\s]+|_+")
_CASE_RUNS = re.compile(r"[A-Z]+|[a-z]+")
_VOWELS = frozenset("aeiouyAEIOUY")
_RANDOM_RUN = re.compile(r"[^aeiouyAEIOUY]{4,}")


def _letters(piece: str) -> int:
    """Tokens of an ASCII letter run, from above: a natural word is one token per ~4 letters at
    most; a run that looks random (case flipping every letter or two, few vowels, long consonant
    clusters: base64, hashes, ids) one per 1.4 letters."""
    n = len(piece)
    if n <= 2:
        return 1 if n == 1 or any(ch in _VOWELS for ch in piece) else 2
    runs = _CASE_RUNS.findall(piece)
    vowels = sum(ch in _VOWELS for ch in piece)
    if n / len(runs) < 3 or vowels * 4 < n or _RANDOM_RUN.search(piece):
        return -(-n * 5 // 7)  # ceil(n / 1.4)
    if piece.isupper():
        return -(-n // 2)
    return max(len(runs) // 2 + 1, 1 + (n - 1) // 5)


def _whitespace(piece: str) -> int:
    """Tokens of a whitespace run: one per run of the same character, plus one per 12 characters."""
    changes = 1 + sum(1 for a, b in zip(piece, piece[1:], strict=False) if a != b) if len(piece) > 1 else 1
    return changes + len(piece) // 12


def estimate_tokens(text: str) -> int:
    """A token count for ``text`` without any vocabulary that never under-counts o200k/cl100k.

    Each piece is bounded from above by its class: ASCII words by their shape (:func:`_letters`),
    other scripts one token per letter (Latin-like scripts one per two), digits one per group
    of three (how the GPT-4o tokenizer splits them), punctuation three per four characters (one
    for a run of one or two), any
    other symbol (emoji, math, box drawing) half its UTF-8 bytes, rounded up -- no symbol takes
    more than two tokens --, whitespace one per change of character plus one per twelve, and a
    single space one unless a word or ASCII punctuation follows (then it joins that piece).
    """
    n = 0
    pieces = _PIECES.findall(text)
    for k, piece in enumerate(pieces):
        first = piece[0]
        size = len(piece)
        if first.isascii() and first.isalpha():
            n += _letters(piece)
        elif first.isalpha():
            n += (size + 1) // 2 if ord(first) < 0x0800 else size
        elif first.isdigit():
            n += 1
        elif first.isspace():
            after = pieces[k + 1][0] if k + 1 < len(pieces) else "0"
            if size == 1 and first == " " and (after.isalpha() or (after.isascii() and not after.isalnum()
                                                                   and not after.isspace())):
                continue  # " word" and " (" are one token each

            n += _whitespace(piece)
        elif piece.isascii():
            n += 1 if size <= 2 else -(-size * 3 // 4)
        else:
            n += sum((len(ch.encode("utf-8")) + 1) // 2 if not ch.isascii() else 1 for ch in piece)
    return n


def _tiktoken_counter(encoding: Any) -> Callable[[str], int]:
    encode = encoding.encode_ordinary

    def count(text: str) -> int:
        return len(encode(text)) if text else 0

    return count


def tokenizer_for(model: str) -> Tokenizer:
    """The tokenizer used to count ``model`` (``provider/model``)."""
    exact_name = encoding_name_for(model)
    name = exact_name or "o200k_base"
    encoding = load_encoding(name)
    if encoding is None:
        provider = model.partition("/")[0]
        margin = ESTIMATE_MARGIN if exact_name else max(ESTIMATE_MARGIN, PROXY_FACTORS.get(provider, DEFAULT_PROXY)[1])
        return Tokenizer("estimate", False, margin, estimate_tokens)
    if exact_name:
        return Tokenizer(f"tiktoken:{name}", True, 0.0, _tiktoken_counter(encoding), encoding)
    factor, margin = PROXY_FACTORS.get(model.partition("/")[0], DEFAULT_PROXY)
    base = _tiktoken_counter(encoding)
    if factor == 1.0:
        return Tokenizer(f"proxy:{name}", False, margin, base, encoding)

    def scaled(text: str) -> int:
        return int(base(text) * factor + 0.999)

    return Tokenizer(f"proxy:{name}*{factor:.2f}", False, margin, scaled, encoding)
