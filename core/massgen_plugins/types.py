"""Pydantic models for everything that crosses the host/plugin boundary.

Plugins receive and return these objects; the host validates them at the boundary so a plugin
that returns the wrong shape fails loudly in the chain (and is skipped) instead of corrupting a
conversation later. Every model allows adding fields in later versions; plugins must tolerate
fields they do not know.

Messages use the OpenAI Chat Completions format (the lingua franca of LLM APIs): roles
``system``/``developer``/``user``/``assistant``/``tool``, string or parts content, assistant
``tool_calls`` and tool ``tool_call_id``. Provider plugins translate to and from their own wire
format.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = [
    "AnalysisRequest",
    "AnalysisResult",
    "ArchivedMessage",
    "CompletionRequest",
    "CompletionResponse",
    "CompressionRequest",
    "CompressionResult",
    "ErrorInfo",
    "ErrorKind",
    "Finding",
    "Message",
    "ModelInfo",
    "Overflow",
    "ProviderInfo",
    "ProviderSettings",
    "StreamEvent",
    "TokenCount",
    "TokenCountRequest",
    "ToolCall",
    "Usage",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


# --------------------------------------------------------------------------- conversation


class ToolCall(_Model):
    """An assistant's request to call a tool (OpenAI ``tool_calls`` item)."""

    id: str
    type: Literal["function"] = "function"
    function: dict[str, Any] = Field(description="{'name': str, 'arguments': str (JSON)}")


class Message(_Model):
    """One conversation message in the OpenAI Chat Completions format.

    ``content`` is a string, a list of parts (``{"type": "text", "text": ...}``, image parts,
    or provider-specific opaque parts such as an OpenAI compaction item) or ``None`` for an
    assistant message that only calls tools. Extra keys are preserved verbatim.
    """

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None

    def text(self) -> str:
        """The message's plain text (parts joined with newlines); empty for tool-only turns."""
        if isinstance(self.content, str):
            return self.content
        if not self.content:
            return ""
        return "\n".join(str(p.get("text", "")) for p in self.content if isinstance(p, dict) and "text" in p)


# --------------------------------------------------------------------------- providers & models


class ProviderInfo(_Model):
    """What a provider plugin declares about the provider it implements."""

    name: str = Field(description="The provider part of model strings, e.g. 'openai'.")
    display_name: str = ""
    api_key_env: list[str] = Field(default_factory=list, description="Env vars holding the key, in order.")
    base_url_env: str | None = Field(default=None, description="Env var that overrides the endpoint.")
    default_base_url: str | None = None
    sdk: str | None = Field(default=None, description="Import name of the SDK the plugin uses.")
    tokenizer: str = Field(default="estimate", description="'tiktoken:<encoding>', 'api' or 'estimate'.")
    token_margin: float = Field(
        default=0.10, description="Relative safety margin the guard applies to local token counts."
    )
    capabilities: list[str] = Field(default_factory=list, description="e.g. ['stream', 'tools', 'compact']")


class ProviderSettings(_Model):
    """Resolved connection settings the host hands to a provider plugin.

    The host resolves these from explicit configuration first, then the provider's environment
    variables. ``api_key`` is a :class:`~pydantic.SecretStr` so it never appears in a repr, a log
    line or an exception message.
    """

    provider: str
    api_key: SecretStr | None = None
    base_url: str | None = None
    timeout: float = 60.0
    extra: dict[str, Any] = Field(default_factory=dict)

    def key(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key is not None else None


class ModelInfo(_Model):
    """A model as the registry knows it. ``provenance`` says where each field came from."""

    provider: str
    id: str = Field(description="The provider's model id, e.g. 'gpt-4o-mini'.")
    display_name: str | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    input_price_per_mtok: float | None = Field(default=None, description="USD per million input tokens.")
    output_price_per_mtok: float | None = Field(default=None, description="USD per million output tokens.")
    chat: bool | None = Field(default=None, description="Usable for chat; None when the API does not say.")
    kind: str | None = Field(default=None, description="chat, embedding, tts, transcription, image, ...")
    tokenizer: str | None = None
    created: int | None = None
    deprecated: bool | None = None
    provenance: dict[str, str] = Field(default_factory=dict, description="field -> api|bundled|third-party")
    # set by the registry (plugins need not fill these)
    source: str | None = Field(
        default=None, description="Where the listing came from: 'api' (fetched now), 'cache', 'bundled'."
    )
    stale: bool = Field(default=False, description="Served from an expired cache because a refresh failed.")
    fetched_at: float | None = Field(default=None, description="Unix time the provider list was fetched.")
    unknown_window: bool = Field(
        default=False, description="Listed by the provider but no source knows its context window."
    )

    @property
    def ref(self) -> str:
        """The full model string, ``provider/id``."""
        return f"{self.provider}/{self.id}"


# --------------------------------------------------------------------------- token counting


class TokenCountRequest(_Model):
    model: str = Field(description="Full model string, 'provider/model'.")
    messages: list[Message]
    tools: list[dict[str, Any]] = Field(default_factory=list)
    allow_network: bool = Field(default=False, description="May a provider count endpoint be called?")


class TokenCount(_Model):
    tokens: int
    method: str = Field(description="How it was counted: 'api', 'tiktoken:o200k_base', 'estimate', ...")
    exact: bool = False
    margin: float = Field(default=0.0, description="Relative error bound of the count (0 when exact).")


# --------------------------------------------------------------------------- errors


class ErrorKind(str, Enum):
    """What a provider error means for the guard."""

    OVERFLOW = "overflow"  # the input (plus reserved output) exceeds the context window
    RATE_LIMIT = "rate_limit"  # retry after a delay
    QUOTA = "quota"  # out of credits / billing: do not retry, fall back
    OVERLOADED = "overloaded"  # Anthropic 529 and the like: retry
    SERVER = "server"  # 5xx: retry
    TIMEOUT = "timeout"  # retry
    CONNECTION = "connection"  # dropped connection, DNS, refused: retry
    STREAM = "stream"  # an in-stream error event that is not an overflow: retry
    OUTPUT_CAP = "output_cap"  # max_tokens larger than the model allows: fix the request
    PAYLOAD_TOO_LARGE = "payload_too_large"  # HTTP 413 request size: not a token overflow
    AUTH = "auth"  # bad or missing key: do not retry
    NOT_FOUND = "not_found"  # unknown model
    BAD_REQUEST = "bad_request"  # any other 4xx
    UNKNOWN = "unknown"


class ErrorInfo(_Model):
    kind: ErrorKind
    retryable: bool
    provider: str | None = None
    status: int | None = None
    code: str | None = None
    message: str = ""
    retry_after: float | None = Field(default=None, description="Seconds the provider asked us to wait.")


class Overflow(_Model):
    """A context-window overflow, as classified from a provider error."""

    provider: str | None = None
    model: str | None = None
    limit: int | None = Field(default=None, description="The window (or input limit) the provider stated.")
    requested: int | None = Field(default=None, description="The tokens the request needed, if stated.")
    in_stream: bool = False
    status: int | None = None
    code: str | None = None
    message: str = ""
    matched_by: str = Field(default="", description="'structure' or 'message:<pattern>' — how it was known.")


# --------------------------------------------------------------------------- completion


class CompletionRequest(_Model):
    model: str = Field(description="Full model string, 'provider/model'.")
    messages: list[Message]
    tools: list[dict[str, Any]] = Field(default_factory=list, description="OpenAI-format tool schemas.")
    max_tokens: int | None = None
    temperature: float | None = None
    timeout: float | None = None
    options: dict[str, Any] = Field(default_factory=dict, description="Provider-specific options.")

    @property
    def provider(self) -> str:
        return self.model.split("/", 1)[0]

    @property
    def model_id(self) -> str:
        return self.model.split("/", 1)[1] if "/" in self.model else self.model


class Usage(_Model):
    input_tokens: int = 0
    output_tokens: int = 0


class CompletionResponse(_Model):
    model: str
    message: Message = Field(description="The assistant message (text and/or tool_calls).")
    finish_reason: str | None = None
    usage: Usage = Field(default_factory=Usage)
    id: str | None = None


class StreamEvent(_Model):
    """One event of a streamed completion.

    ``type`` is ``text`` (``delta`` holds new text), ``reasoning`` (``delta`` holds new
    reasoning/thinking text, e.g. Anthropic's extended thinking), ``tool_call`` (``tool_call``
    holds a complete call), ``error`` (``error`` holds the exception; ``partial`` the text so far,
    ``reasoning`` the reasoning so far) or ``done`` (``response`` holds the assembled
    :class:`CompletionResponse`).
    """

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    type: Literal["text", "reasoning", "tool_call", "error", "done"]
    delta: str = ""
    tool_call: ToolCall | None = None
    error: Any = None
    partial: str = ""
    reasoning: str = ""
    response: CompletionResponse | None = None


# --------------------------------------------------------------------------- compression


class ArchivedMessage(_Model):
    """A message removed or replaced by compression, with provenance."""

    id: str = Field(description="Stable id of the original message (content hash or position id).")
    message: Message
    replaced_by: str | None = Field(default=None, description="Id of the summary/stub that replaced it.")
    stage: str = ""


class CompressionRequest(_Model):
    model: str = Field(description="The model the conversation is for, 'provider/model'.")
    messages: list[Message]
    tools: list[dict[str, Any]] = Field(default_factory=list)
    budget: int = Field(description="Target input tokens the result must fit in.")
    strategy: str = "balanced"
    options: dict[str, Any] = Field(
        default_factory=dict, description="Strategy parameters: keep_recent_tokens, summarizer_model, ..."
    )


class CompressionResult(_Model):
    messages: list[Message]
    stage: str = Field(description="Name of the stage that produced this result.")
    tokens_before: int | None = None
    tokens_after: int | None = None
    archived: list[ArchivedMessage] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------------- log analysis


class Finding(_Model):
    severity: Literal["info", "warning", "error"] = "info"
    title: str
    detail: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class AnalysisRequest(_Model):
    run_dir: str
    events: list[dict[str, Any]] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)
    model: str | None = Field(default=None, description="Model for LLM self-analysis, if chosen.")


class AnalysisResult(_Model):
    analyzer: str
    summary: dict[str, Any] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list)
    markdown: str | None = None
