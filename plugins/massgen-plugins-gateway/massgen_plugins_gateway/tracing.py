"""OpenTelemetry spans with the GenAI semantic conventions, when ``opentelemetry`` is installed.

Without the package every function here is a no-op. With it, spans go to whatever tracer provider
the process configured (``opentelemetry-instrument``, or the SDK set up in code); the API alone
records nothing. One span per request, ``chat {model}`` (kind SERVER), from authentication to the
last byte of the answer (streams included), with ``gen_ai.operation.name``, ``gen_ai.system``,
``gen_ai.request.model``, ``gen_ai.request.max_tokens``, ``gen_ai.response.model``,
``gen_ai.usage.input_tokens``, ``gen_ai.usage.output_tokens``, ``gen_ai.response.finish_reasons``
and ``error.type`` on failure.
"""

from __future__ import annotations

from typing import Any

try:
    from opentelemetry import trace as _trace
except ImportError:  # pragma: no cover - optional
    _trace = None  # type: ignore[assignment]


class RequestSpan:
    """The span of one request; :meth:`end` is idempotent (the first outcome recorded wins)."""

    def __init__(self, model: str, *, api: str, max_tokens: int | None, key: str) -> None:
        self.span: Any = None
        if _trace is None:
            return
        self.span = _trace.get_tracer("massgen_plugins_gateway").start_span(f"chat {model}",
                                                                            kind=_trace.SpanKind.SERVER)
        self.span.set_attributes({"gen_ai.operation.name": "chat", "gen_ai.system": model.split("/", 1)[0],
                                  "gen_ai.request.model": model, "massgen.gateway.api": api,
                                  "massgen.gateway.key": key})
        if max_tokens is not None:
            self.span.set_attribute("gen_ai.request.max_tokens", max_tokens)

    def end(self, *, model: str | None = None, input_tokens: int = 0, output_tokens: int = 0,
            finish: str | None = None, error: str | None = None) -> None:
        """Record the outcome and close the span."""
        span, self.span = self.span, None
        if span is None:
            return
        if model:
            span.set_attribute("gen_ai.response.model", model)
        span.set_attributes({"gen_ai.usage.input_tokens": input_tokens, "gen_ai.usage.output_tokens": output_tokens})
        if finish:
            span.set_attribute("gen_ai.response.finish_reasons", [finish])
        if error:
            span.set_attribute("error.type", error)
            span.set_status(_trace.Status(_trace.StatusCode.ERROR))
        span.end()
