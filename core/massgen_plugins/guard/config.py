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

import json
import sys
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
            return cls.model_validate({**data, "agents": merged})
        except ValidationError as exc:
            raise InputError(f"{source}: {_explain(exc)}") from None


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _explain(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
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
