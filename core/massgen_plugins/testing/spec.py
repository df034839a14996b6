"""The emulator's public value types: models in a catalogue, faults to inject, recorded requests.

Plain dataclasses (no pydantic, no SDK) so ``import massgen_plugins.testing`` stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Providers the emulator serves, each under its own path prefix (``{url}/<provider>/...``).
PROVIDERS: tuple[str, ...] = ("openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter")

#: Self-hosted OpenAI-compatible servers the emulator can pose as (``{url}/vllm/v1``,
#: ``{url}/ollama/v1``): for testing configured providers (``[providers.NAME]`` in config.toml).
SERVERS: tuple[str, ...] = ("vllm", "ollama")

#: Every path prefix the emulator serves.
SERVED: tuple[str, ...] = PROVIDERS + SERVERS

#: Every ``Fault.kind`` the emulator understands (see docs/emulator.md for what each one sends).
FAULT_KINDS: frozenset[str] = frozenset({
    "rate_limit", "quota", "server_error", "unavailable", "overloaded", "hang", "drop", "malformed",
    "truncated_stream", "stream_error", "overflow", "output_cap", "payload_too_large", "http200_error",
    "custom",
})

#: Kinds that only make sense for a streaming request; they never match a non-streaming one.
STREAM_ONLY_KINDS: frozenset[str] = frozenset({"truncated_stream", "stream_error"})

#: Values for ``Fault.error_type`` of a ``stream_error`` fault.
STREAM_ERROR_TYPES: frozenset[str] = frozenset({"overloaded", "overflow", "server_error", "rate_limit"})


@dataclass
class EmulatedModel:
    """One model in a provider's catalogue.

    ``context_window`` is the total window (input + output) the emulator enforces;
    ``max_output`` is the output cap (a larger requested output gets the provider's output-cap
    400, not an overflow); ``input_limit`` optionally caps the input alone (OpenAI's GPT-5 family:
    "Input tokens exceed the configured limit of 272000 tokens"). ``kind`` is ``chat`` for models
    that answer chat requests, otherwise ``embedding``, ``tts``, ``transcription``, ``moderation``
    or ``image`` (listed, but a chat request to them is refused as the real API does).
    ``extra`` is merged into the provider's model JSON as-is.
    """

    id: str
    context_window: int
    max_output: int = 4096
    kind: str = "chat"
    display_name: str | None = None
    created: int = 1_735_689_600  # 2025-01-01T00:00:00Z
    owned_by: str | None = None
    input_limit: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_chat(self) -> bool:
        return self.kind == "chat"

    @property
    def effective_input_limit(self) -> int:
        return self.input_limit if self.input_limit is not None else self.context_window


@dataclass
class Fault:
    """A failure to inject into matching requests.

    Scope: ``provider``, ``model`` (the id in the request, or the Gemini path), ``path`` (a
    substring of the provider-relative path, e.g. ``"/chat/completions"``), ``stream`` (only
    streaming / only non-streaming requests), ``on_request`` (only the Nth matching request,
    1-based) and ``times`` (how many matching requests it hits; ``None`` = every one).

    Knobs: ``retry_after`` (seconds, sent as ``retry-after`` and ``retry-after-ms``; ``None`` sends
    no header), ``seconds`` (``hang``; with ``after_events=N`` on a streaming request the hang
    happens after the first N frames, for idle-timeout tests), ``error_type`` (``stream_error``: ``overloaded``,
    ``overflow``, ``server_error`` or ``rate_limit``), ``after_events`` (how many content events a
    ``stream_error``/``truncated_stream`` lets through; default: the first content delta),
    ``abrupt`` (``truncated_stream``: cut the connection instead of ending the body cleanly),
    ``form`` (OpenAI Responses in-stream errors: ``nested`` — ``event: error`` with a nested
    ``error`` object, which the SDK raises; ``flat`` — ``code``/``message`` at the top level, which
    the SDK yields; ``failed`` — a ``response.failed`` event).
    Extensions for verbatim bodies: ``status``, ``body`` (a dict sent as JSON or a str sent as
    text), ``headers`` and ``message`` override what the kind would send; kind ``custom`` sends
    exactly ``status``/``body``/``headers`` -- with ``sse=True`` as one server-sent event
    (``data: <body>``) of a stream that opened with ``status`` (default 200), which is how
    OpenAI-compatible servers (vLLM, llama.cpp, LM Studio, OpenRouter) report an error that
    happens after the stream started.
    """

    kind: str
    provider: str | None = None
    model: str | None = None
    path: str | None = None
    stream: bool | None = None
    on_request: int | None = None
    times: int | None = 1
    retry_after: float | None = 0.01
    seconds: float = 30.0
    error_type: str = "overloaded"
    after_events: int | None = None
    abrupt: bool = False
    form: str = "nested"
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    sse: bool = False
    hits: int = field(default=0, init=False)
    seen: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(sorted(FAULT_KINDS))}")
        if self.provider is not None and self.provider not in SERVED:
            raise ValueError(f"unknown provider {self.provider!r}; known: {', '.join(SERVED)}")
        if self.kind == "stream_error" and self.error_type not in STREAM_ERROR_TYPES:
            raise ValueError(f"unknown stream error_type {self.error_type!r}; known: "
                             f"{', '.join(sorted(STREAM_ERROR_TYPES))}")
        if self.form not in ("nested", "flat", "failed"):
            raise ValueError(f"unknown in-stream error form {self.form!r}; known: nested, flat, failed")
        if self.kind == "custom" and self.status is None and not self.sse:
            raise ValueError("a 'custom' fault needs a status (and usually a body)")
        if self.sse and self.kind != "custom":
            raise ValueError("sse=True applies to 'custom' faults only")

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times


@dataclass
class RecordedRequest:
    """One request the emulator received.

    ``path`` is what the real provider would have seen (``/v1/chat/completions``,
    ``/openai/v1/models`` for Groq, ``/v1beta/models/x:generateContent`` for Gemini);
    ``headers`` have lower-case names with credentials redacted; ``body`` is the decoded JSON (or
    ``None``); ``status`` is the HTTP status sent (``None`` while in flight or for a dropped
    connection); ``fault`` is the kind of the fault that hit it, if any.
    """

    provider: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int | None = None
    fault: str | None = None
    model: str | None = None
    stream: bool = False
    index: int = 0
