"""The Grafana dashboard matches the metrics; OpenTelemetry GenAI spans when a tracer is configured."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openai

DASHBOARD = Path(__file__).resolve().parents[3] / "examples" / "grafana" / "massgen-gateway.json"


def test_grafana_dashboard_queries_only_metrics_the_gateway_exports():
    from massgen_plugins_gateway.metrics import Metrics
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    metrics = Metrics(registry)
    metrics.requests.labels("openai", "openai/gpt-4o-mini", "k", "openai", "200").inc()
    metrics.latency.labels("openai", "openai/gpt-4o-mini", "k", "openai").observe(0.1)
    metrics.ttft.labels("openai", "openai/gpt-4o-mini", "k", "openai").observe(0.1)
    metrics.observe_event({"type": "call_end", "model": "openai/m", "usage": {"input_tokens": 1, "output_tokens": 1}},
                          "k")
    for kind, extra in (("compression", {"stage": "mask"}), ("overflow", {"mode": "reactive"}),
                        ("retry", {"kind": "rate_limit"}), ("fallback", {"from_model": "a/b", "to_model": "c/d",
                                                                         "why": "overflow"})):
        metrics.observe_event({"type": kind, "model": "openai/m", **extra}, "k")
    metrics.rate_limited.labels("k", "rpm").inc()
    metrics.prefix_reuse.labels("openai", "openai/m", "k").inc()
    metrics.overhead.labels("openai", "openai/m", "k", "openai", "request").observe(0.001)
    exported = {line.split("{")[0].split(" ")[0] for line in generate_latest(registry).decode().splitlines()
                if line and not line.startswith("#")}
    dashboard = json.loads(DASHBOARD.read_text())
    queried = {name for panel in dashboard["panels"] for target in panel["targets"]
               for name in re.findall(r"massgen_gateway_[a-z_]+", target["expr"])}
    assert queried and queried <= exported, queried - exported
    assert len(dashboard["panels"]) >= 10


def test_opentelemetry_genai_span_per_request(gateway):
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)  # once per process; later calls are ignored by the API
    exporter = next(p.span_exporter for p in trace.get_tracer_provider()._active_span_processor._span_processors)
    oa = openai.OpenAI(base_url=gateway.url + "/v1", api_key=gateway.master, max_retries=0)
    oa.chat.completions.create(model="openai/gpt-4o-mini", max_tokens=50,
                               messages=[{"role": "user", "content": "trace me"}])
    spans = [s for s in exporter.get_finished_spans() if s.name == "chat openai/gpt-4o-mini"]
    assert spans, [s.name for s in exporter.get_finished_spans()]
    attributes = dict(spans[-1].attributes)
    assert attributes["gen_ai.operation.name"] == "chat" and attributes["gen_ai.system"] == "openai"
    assert attributes["gen_ai.request.model"] == "openai/gpt-4o-mini"
    assert attributes["gen_ai.request.max_tokens"] == 50
    assert attributes["gen_ai.usage.input_tokens"] > 0 and attributes["gen_ai.usage.output_tokens"] > 0
