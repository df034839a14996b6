"""How memory text becomes stored bytes, shared by every backend: normalisation and dedup keys,
canonical JSON, checksums, ids, timestamps, durations, and the sanitising that makes any text a
provider or a user sends storable (a lone surrogate, a NUL byte).

A record written by one backend has the same id, dedup key and checksum as the same record
written by another (export from one, import into the other).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import unicodedata
from datetime import datetime, timezone
from typing import Any, overload

from ..errors import InputError
from ..types import Message


def scope_token(level: str, value: str) -> str:
    """The full-text token of one scope id: ``z`` + level letter + 20 hex digits of its hash."""
    return "z" + level[0] + hashlib.sha256(value.encode()).hexdigest()[:20]


_WS = re.compile(r"\s+")
_TERM = re.compile(r"\w+", re.UNICODE)


def normalize_text(text: str) -> str:
    """What "identical fact" means for deduplication: NFKC, case-folded, whitespace collapsed."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def text_hash(text: str) -> str:
    return hashlib.sha256(normalize_text(text).encode()).hexdigest()


def fold_words(text: str) -> list[str]:
    """The words of ``text`` as the full-text index sees them: case-folded, accents removed (as
    SQLite's ``unicode61 remove_diacritics 2`` tokenizer does)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _TERM.findall(folded)


def query_terms(query: str, limit: int = 16) -> list[str]:
    """The distinct search terms of ``query`` (see :func:`fold_words`), at most ``limit``."""
    seen: list[str] = []
    for term in fold_words(query):
        if term not in seen:
            seen.append(term)
        if len(seen) >= limit:
            break
    return seen


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_SURROGATE = re.compile("[\ud800-\udfff]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _escape_surrogate(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def canonical_json(value: Any) -> str:
    """Stable JSON text (sorted keys, no spaces) -- what is stored and checksummed.

    Always encodable as UTF-8: a lone surrogate (valid in JSON, impossible in UTF-8) is written
    as its ``\\uXXXX`` escape, which :func:`json.loads` turns back into the same character, and a
    NUL byte is escaped by JSON itself -- so any text a provider returns is stored losslessly.
    """
    if value == {}:
        return "{}"
    text = _ENCODER.encode(value)
    return _SURROGATE.sub(_escape_surrogate, text) if _SURROGATE.search(text) else text


def storable_text(text: str) -> str:
    """``text`` with each NUL byte and lone surrogate replaced by U+FFFD.

    For plain-text columns (a memory's text, the searchable text of an archived message): no
    UTF-8 encoder accepts a lone surrogate and PostgreSQL refuses NUL in ``text``. JSON columns
    need nothing of the kind (see :func:`canonical_json`).
    """
    return _UNSTORABLE.sub("\ufffd", text) if _UNSTORABLE.search(text) else text


def sendable_text(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD: what an HTTP client can encode as
    UTF-8 (a provider may return one, escaped in valid JSON; sending it back raises
    ``UnicodeEncodeError`` in every SDK). NUL bytes are kept: JSON carries them."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def checksum(*fields: Any) -> str:
    """sha256 over the canonical JSON of ``fields`` (32 hex digits are stored)."""
    return hashlib.sha256(canonical_json(list(fields)).encode()).hexdigest()[:32]


def memory_checksum(row: dict[str, Any]) -> str:
    """The checksum of a memory row (every column that carries meaning)."""
    return checksum(row["id"], row["kind"], row["text"], row["user_id"], row["agent_id"], row["session_id"],
                    row["team_id"], row["metadata"], row["created_at"], row["updated_at"], row["expires_at"],
                    row["version"])


def turn_checksum(session_id: str, turn: int, messages: str, snapshot: str | None, meta: str | None,
                  created_at: float) -> str:
    return checksum(session_id, turn, messages, snapshot, meta, created_at)


def archive_checksum(session_id: str, turn: int, entry_id: str, message: str, replaced_by: str | None,
                     stage: str, created_at: float, extra: str | None = None) -> str:
    """The checksum of an archive row; ``extra`` (the entry's other fields as JSON, e.g. its
    ``position``) counts only when stored, so rows written before it existed still verify."""
    if extra is None:
        return checksum(session_id, turn, entry_id, message, replaced_by, stage, created_at)
    return checksum(session_id, turn, entry_id, message, replaced_by, stage, created_at, extra)


def history_checksum(memory_id: str, version: int, text: str, metadata: str, updated_at: float) -> str:
    return checksum(memory_id, version, text, metadata, updated_at)


def new_id(at: float | None = None) -> str:
    """A new memory id: 32 hex digits, time-ordered (microseconds, then 72 random bits), so the
    id index grows at its end instead of at random places."""
    return f"{int((at if at is not None else time.time()) * 1e6):014x}{os.urandom(9).hex()}"


def now() -> float:
    return time.time()


@overload
def to_datetime(ts: float) -> datetime: ...


@overload
def to_datetime(ts: float | None) -> datetime | None: ...


def to_datetime(ts: float | None) -> datetime | None:
    """Epoch seconds as an aware UTC datetime (``None`` stays ``None``)."""
    return None if ts is None else datetime.fromtimestamp(ts, tz=timezone.utc)


def parse_time(value: Any) -> float | None:
    """Accept epoch seconds or an ISO-8601 string (mem0 exports use ISO strings)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InputError(f"not a timestamp: {value!r} (use ISO-8601 or epoch seconds)") from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()
    raise InputError(f"not a timestamp: {value!r}")


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: str | float | int | None) -> float | None:
    """``"90"``, ``"45m"``, ``"12h"``, ``"7d"``, ``"2w"`` -> seconds; ``None``/``"none"`` -> None."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        if value <= 0:
            raise InputError(f"a duration must be positive, got {value}")
        return float(value)
    if value.strip().lower() in {"", "none", "never", "0"}:
        return None
    match = _DURATION.match(value.lower())
    if not match:
        raise InputError(f"not a duration: {value!r} (examples: 3600, 45m, 12h, 7d, 2w)")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _sendable(value: Any) -> Any:
    """``value`` (JSON-like) with lone surrogates replaced; the same object when none was found."""
    if isinstance(value, str):
        return sendable_text(value)
    if isinstance(value, dict):
        items = {k: _sendable(v) for k, v in value.items()}
        return value if all(items[k] is value[k] for k in value) else items
    if isinstance(value, list):
        parts = [_sendable(v) for v in value]
        return value if all(a is b for a, b in zip(parts, value, strict=True)) else parts
    return value


def sendable_messages(messages: list[Message]) -> list[Message]:
    """``messages`` with every lone surrogate in their text, parts and tool calls replaced by
    U+FFFD (see :func:`sendable_text`); messages without one are returned as they are.

    The guard runs each new message -- the user's, and the model's reply -- through this before
    it joins the conversation, so one odd character cannot make every later call (and every
    write to memory) fail.
    """
    out = []
    for message in messages:
        data = message.model_dump(exclude_none=True)
        cleaned = _sendable(data)
        out.append(message if cleaned is data else Message.model_validate(cleaned))
    return out
