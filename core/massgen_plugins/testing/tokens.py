"""Token counting for the emulator: tiktoken ``o200k_base`` when its BPE file is cached locally,
otherwise a deterministic estimate (never a network download).

The same counter serves window enforcement, ``usage`` and the count endpoints, so a client that
counts with the provider's count endpoint sees exactly the number the window check uses.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Iterable
from typing import Any

_BLOB = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
_lock = threading.Lock()
_state: dict[str, Any] = {}

#: Tokens added per message and once per request for the reply priming (OpenAI cookbook rule).
PER_MESSAGE = 3
PER_REQUEST = 3


def _cached_bpe_exists() -> bool:
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        cache_dir = os.environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in os.environ:
        cache_dir = os.environ["DATA_GYM_CACHE_DIR"]
    else:
        cache_dir = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    if not cache_dir:
        return False
    return os.path.exists(os.path.join(cache_dir, hashlib.sha1(_BLOB.encode()).hexdigest()))


def _encoding() -> Any:
    if "enc" not in _state:
        with _lock:
            if "enc" not in _state:
                enc = None
                if _cached_bpe_exists():
                    try:
                        import tiktoken

                        enc = tiktoken.get_encoding("o200k_base")
                    except Exception:
                        enc = None
                _state["enc"] = enc
    return _state["enc"]


def tokenizer_name() -> str:
    """``o200k_base`` when the real tokenizer is in use, ``estimate`` otherwise."""
    return "o200k_base" if _encoding() is not None else "estimate"


def count_text(text: str) -> int:
    """Tokens in ``text``."""
    if not text:
        return 0
    enc = _encoding()
    if enc is not None:
        return len(enc.encode(text, disallowed_special=()))
    return max(1, (len(text.encode("utf-8")) + 3) // 4)


def count_request(texts: Iterable[str], messages: int) -> int:
    """Input tokens of a request: every text plus the per-message and per-request overhead."""
    return sum(count_text(t) for t in texts) + PER_MESSAGE * messages + PER_REQUEST


def truncate_to(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to at most ``limit`` tokens, and whether it was cut."""
    if limit <= 0:
        return "", bool(text)
    enc = _encoding()
    if enc is not None:
        ids = enc.encode(text, disallowed_special=())
        if len(ids) <= limit:
            return text, False
        return enc.decode(ids[:limit]), True
    max_chars = limit * 4
    if len(text.encode("utf-8")) <= max_chars:
        return text, False
    return text[:max_chars], True
