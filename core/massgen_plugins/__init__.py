"""massgen-plugins: keep multi-agent LLM systems alive on long runs.

Plugin authors need only ``from massgen_plugins import hookimpl``. Everything else is imported
lazily on first use, so importing the package (and every plugin that imports ``hookimpl``)
stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ._version import __version__
from .hookspecs import hookimpl

_LAZY = {
    "Session": "massgen_plugins.guard",
    "SyncSession": "massgen_plugins.guard",
    "Team": "massgen_plugins.guard",
    "AgentConfig": "massgen_plugins.guard",
    "RetryPolicy": "massgen_plugins.guard",
    "RequestOptions": "massgen_plugins.guard",
    "ContextOverflowError": "massgen_plugins.guard",
    "AllModelsFailedError": "massgen_plugins.guard",
    "detect_overflow": "massgen_plugins.overflow",
    "get_hooks": "massgen_plugins.manager",
    "get_host": "massgen_plugins.manager",
    "parse_model": "massgen_plugins.modelref",
    "resolve_settings": "massgen_plugins.providers",
    "installed_providers": "massgen_plugins.providers",
    "MassgenError": "massgen_plugins.errors",
    "InputError": "massgen_plugins.errors",
    "get_model_info": "massgen_plugins.registry",
    "UnknownModelError": "massgen_plugins.errors",
}
_TYPES = {
    "Message", "ModelInfo", "Overflow", "ProviderInfo", "ProviderSettings", "TokenCount",
    "TokenCountRequest", "CompressionRequest", "CompressionResult", "ArchivedMessage",
    "CompletionRequest", "CompletionResponse", "StreamEvent", "ErrorInfo", "ErrorKind",
    "Finding", "AnalysisRequest", "AnalysisResult", "ToolCall", "Usage",
}

__all__ = ["__version__", "hookimpl", *sorted(_LAZY), *sorted(_TYPES)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name) or ("massgen_plugins.types" if name in _TYPES else None)
    if module is None:
        raise AttributeError(f"module 'massgen_plugins' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
