"""OpenAI: models, chat completions, the Responses API (JSON and SSE), compaction and input-token
counting."""

from __future__ import annotations

from ..spec import Fault
from .base import HttpError, Reply, Request
from .openai_compat import OpenAICompatDialect


class OpenAIDialect(OpenAICompatDialect):
    provider = "openai"
    root = "/v1"

    def route_more(self, req: Request, sub: str, fault: Fault | None) -> Reply:
        raise HttpError(self.not_found(req))
