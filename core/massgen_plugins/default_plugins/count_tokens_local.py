"""Built-in ``count_tokens``: local counting, answering last.

Exact tiktoken counts for OpenAI models; for every other provider a proxy count with the
provider's stated margin, or an estimate that never under-counts when the encoding files are absent. Provider
plugins answer first (for example with a provider count endpoint when ``allow_network``).
"""

from __future__ import annotations

from typing import Any

from massgen_plugins.hookspecs import hookimpl


@hookimpl(trylast=True)
def count_tokens(request: Any) -> Any:
    from massgen_plugins.tokens import count_conversation

    return count_conversation(request.model, request.messages, request.tools)
