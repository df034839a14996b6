"""Sampling and output options of a request, between the two wire APIs and the guard.

A request's options are read in its own API's terms (:func:`from_openai`, :func:`from_anthropic`)
into the guard's portable :class:`~massgen_plugins.guard.RequestOptions` (OpenAI names plus
``top_k`` and ``thinking``); the provider plugin turns them into its own API's fields. Options the
target's API has no equivalent for are left out by :func:`for_target` and named in the run log,
rather than sent to a provider that would reject the request.
"""

from __future__ import annotations

from typing import Any

from massgen_plugins.errors import InputError
from massgen_plugins.guard import RequestOptions

#: Chat Completions fields carried as options (the rest of the body is messages, tools, limits)
OPENAI_FIELDS = ("temperature", "top_p", "stop", "seed", "frequency_penalty", "presence_penalty", "tool_choice",
                 "parallel_tool_calls", "response_format", "user", "top_k")

#: Options each target API lacks: left out, with a note in the run log
UNSUPPORTED = {
    "anthropic": frozenset({"seed", "frequency_penalty", "presence_penalty", "response_format", "user"}),
    "openai": frozenset({"top_k", "thinking", "metadata"}),
}


def from_openai(body: dict[str, Any]) -> RequestOptions | None:
    """The options of a Chat Completions body.

    :raises InputError: naming the invalid field.
    """
    return RequestOptions.parse({name: body[name] for name in OPENAI_FIELDS if body.get(name) is not None})


def _anthropic_tool_choice(choice: Any) -> tuple[Any, bool | None]:
    """Anthropic ``tool_choice`` in OpenAI terms, and ``parallel_tool_calls`` (False when
    ``disable_parallel_tool_use`` is set)."""
    if not isinstance(choice, dict) or choice.get("type") not in ("auto", "any", "tool", "none"):
        raise InputError("tool_choice: must be {type: 'auto' | 'any' | 'none'} or {type: 'tool', name: ...}")
    parallel = False if choice.get("disable_parallel_tool_use") else None
    kind = choice["type"]
    if kind == "tool":
        if not isinstance(choice.get("name"), str) or not choice["name"]:
            raise InputError("tool_choice.name: a tool_choice of type 'tool' must name the tool")
        return {"type": "function", "function": {"name": choice["name"]}}, parallel
    return {"any": "required"}.get(kind, kind), parallel


def from_anthropic(body: dict[str, Any]) -> RequestOptions | None:
    """The options of a Messages body, in the portable (OpenAI) terms.

    :raises InputError: naming the invalid field.
    """
    raw: dict[str, Any] = {name: body[name] for name in ("temperature", "top_p", "top_k", "thinking")
                           if body.get(name) is not None}
    if body.get("stop_sequences") is not None:
        raw["stop"] = body["stop_sequences"]
    if body.get("tool_choice") is not None:
        raw["tool_choice"], parallel = _anthropic_tool_choice(body["tool_choice"])
        if parallel is not None:
            raw["parallel_tool_calls"] = parallel
    metadata = body.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict) or any(not isinstance(v, str) for v in metadata.values()):
            raise InputError("metadata: must be an object of strings, e.g. {user_id: ...}")
        raw["metadata"] = metadata
    return RequestOptions.parse(raw)


def for_target(options: RequestOptions | None, provider: str) -> tuple[RequestOptions | None, list[str]]:
    """``options`` for a call to ``provider``: (what is sent, the names left out)."""
    if options is None:
        return None, []
    dialect = "anthropic" if provider == "anthropic" else "openai" if provider == "openai" else ""
    drop = UNSUPPORTED.get(dialect, frozenset())
    update: dict[str, Any] = {}
    if dialect == "anthropic" and options.user and not options.metadata:
        update["metadata"] = {"user_id": options.user}  # the same meaning, Anthropic's field
    if dialect == "openai" and options.metadata and options.metadata.get("user_id") and not options.user:
        update["user"] = options.metadata["user_id"]
    kept = options.model_copy(update=update)
    translated = {"user"} if "metadata" in update else {"metadata"} if "user" in update else set()
    dropped = [name for name in kept.names() if name in drop]
    if dropped:
        kept = kept.model_copy(update=dict.fromkeys(dropped))
    return (kept if kept.names() else None), [name for name in dropped if name not in translated]
