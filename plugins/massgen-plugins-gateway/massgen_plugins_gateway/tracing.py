"""OpenTelemetry spans with the GenAI semantic conventions, when ``opentelemetry`` is installed.

Without the package every function here is a no-op. With it, spans go to whatever tracer provider
the process configured (``opentelemetry-instrument``, or ``OTEL_*`` variables with the SDK); the API
alone records nothing. Span name ``chat {model}``, attributes ``gen_ai.operation.name``,
``gen_ai.system``, ``gen_ai.request.model``, ``gen_ai.request.max_tokens``,
``gen_ai.response.model``, ``gen_ai.usage.input_tokens``, ``gen_ai.usage.output_tokens``,
``gen_ai.response.finish_reasons`` and ``error.type`` on failure.
"""

from __future__ import annotations

from contextlib import contextmanager
from collections.abc import Iterator
from typing import Any

try:
    from opentelemetry import trace as _trace
except ImportError:  # pragma: no cover - optional
    _trace = None  # type: ignore[assignment]


class _NoSpan:
    def set_attribute(self, key: str, value: Any) -> None:
        pass

    def set_attributes(self, values: dict[str, Any]) -> None:
        pass


@contextmanager
def chat_span(model: str, *, api: str, max_tokens: int | None, key: str) -> Iterator[Any]:
    """A ``chat`` span around one gateway request (yields an object with ``set_attribute``)."""
    if _trace is None:
        yield _NoSpan()
        return
    tracer = _trace.get_tracer("massgen_plugins_gateway")
    provider = model.split("/", 1)[0]
    with tracer.start_as_current_span(f"chat {model}", kind=_trace.SpanKind.SERVER) as span:
        span.set_attributes({
            "gen_ai.operation.name": "chat", "gen_ai.system": provider, "gen_ai.request.model": model,
            "massgen.gateway.api": api, "massgen.gateway.key": key,
        })
        if max_tokens is not None:
            span.set_attribute("gen_ai.request.max_tokens", max_tokens)
        yield span


def record_response(span: Any, model: str, input_tokens: int, output_tokens: int, finish: str | None) -> None:
    span.set_attributes({"gen_ai.response.model": model, "gen_ai.usage.input_tokens": input_tokens,
                         "gen_ai.usage.output_tokens": output_tokens})
    if finish:
        span.set_attribute("gen_ai.response.finish_reasons", [finish])


def record_error(span: Any, kind: str) -> None:
    span.set_attribute("error.type", kind)
