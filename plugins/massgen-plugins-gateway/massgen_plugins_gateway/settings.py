"""The gateway's configuration: the ``[gateway]`` table of ``<MASSGEN_PLUGINS_HOME>/config.toml``.

.. code-block:: toml

    [gateway]
    strategy = "balanced"            # compression strategy for every route (default)
    chat_provider = "openai"         # provider of bare model names on /v1/chat/completions
    messages_provider = "anthropic"  # provider of bare model names on /v1/messages

    [gateway.aliases]
    fast = "openai/gpt-4o-mini"
    claude-sonnet-4-5 = "anthropic/claude-haiku-4-5"   # what Claude Code asks for → what it gets

    [gateway.models."openai/gpt-4o-mini"]   # per model string or per alias
    fallbacks = ["anthropic/claude-haiku-4-5"]
    context_window = 128000
    strategy = "aggressive"
    retry = { max_attempts = 3 }

A route is what a request's ``model`` resolves to: the alias (if any), the target
``provider/model`` and the guard settings for it. Errors name the file and the field.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from massgen_plugins.errors import InputError
from massgen_plugins.guard import AgentConfig, RetryPolicy
from massgen_plugins.modelref import parse_model
from pydantic import BaseModel, ConfigDict, Field, ValidationError

ROUTE_FIELDS = ("fallbacks", "strategy", "context_window", "reserve_output", "trigger_ratio", "summarizer_model",
                "retry", "max_compressions_per_turn", "proactive")


class RouteSettings(BaseModel):
    """Guard settings of one model or alias (any subset of a session's settings)."""

    model_config = ConfigDict(extra="forbid")

    fallbacks: list[str] | None = None
    strategy: str | dict[str, Any] | None = None
    context_window: int | None = Field(default=None, ge=1)
    reserve_output: int | None = Field(default=None, ge=1)
    trigger_ratio: float | None = Field(default=None, gt=0, le=1)
    summarizer_model: str | None = None
    retry: RetryPolicy | None = None
    max_compressions_per_turn: int | None = Field(default=None, ge=0, le=20)
    proactive: bool | None = None


class GatewaySettings(BaseModel):
    """The ``[gateway]`` table."""

    model_config = ConfigDict(extra="forbid")

    strategy: str | dict[str, Any] = "balanced"
    chat_provider: str = "openai"
    messages_provider: str = "anthropic"
    aliases: dict[str, str] = Field(default_factory=dict)
    models: dict[str, RouteSettings] = Field(default_factory=dict)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    prefix_cache_entries: int = Field(default=512, ge=0, description="Compressed prefixes kept per process.")

    def resolve(self, requested: str, *, api: str) -> Route:
        """The route for a request's ``model``: an alias, ``provider/model``, or a bare model name
        (given the API's default provider).

        :raises InputError: for an empty or malformed model string.
        """
        name = (requested or "").strip()
        if not name:
            raise InputError("the request has no 'model'; send provider/model (e.g. openai/gpt-4o-mini) or an alias")
        target = self.aliases.get(name)
        if target is None:
            if "/" in name:
                target = name
            else:
                target = f"{self.chat_provider if api == 'openai' else self.messages_provider}/{name}"
        target = str(parse_model(target))
        settings: dict[str, Any] = {"strategy": self.strategy, "retry": self.retry}
        for key in (target, name):  # the alias's own settings win over its target's
            route = self.models.get(key)
            if route is not None:
                settings.update(route.model_dump(exclude_none=True))
        return Route(requested=name, model=target, settings=settings)


class Route(BaseModel):
    """A resolved request target."""

    requested: str
    model: str
    settings: dict[str, Any]

    def agent_config(self, **extra: Any) -> AgentConfig:
        return AgentConfig.model_validate({"model": self.model, **self.settings, **extra})


def load_settings(path: Path | None = None) -> GatewaySettings:
    """Read ``[gateway]`` from ``path`` (default: the home's ``config.toml``); defaults when absent.

    :raises InputError: naming the file and the field that is wrong.
    """
    from massgen_plugins.paths import home

    file = path or home() / "config.toml"
    if not file.exists():
        return GatewaySettings()
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except Exception as exc:
        raise InputError(f"config file {file} is not valid TOML: {str(exc).splitlines()[0]}") from None
    table = data.get("gateway") or {}
    if not isinstance(table, dict):
        raise InputError(f"config file {file}: 'gateway' must be a table ([gateway])")
    try:
        settings = GatewaySettings.model_validate(table)
        for target in settings.aliases.values():
            parse_model(target)
        for key, route in settings.models.items():
            for fallback in route.fallbacks or []:
                parse_model(fallback)
            if key not in settings.aliases:
                parse_model(key)
    except ValidationError as exc:
        problems = "; ".join(f"gateway.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise InputError(f"config file {file}: {problems}") from None
    except InputError as exc:
        raise InputError(f"config file {file}: [gateway]: {exc}") from None
    return settings
