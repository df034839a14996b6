"""Built-in behaviour, written as ordinary plugins through the same hooks third parties use.

Each module here is registered by its module path before any third-party plugin, so third-party
implementations are called first and can override a built-in. ``massgen-plugins list --all``
shows them; ``MASSGEN_PLUGINS_DISABLED=<short name>`` switches one off.

Modules must stay cheap to import (no SDK, no pydantic at module level): they are imported on
every ``massgen-plugins`` start.
"""

DEFAULT_PLUGINS: tuple[str, ...] = (
    "massgen_plugins.default_plugins.errors_generic",
    "massgen_plugins.default_plugins.logs_deterministic",
    "massgen_plugins.default_plugins.logs_selfanalysis",
    "massgen_plugins.default_plugins.models_bundled",
    "massgen_plugins.default_plugins.models_openrouter",
    "massgen_plugins.default_plugins.count_tokens_local",
    "massgen_plugins.default_plugins.compress_mask",
    "massgen_plugins.default_plugins.compress_summarize",
    "massgen_plugins.default_plugins.compress_extract",
    "massgen_plugins.default_plugins.compress_truncate",
    "massgen_plugins.default_plugins.memory_sqlite",
)
