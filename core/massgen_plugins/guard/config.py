"""Configuration of guarded sessions and teams, from Python or a YAML/TOML file.

A file has team-wide settings, ``defaults`` applied to every agent, and per-agent overrides::

    team: research
    memory: sqlite:///runs/memory.db
    defaults:
      strategy: balanced
      retry: {max_attempts: 4}
    agents:
      planner:
        model: anthropic/claude-haiku-4-5
        fallbacks: [openai/gpt-4o-mini]
      coder:
        model: openai/gpt-4o-mini
        strategy: {name: aggressive, keep_recent_tokens: 2000}

Validation errors name the file, the field path and what is wrong (exit code 2 on the CLI).
"""

from __future__ import annotations

import difflib
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import InputError
from ..modelref import parse_model
from .retry import RetryPolicy


class AgentConfig(BaseModel):
    """Everything one guarded session needs besides its conversation."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(description="Primary model, 'provider/model'.")
    fallbacks: list[str] = Field(default_factory=list, description="Tried in order when the primary fails.")
    strategy: str | dict[str, Any] = Field(
        default="balanced", description="Compression strategy name, or {name: ..., overrides...}."
    )
    system: str | None = Field(default=None, description="System prompt.")
    tools: list[dict[str, Any]] = Field(default_factory=list, description="OpenAI-format tool schemas.")
    context_window: int | None = Field(
        default=None, ge=1, description="Override the registry's window for the primary model."
    )
    max_compressions_per_turn: int = Field(default=3, ge=0, le=20)
    reserve_output: int | None = Field(default=None, ge=1, description="Tokens kept free for the reply.")
    proactive: bool = Field(default=True, description="Count before each call and compress ahead of the window.")
    trigger_ratio: float = Field(default=0.9, gt=0, le=1, description="Compress proactively above this share.")
    summarizer_model: str | None = Field(default=None, description="Model for summaries; default: own model.")
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    user: str | None = Field(default=None, description="User scope for long-term memory.")
    memory_tokens: int = Field(default=0, ge=0, description="Budget for long-term memories injected at start.")
    recall_tool: bool = Field(default=False, description="Offer the model `recall(query)` and `expand(gist_id)` "
                              "tools over the archive.")
    provider_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Provider-specific request options sent with every call (e.g. Anthropic's "
        "{'thinking': {'type': 'enabled', 'budget_tokens': 2048}}).",
    )

    @field_validator("model", "summarizer_model")
    @classmethod
    def _model_string(cls, value: str | None) -> str | None:
        return None if value is None else str(parse_model(value))

    @field_validator("fallbacks")
    @classmethod
    def _fallback_strings(cls, values: list[str]) -> list[str]:
        return [str(parse_model(v)) for v in values]

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, value: str | dict[str, Any]) -> str | dict[str, Any]:
        check_strategy(value)
        return value

    @classmethod
    def from_arguments(cls, config: AgentConfig | None = None, *, where: str = "Session()",
                       **arguments: Any) -> AgentConfig:
        """``config`` with keyword ``arguments`` (``model``, ``fallbacks``, ...) on top, validated.

        :raises InputError: naming the argument, for an unknown keyword (with the closest
            known one), a malformed model string, an unknown provider or strategy, a bad value.
        """
        unknown = [k for k in arguments if k not in cls.model_fields]
        if unknown:
            raise InputError("; ".join(f"{where} got an unknown keyword argument {k!r}"
                                       f"{did_you_mean(k, cls.model_fields)}" for k in unknown))
        data = config.model_dump() if config is not None else {}
        data.update({k: v for k, v in arguments.items() if not (k == "model" and v is None)})
        try:
            agent = cls.model_validate(data)
        except ValidationError as exc:
            raise InputError(f"{where}: {explain(exc)}") from None
        agent.check_providers(where)
        return agent

    def check_providers(self, where: str) -> None:
        """Every model string names an installed provider (``where`` prefixes the error)."""
        from ..errors import UnknownProviderError
        from ..providers import installed_providers

        installed = list(installed_providers())
        fields = [("model", self.model), ("summarizer_model", self.summarizer_model)]
        fields += [(f"fallbacks[{i}]", f) for i, f in enumerate(self.fallbacks)]
        for name, value in fields:
            if value is None:
                continue
            try:
                parse_model(value, installed=installed)
            except UnknownProviderError as exc:
                provider = value.split("/", 1)[0]
                raise InputError(f"{where}: {name}: {exc}{did_you_mean(provider, installed)}") from None


class TeamConfig(BaseModel):
    """A team of agents sharing one memory store and one team scope."""

    model_config = ConfigDict(extra="forbid")

    team: str | None = Field(default=None, description="Team id (shared long-term memory scope).")
    memory: str | None = Field(default=None, description="Memory store URL; default: SQLite under the home.")
    run_dir: str | None = Field(default=None, description="Run log directory; default: under the home.")
    defaults: dict[str, Any] = Field(default_factory=dict, description="Settings every agent inherits.")
    agents: dict[str, AgentConfig]

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, source: str = "configuration") -> TeamConfig:
        """Validate ``data``, merging ``defaults`` under each agent; errors name ``source``."""
        if not isinstance(data, dict):
            raise InputError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
        defaults = data.get("defaults") or {}
        agents = data.get("agents")
        if not isinstance(agents, dict) or not agents:
            raise InputError(f"{source}: 'agents' must map agent names to their settings (at least one agent)")
        merged = {name: _deep_merge(defaults, spec or {}) for name, spec in agents.items()}
        try:
            config = cls.model_validate({**data, "agents": merged})
        except ValidationError as exc:
            raise InputError(f"{source}: {explain(exc)}") from None
        for name, agent in config.agents.items():
            agent.check_providers(f"{source}: agents.{name}")
        return config


def check_api_keys(api_keys: Any, where: str) -> dict[str, str]:
    """``{provider: key}`` checked (installed providers, non-empty strings) and remembered for
    redaction; the error never shows a key."""
    from ..providers import installed_providers
    from ..redact import remember_secret

    if api_keys is None:
        return {}
    if not isinstance(api_keys, dict):
        raise InputError(f"{where}: api_keys must map provider names to keys, not {type(api_keys).__name__}")
    installed = list(installed_providers())
    for provider, key in api_keys.items():
        if provider not in installed:
            raise InputError(f"{where}: api_keys: unknown provider {provider!r}{did_you_mean(str(provider), installed)} "
                             f"(installed: {', '.join(sorted(installed))})")
        if not isinstance(key, str) or not key.strip():
            raise InputError(f"{where}: api_keys[{provider!r}] must be a non-empty string")
        remember_secret(key)
    return dict(api_keys)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices``, or ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_strategy(value: Any) -> None:
    """Raise :class:`InputError` (with a "did you mean") unless ``value`` is a valid strategy:
    a preset name or ``{name: preset, option: value, ...}``."""
    from ..compression.strategy import PRESETS, Strategy, resolve_strategy

    name = value if isinstance(value, str) else value.get("name", "balanced") if isinstance(value, dict) else None
    if isinstance(name, str) and name not in PRESETS:
        raise InputError(f"unknown strategy {name!r}{did_you_mean(name, PRESETS)} (choose one of: {', '.join(PRESETS)})")
    if isinstance(value, dict):
        for key in value:
            if key != "name" and key not in Strategy.model_fields:
                raise InputError(f"unknown strategy option {key!r}{did_you_mean(key, Strategy.model_fields)} "
                                 f"(known: {', '.join(Strategy.model_fields)})")
    resolve_strategy(value)


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def explain(exc: ValidationError) -> str:
    """A pydantic error as ``field.path: what is wrong`` (one clause per problem)."""
    known = {*AgentConfig.model_fields, *TeamConfig.model_fields, *RetryPolicy.model_fields}
    problems = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden" and error["loc"]:
            message = f"{message}: unknown setting{did_you_mean(str(error['loc'][-1]), known)}"
        problems.append(f"{where}: {message}")
    return "; ".join(problems)


def load_config(path: str | Path) -> TeamConfig:
    """Read a team configuration from a ``.yaml``/``.yml``, ``.toml`` or ``.json`` file."""
    file = Path(path)
    if not file.is_file():
        raise InputError(f"configuration file {str(file)!r} does not exist")
    text = file.read_text(encoding="utf-8")
    suffix = file.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        elif suffix == ".toml":
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover
                import tomli as tomllib
            data = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise InputError(f"{file}: unsupported configuration format {suffix!r}; use .yaml, .toml or .json")
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{file}: not valid {suffix.lstrip('.').upper()}: {' '.join(str(exc).split())}") from None
    return TeamConfig.from_mapping(data, source=str(file))
