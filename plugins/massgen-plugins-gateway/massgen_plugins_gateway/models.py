"""``GET /v1/models``: the registry's chat models as ``provider/model``, plus configured aliases.

Read from the registry's cache and bundled data (never waiting on a provider) and kept for
:data:`TTL` seconds. Answered in the OpenAI list shape, or Anthropic's when the request carries
``anthropic-version``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .settings import GatewaySettings

TTL = 300.0


class ModelList:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self._cached: tuple[float, list[tuple[str, int, str]]] | None = None

    def _load(self) -> list[tuple[str, int, str]]:
        from massgen_plugins.registry import list_models

        rows = [(m.ref, int(m.created or 0), m.provider) for m in list_models(offline=True) if m.chat is not False
                and (m.kind in (None, "chat"))]
        rows += [(alias, 0, "alias") for alias in self.settings.aliases]
        return sorted(set(rows))

    async def entries(self) -> list[tuple[str, int, str]]:
        if self._cached is None or time.monotonic() - self._cached[0] > TTL:
            self._cached = (time.monotonic(), await asyncio.to_thread(self._load))
        return self._cached[1]

    async def body(self, api: str) -> dict[str, Any]:
        rows = await self.entries()
        if api == "anthropic":
            data = [{"type": "model", "id": ref, "display_name": ref,
                     "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created))}
                    for ref, created, _ in rows]
            return {"data": data, "has_more": False, "first_id": data[0]["id"] if data else None,
                    "last_id": data[-1]["id"] if data else None}
        return {"object": "list", "data": [{"id": ref, "object": "model", "created": created, "owned_by": owner}
                                           for ref, created, owner in rows]}
