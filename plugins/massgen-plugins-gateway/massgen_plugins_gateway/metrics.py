"""Prometheus metrics of the gateway, by provider, model and key.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``serve --workers N`` sets it to a fresh directory before
the workers start), every worker writes its samples there and ``/metrics`` aggregates all of
them, so a scrape sees the whole server whichever worker answers it.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

__all__ = ["CONTENT_TYPE", "Metrics"]

#: the gateway's own work per request or relayed event: sub-millisecond resolution
OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    """The gateway's counters and histograms (one set per process, registered once)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry
        kw: dict[str, Any] = {"registry": registry} if registry is not None else {}
        pmk = ["provider", "model", "key"]
        self.requests = Counter("massgen_gateway_requests", "Requests answered, by API and HTTP status.",
                                [*pmk, "api", "status"], **kw)
        self.latency = Histogram("massgen_gateway_request_seconds", "Request latency at the gateway.",
                                 [*pmk, "api"], buckets=LATENCY_BUCKETS, **kw)
        self.ttft = Histogram("massgen_gateway_ttft_seconds", "Time to the first streamed token.",
                              [*pmk, "api"], buckets=LATENCY_BUCKETS, **kw)
        self.overhead = Histogram(
            "massgen_gateway_overhead_seconds",
            "Time spent inside the gateway, by phase: before_upstream (request received to upstream request "
            "sent), relay (one upstream event received to its hand-over to the client), request (their sum "
            "for one request).", [*pmk, "api", "phase"], buckets=OVERHEAD_BUCKETS, **kw)
        self.tokens = Counter("massgen_gateway_tokens", "Tokens billed by providers.", [*pmk, "direction"], **kw)
        self.provider_calls = Counter("massgen_gateway_provider_calls", "Calls to providers, by outcome.",
                                      [*pmk, "outcome"], **kw)
        self.compressions = Counter("massgen_gateway_compressions", "Compressions, by the stage that finished.",
                                    [*pmk, "stage"], **kw)
        self.overflows = Counter("massgen_gateway_overflows", "Context overflows, proactive or reactive.",
                                 [*pmk, "mode"], **kw)
        self.retries = Counter("massgen_gateway_retries", "Retries, by error kind.", [*pmk, "kind"], **kw)
        self.fallbacks = Counter("massgen_gateway_fallbacks", "Fallbacks to another model.",
                                 ["from_model", "to_model", "key", "why"], **kw)
        self.rate_limited = Counter("massgen_gateway_rate_limited", "Requests refused by a key's limits.",
                                    ["key", "reason"], **kw)
        self.prefix_reuse = Counter("massgen_gateway_prefix_reuse", "Requests whose compressed prefix was reused.",
                                    pmk, **kw)

    def observe_event(self, event: dict[str, Any], key: str) -> None:
        """Count one run-log event of a request made with key ``key``."""
        kind = event.get("type")
        model = str(event.get("model") or "")
        provider = model.split("/", 1)[0] if "/" in model else ""
        labels = (provider, model, key)
        if kind == "call_end":
            self.provider_calls.labels(*labels, event.get("outcome", "ok")).inc()
            usage = event.get("usage") or {}
            if usage.get("input_tokens"):
                self.tokens.labels(*labels, "input").inc(usage["input_tokens"])
            if usage.get("output_tokens"):
                self.tokens.labels(*labels, "output").inc(usage["output_tokens"])
        elif kind == "compression":
            self.compressions.labels(*labels, event.get("stage", "")).inc()
        elif kind == "overflow":
            self.overflows.labels(*labels, event.get("mode", "")).inc()
        elif kind == "retry":
            self.retries.labels(*labels, event.get("kind", "")).inc()
        elif kind == "fallback":
            self.fallbacks.labels(event.get("from_model", ""), event.get("to_model", ""), key,
                                  event.get("why", "")).inc()


def exposition() -> bytes:
    """The text exposition of this process (or of every worker, in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY)
