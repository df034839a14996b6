"""The compression chain: turn units, invariants, strategies, the stages' logic and
the chain runner.

Public API (imported lazily)::

    from massgen_plugins.compression import compress_conversation, compress_conversation_sync
    report = await compress_conversation(messages, model="openai/gpt-4o", budget=100_000,
                                         strategy="balanced", tools=tools)
    report.messages, report.archive, report.stages

    from massgen_plugins.compression import validate_conversation
    validate_conversation(messages, "anthropic")      # raises InvalidConversationError

See ``docs/compression.md``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "compress_conversation": "runner",
    "compress_conversation_sync": "runner",
    "compression_active": "runner",
    "ordered_stages": "runner",
    "CompressionReport": "runner",
    "StageRun": "runner",
    "validate_conversation": "invariants",
    "check_preserved": "invariants",
    "Strategy": "strategy",
    "PRESETS": "strategy",
    "resolve_strategy": "strategy",
    "StageContext": "context",
    "turn_units": "conversation",
    "message_id": "conversation",
    "CannotFitError": "errors",
    "InvalidConversationError": "errors",
    "InvariantViolation": "errors",
    "CompressionReentryError": "errors",
    "load_conversation": "io",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'massgen_plugins.compression' has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
