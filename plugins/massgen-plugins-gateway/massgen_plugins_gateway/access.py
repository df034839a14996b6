"""Who may call, how often and how much: authentication, rate limits, budgets and spend.

Order of checks for a model request: a key (401), the key's model globs (403), its lifetime token
budget (429 ``insufficient_quota``), then its per-minute request and token windows (429
``rate_limit_exceeded`` with ``retry-after``). Spend is recorded after the request: input and
output tokens, and the cost where the registry knows the model's prices.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from massgen_plugins.guard.limits import registry_info
from starlette.requests import Request

from .failures import Failure
from .keys import Authenticator, Caller, request_key
from .metrics import Metrics
from .store import GatewayStore


class Access:
    """The access policy of one gateway process."""

    def __init__(self, store: GatewayStore, metrics: Metrics, *, require_key: bool = True,
                 master_key: str | None = None) -> None:
        self.store = store
        self.metrics = metrics
        self.require_key = require_key
        self.auth = Authenticator(store, master_key=master_key)
        self._prices: dict[str, tuple[float | None, float | None]] = {}

    async def _call(self, fn: Any, *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args) if self.store.remote else fn(*args)

    async def caller(self, request: Request) -> Caller:
        """The authenticated caller, or :class:`Failure` 401."""
        key = request_key(request.headers)
        caller = await self._call(self.auth.lookup, key)
        if caller is not None:
            return caller
        if not self.require_key:
            from .keys import MASTER_RECORD

            return Caller(MASTER_RECORD.model_copy(update={"name": "anonymous", "id": "anonymous"}))
        if key is None:
            raise Failure(401, "no API key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>' "
                          "(create one with `massgen-plugins keys create --name NAME`)", "authentication")
        raise Failure(401, "invalid or revoked API key", "authentication")

    def admin(self, caller: Caller) -> None:
        if not caller.admin:
            raise Failure(403, "this endpoint needs the master key (MASSGEN_PLUGINS_MASTER_KEY)", "permission")

    async def admit(self, caller: Caller, requested: str, model: str) -> None:
        """Check the key's model globs, budget and windows; count the request."""
        key = caller.key
        if caller.admin or key.id == "anonymous":
            return
        if not (key.allows(requested) or key.allows(model)):
            raise Failure(403, f"this key may not use model {requested!r} (allowed: {key.models})", "permission")
        if key.max_tokens is not None:
            spend = await self._call(self.store.spend, key.id)
            if spend.tokens >= key.max_tokens:
                self.metrics.rate_limited.labels(key.name, "budget").inc()
                raise Failure(429, f"this key's token budget is used up ({spend.tokens} of {key.max_tokens} tokens); "
                              "ask the gateway's operator for a new key or a larger budget", "insufficient_quota")
        if key.rpm is None and key.tpm is None:
            return
        admitted, reason, window = await self._call(self.store.admit, key.id, key.rpm, key.tpm)
        if not admitted:
            self.metrics.rate_limited.labels(key.name, reason or "").inc()
            limit = key.rpm if reason == "rpm" else key.tpm
            what = "requests" if reason == "rpm" else "tokens"
            wait = max(1, math.ceil(window.resets_in))
            raise Failure(429, f"rate limit reached for this key: {limit} {what} per minute; retry in {wait} s",
                          "rate_limit", headers={"retry-after": str(wait)})

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> float:
        """USD for this usage when the registry knows the model's prices, else 0."""
        if model not in self._prices:
            info = registry_info(model)
            self._prices[model] = (getattr(info, "input_price_per_mtok", None),
                                   getattr(info, "output_price_per_mtok", None))
        price_in, price_out = self._prices[model]
        return ((price_in or 0.0) * input_tokens + (price_out or 0.0) * output_tokens) / 1e6

    async def record(self, caller: Caller, model: str, input_tokens: int, output_tokens: int) -> float:
        cost = self.cost(model, input_tokens, output_tokens)
        await self._call(self.store.record_usage, caller.key.id, input_tokens, output_tokens, cost)
        return cost
