"""Per-call request options: sampling and output controls a caller gives one ``send``/``stream``.

:class:`RequestOptions` is the portable set, in OpenAI Chat Completions terms (plus Anthropic's
``top_k`` and ``thinking``): the provider plugins translate them to their own API (the Anthropic
plugin turns ``stop`` into ``stop_sequences`` and an OpenAI ``tool_choice`` into Anthropic's).
They travel through the turn loop into every :class:`~massgen_plugins.types.CompletionRequest` of
that turn -- retries and fallbacks included -- but never into the summarizer's calls, which make
their own requests. The run log records only which options were set, never their values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputError

ToolChoice = Literal["auto", "none", "required"] | dict[str, Any]


class RequestOptions(BaseModel):
    """Options for one turn's provider calls; every field is optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    top_k: int | None = Field(None, ge=1, description="Anthropic, Gemini and most local servers.")
    stop: str | list[str] | None = Field(None, description="Stop sequence(s); Anthropic's stop_sequences.")
    seed: int | None = None
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    tool_choice: ToolChoice | None = Field(
        None, description="'auto', 'none', 'required' or {'type': 'function', 'function': {'name': ...}}.")
    parallel_tool_calls: bool | None = None
    response_format: dict[str, Any] | None = Field(
        None, description="{'type': 'json_object'} or {'type': 'json_schema', 'json_schema': {...}}.")
    thinking: dict[str, Any] | None = Field(None, description="Anthropic extended thinking.")
    metadata: dict[str, str] | None = None
    user: str | None = None

    @classmethod
    def parse(cls, value: RequestOptions | Mapping[str, Any] | None) -> RequestOptions | None:
        """``value`` as options (``None`` or empty: none).

        :raises InputError: naming the unknown or invalid field and what it accepts.
        """
        if value is None or isinstance(value, RequestOptions):
            return value or None
        if not isinstance(value, Mapping):
            raise InputError(f"options must be a mapping of option names to values, not {type(value).__name__}")
        try:
            options = cls.model_validate(dict(value))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "options"
            if first["type"] == "extra_forbidden":
                raise InputError(f"unknown request option {field!r}; known: {', '.join(cls.model_fields)}") from None
            raise InputError(f"request option {field!r}: {first['msg']}") from None
        if options.tool_choice is not None and isinstance(options.tool_choice, dict):
            name = (options.tool_choice.get("function") or {}).get("name") or options.tool_choice.get("name")
            if not isinstance(name, str) or not name:
                raise InputError("request option 'tool_choice': an object must name a function "
                                 "({'type': 'function', 'function': {'name': ...}})")
        if options.response_format is not None and options.response_format.get("type") not in (
                "text", "json_object", "json_schema"):
            raise InputError("request option 'response_format': 'type' must be text, json_object or json_schema")
        return options if options.names() else None

    def __bool__(self) -> bool:
        return bool(self.names())

    def names(self) -> list[str]:
        """The options that are set (what the run log records)."""
        return sorted(self.model_dump(exclude_none=True))

    def provider_options(self) -> dict[str, Any]:
        """Everything but ``temperature`` (its own request field), for ``CompletionRequest.options``."""
        return self.model_dump(exclude_none=True, exclude={"temperature"})
