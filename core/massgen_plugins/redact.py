"""Secret redaction for anything that may be printed, logged or written to a run directory.

Two layers: the literal values of every known API-key environment variable present in this
process, and token shapes that look like keys (``sk-...``, ``sk-ant-...``, ``AIza...``,
``gsk_...``, ``xai-...``, bearer tokens, key headers).
"""

from __future__ import annotations

import os
import re

KEY_ENV_VARS = (
    "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "GROQ_API_KEY",
    "XAI_API_KEY", "NEBIUS_API_KEY", "OPENROUTER_API_KEY",
)
MASK = "[REDACTED]"

_SHAPES = re.compile(
    r"(sk-ant-[A-Za-z0-9_\-]{8,}|sk-(?:proj-)?[A-Za-z0-9_\-]{16,}|AIza[0-9A-Za-z_\-]{20,}"
    r"|gsk_[A-Za-z0-9]{16,}|xai-[A-Za-z0-9]{16,})"
)
_HEADERS = re.compile(r"(?i)\b(authorization|x-api-key|x-goog-api-key|api[_-]?key)([\"']?\s*[:=]\s*[\"']?)(bearer\s+)?[^\s\"',}]+")


def _env_secrets() -> list[str]:
    values = {os.environ.get(name, "") for name in KEY_ENV_VARS}
    values |= {v for k, v in os.environ.items() if k.endswith("_API_KEY")}
    return sorted((v for v in values if len(v) >= 6), key=len, reverse=True)


def redact(text: str, extra_secrets: tuple[str, ...] = ()) -> str:
    """``text`` with every known secret and key-shaped token replaced by ``[REDACTED]``."""
    if not text:
        return text
    for secret in (*extra_secrets, *_env_secrets()):
        if secret and secret in text:
            text = text.replace(secret, MASK)
    text = _SHAPES.sub(MASK, text)
    return _HEADERS.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) or ''}{MASK}", text)


def describe_error(exc: BaseException, *, limit: int = 300) -> str:
    """``"TypeName: message"`` on one line (whitespace collapsed, at most ``limit`` characters),
    with secrets redacted: the form every skipped plugin, failed refresh and warning line uses."""
    text = " ".join(str(exc).split())
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return redact(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)
