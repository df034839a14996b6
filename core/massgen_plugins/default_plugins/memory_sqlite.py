"""Built-in memory backend: opens ``sqlite:///path`` stores (the embedded default).

Answers last (``trylast``) so a third-party plugin can take over ``sqlite:`` URLs. Importing this
module imports nothing heavy; the store module is loaded on first use.
"""

from __future__ import annotations

from typing import Any

from massgen_plugins.hookspecs import hookimpl


@hookimpl(trylast=True)
def memory_store(url: str) -> Any:
    if not url.startswith("sqlite:"):
        return None
    from massgen_plugins.memory.sqlite import SQLiteMemoryStore

    return SQLiteMemoryStore.from_url(url)
