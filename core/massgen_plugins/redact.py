"""Secret redaction for anything that may be printed, logged or written to a run directory.

Three layers:

* the literal values of every key this process knows: the API-key environment variables and
  every key handed over in code (``Session(api_keys=...)``, ``resolve_settings(api_key=...)``:
  :func:`remember_secret`) -- including a prefix of one (8 characters or more) that a server
  echoes back truncated, with what follows it (``sk-abc…xyz``, the first 20 characters);
* token shapes that look like keys (``sk-...``, ``sk-ant-...``, ``AIza...``, ``gsk_...``,
  ``xai-...``), also when shortened with an ellipsis or asterisks;
* bearer tokens and key headers;
* passwords in URLs (``postgresql://user:password@host/db``) and in ``password=`` parameters.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Callable
from typing import Any

KEY_ENV_VARS = (
    "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "GROQ_API_KEY",
    "XAI_API_KEY", "NEBIUS_API_KEY", "OPENROUTER_API_KEY",
)
MASK = "[REDACTED]"

_SHAPES = re.compile(
    r"(sk-ant-[A-Za-z0-9_\-]{8,}|sk-(?:proj-)?[A-Za-z0-9_\-]{16,}|AIza[0-9A-Za-z_\-]{20,}"
    r"|gsk_[A-Za-z0-9]{16,}|xai-[A-Za-z0-9]{16,})"
)
_TRUNCATED = re.compile(
    r"(?:sk-ant-|sk-proj-|sk-|AIza|gsk_|xai-)[A-Za-z0-9_\-]*(?:…|\.{3}|\*{3,})[A-Za-z0-9_\-]*"
)
#: a key's prefix this long, found in text, is masked (with the truncated tail after it)
MIN_PREFIX = 8
_ECHO_TAIL = r"[A-Za-z0-9_\-]*(?:(?:…|\.{3}|\*+)[A-Za-z0-9_\-]*)?"
_HEADERS = re.compile(r"(?i)\b(authorization|x-api-key|x-goog-api-key|api[_-]?key)([\"']?\s*[:=]\s*[\"']?)(bearer\s+)?[^\s\"',}]+")

#: ``scheme://user:PASSWORD@`` -- the user name stays (it says which account), the password goes
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s:/@]*:)[^\s@/]+(@)")
#: libpq keyword form and query parameters: ``password=...``
_PASSWORD_PARAM = re.compile(r"(?i)\b(password|passwd|pwd)(\s*=\s*)[^\s&;'\"]+")


_known: set[str] = set()
_known_lock = threading.Lock()


#: shorter values are not remembered: a placeholder key ("ollama", "none") is also an ordinary word
MIN_REMEMBERED = 12


def remember_secret(value: str | None) -> None:
    """Make :func:`redact` mask ``value`` (and truncated echoes of it) from now on."""
    if value and len(value) >= MIN_REMEMBERED:
        with _known_lock:
            _known.add(value)


_secrets_cache: list[Any] = [None, ()]


def _secrets() -> tuple[str, ...]:
    """The key values this process knows (environment and remembered), longest first.

    Recomputed only when the environment or the remembered set changed: a fingerprint of
    ``os.environ`` (its byte strings cache their hashes) costs microseconds, a scan does not.
    """
    with _known_lock:
        fingerprint = environ_fingerprint()
        if fingerprint is not None and _secrets_cache[0] == fingerprint:
            return _secrets_cache[1]  # type: ignore[no-any-return]
        values = {os.environ.get(name, "") for name in KEY_ENV_VARS}
        values |= {v for k, v in os.environ.items() if k.endswith("_API_KEY")}
        values |= _known
        ordered = tuple(sorted((v for v in values if len(v) >= 6), key=len, reverse=True))
        _secrets_cache[:] = [fingerprint, ordered]
        return ordered


#: Text none of these match is left unchanged by every rule below (each rule's match contains
#: one of them), so it is returned as is without running the rules one by one.
_TRIGGERS = r"sk-|AIza|gsk_|xai-|://|(?i:authorization|api[_-]?key|passw(?:or)?d|pwd)"


@functools.lru_cache(maxsize=64)
def _screen(secrets: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern that finds anything a rule could mask: the fixed triggers, and every secret's
    first :data:`MIN_PREFIX` characters (all of a shorter one), which both a whole secret and a
    truncated echo of it contain."""
    heads = sorted({re.escape(v[:MIN_PREFIX]) for v in secrets if v}, key=len, reverse=True)
    return re.compile("|".join([*heads, _TRIGGERS]))


def _mask_prefixes(text: str, secret: str) -> str:
    """Mask any run of ``secret``'s first characters (``MIN_PREFIX`` or more) and its tail."""
    if len(secret) < 2 * MIN_PREFIX or secret[:MIN_PREFIX] not in text:
        return text
    pattern = re.compile(re.escape(secret[:MIN_PREFIX]) + _ECHO_TAIL)
    out, last = [], 0
    for match in pattern.finditer(text):
        shared = 0
        for a, b in zip(match.group(0), secret, strict=False):
            if a != b:
                break
            shared += 1
        if shared >= MIN_PREFIX:
            out += [text[last:match.start()], MASK]
            last = match.end()
    return "".join(out) + text[last:] if out else text


def redact(text: str, extra_secrets: tuple[str, ...] = ()) -> str:
    """``text`` with every known secret and key-shaped token replaced by ``[REDACTED]``."""
    if not text:
        return text
    return redact_known(text, (*extra_secrets, *_secrets()))


def known_secrets(extra_secrets: tuple[str, ...] = ()) -> tuple[str, ...]:
    """``extra_secrets`` followed by every key value :func:`redact` masks: what to pass to
    :func:`redact_known` when many strings are cleaned at once."""
    return (*extra_secrets, *_secrets())


def redact_known(text: str, secrets: tuple[str, ...]) -> str:
    """:func:`redact` with the secret values given (see :func:`known_secrets`), so a caller that
    cleans many strings gathers them once. Text that holds neither a secret's first characters
    nor anything key-, header- or password-shaped is returned after one scan."""
    return cleaner(secrets)(text)


class Cleaner:
    """:func:`redact_known` for one tuple of secrets, as a callable (for walks over many strings)."""

    __slots__ = ("_names", "_search", "secrets")

    def __init__(self, secrets: tuple[str, ...]) -> None:
        self.secrets = secrets
        self._search = _screen(secrets).search
        self._names: dict[str, tuple[str, bool]] = {}

    def __call__(self, text: str) -> str:
        if not text or self._search(text) is None:
            return text
        return _apply_rules(text, self.secrets)

    def name(self, key: str, secret: Callable[[str], bool]) -> tuple[str, bool]:
        """A mapping key, cleaned, and whether ``secret(key)`` says it names a credential
        (remembered: keys come from a small vocabulary)."""
        known = self._names.get(key)
        if known is None:
            if len(self._names) >= 2048:
                self._names.clear()
            known = self._names[key] = (self(key), secret(key))
        return known


@functools.lru_cache(maxsize=64)
def cleaner(secrets: tuple[str, ...]) -> Cleaner:
    """The :class:`Cleaner` for ``secrets`` (see :func:`known_secrets`)."""
    return Cleaner(secrets)


def environ_fingerprint() -> tuple[int, int] | None:
    """Changes whenever the environment or the remembered keys change (``None`` when the
    environment cannot be fingerprinted cheaply): what the known secrets depend on."""
    raw = getattr(os.environ, "_data", None)
    if not isinstance(raw, dict):
        return None
    return hash(tuple(raw.items())), len(_known)


def _apply_rules(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, MASK)
        if secret:
            text = _mask_prefixes(text, secret)
    text = _SHAPES.sub(MASK, _TRUNCATED.sub(MASK, text))
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}{m.group(2)}", text)
    text = _PASSWORD_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return _HEADERS.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) or ''}{MASK}", text)


def describe_error(exc: BaseException, *, limit: int = 300) -> str:
    """``"TypeName: message"`` on one line (whitespace collapsed, at most ``limit`` characters),
    with secrets redacted: the form every skipped plugin, failed refresh and warning line uses."""
    text = " ".join(str(exc).split())
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return redact(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)
