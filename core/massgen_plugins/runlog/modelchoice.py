"""Which model runs ``logs analyze``'s LLM self-analysis, and is it usable?

Precedence: ``--model`` on the command line, then ``MASSGEN_LOG_ANALYSIS_MODEL``, then the
config file ``<MASSGEN_PLUGINS_HOME>/config.toml``::

    [logs]
    analysis_model = "anthropic/claude-haiku-4-5"

(or ``config.yaml``/``config.yml`` with ``logs: {analysis_model: ...}``). Without any of them the
deterministic report is produced alone.

:func:`validate_model` checks, in order, each with a message that names the fix (exit code 2):
the ``provider/model`` format, that a plugin for the provider is installed, that the model
is known to the registry (cache + bundled snapshot, then the provider's live list when a key
is set), and that the provider's API key is present.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import InputError, MissingCredentialsError, UnknownModelError

__all__ = ["ENV_VAR", "config_paths", "configured_model", "validate_model"]

ENV_VAR = "MASSGEN_LOG_ANALYSIS_MODEL"


def config_paths() -> list[Path]:
    """Config files consulted, in order (the first that exists is used)."""
    from ..paths import home

    root = home()
    return [root / "config.toml", root / "config.yaml", root / "config.yml"]


def _read_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        if path.suffix == ".toml":
            try:
                import tomllib  # type: ignore[import-not-found]
            except ModuleNotFoundError:  # Python 3.10
                import tomli as tomllib  # type: ignore[no-redef]
            data = tomllib.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text) or {}
    except ModuleNotFoundError:
        raise InputError(f"cannot read {path}: TOML needs Python 3.11+ or `pip install tomli`; "
                         "use config.yaml instead") from None
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"config file {path} is not valid {path.suffix[1:].upper()}: {first}") from None
    if not isinstance(data, dict):
        raise InputError(f"config file {path} must contain a table/mapping at the top level")
    return data


def configured_model() -> tuple[str | None, str]:
    """``(model or None, where it came from)`` from the environment or the config file."""
    value = os.environ.get(ENV_VAR, "").strip()
    if value:
        return value, f"${ENV_VAR}"
    for path in config_paths():
        if not path.exists():
            continue
        data = _read_config(path)
        logs = data.get("logs")
        if logs is not None and not isinstance(logs, dict):
            raise InputError(f"config file {path}: 'logs' must be a table with analysis_model = \"provider/model\"")
        model = (logs or {}).get("analysis_model")
        if model is not None and not isinstance(model, str):
            raise InputError(f"config file {path}: logs.analysis_model must be a string like \"openai/gpt-4o-mini\"")
        if model and model.strip():
            return model.strip(), str(path)
        return None, str(path)
    return None, "none"


def _registry_lookup(model: str, *, offline: bool) -> tuple[bool | None, str]:
    """``(True, "")`` when the registry knows ``model``; ``(False, its message)`` when it says it
    does not; ``(None, why)`` when it could not tell (registry missing or failing)."""
    try:
        from ..registry import get_model_info
    except Exception as exc:
        return None, str(exc)
    try:
        get_model_info(model, offline=offline)
    except UnknownModelError as exc:
        return False, str(exc)
    except InputError:
        raise
    except Exception as exc:
        from ..redact import redact

        return None, redact(str(exc))
    return True, ""


def _known_offline_fallback(model: str) -> bool:
    from .pricing import model_facts

    return bool(model_facts(model))


def _known_live_fallback(provider: str, model_id: str, settings: Any) -> bool | None:
    """True/False from the provider's live model list; None when it could not be fetched."""
    from ..manager import get_hooks

    try:
        listed = get_hooks().list_models(provider, settings)
    except Exception:
        return None
    if listed.value is None:
        return None
    return any(m.id == model_id for m in listed.value)


def validate_model(value: str, *, source: str = "--model") -> str:
    """Check that ``value`` can run a self-analysis; return the normalized ``provider/model``.

    :raises ModelStringError, UnknownProviderError, UnknownModelError, MissingCredentialsError:
        all :class:`~massgen_plugins.errors.InputError` (exit code 2), each naming the fix.
    """
    from ..providers import resolve_model, resolve_settings

    where = "" if source == "--model" else f" (from {source})"
    try:
        ref = resolve_model(value)
    except InputError as exc:
        raise type(exc)(f"{exc}{where}") from None
    model = str(ref)
    hint = f"; list the valid ids with `massgen-plugins models --provider {ref.provider}`"
    known, message = _registry_lookup(model, offline=True)
    if known is None:
        known = _known_offline_fallback(model)
    try:
        settings = resolve_settings(ref.provider)
    except MissingCredentialsError as exc:
        if not known:
            detail = message or f"model {ref.model!r} is not in the bundled or cached model list"
            raise UnknownModelError(
                f"{detail}{where}{hint} (set the provider's API key and add --refresh to check its live list)"
            ) from None
        raise MissingCredentialsError(f"{exc} to analyze logs with {model}{where}") from None
    if not known:
        live, live_message = _registry_lookup(model, offline=False)
        if live is None:
            live = _known_live_fallback(ref.provider, ref.model, settings)
            live_message = live_message or f"model {ref.model!r} is not known for provider {ref.provider!r}"
        if not live:
            raise UnknownModelError(f"{live_message or message}{where}{hint}")
    return model
