"""Providers declared in the config file: any OpenAI-compatible endpoint, no code.

``<MASSGEN_PLUGINS_HOME>/config.toml`` (or ``config.yaml``)::

    [providers.localvllm]
    kind = "openai-compatible"
    base_url = "http://127.0.0.1:8000/v1"
    api_key_env = "LOCALVLLM_API_KEY"   # optional: local servers usually take no key
    display_name = "vLLM on the GPU box"  # optional
    context_window = 32768               # optional: used when the server states no window
    max_output_tokens = 4096             # optional

Each becomes a provider like any built-in one (``localvllm/<model id>`` in a ``Session``, in
fallbacks, in ``massgen-plugins models --provider localvllm``): the ``massgen-plugins-openai``
plugin serves it through the official ``openai`` SDK, and the window of each model comes from
what the server reports (vLLM's ``max_model_len``, ``context_length``/``context_window`` fields,
Ollama's ``/api/show``). ``<NAME>_BASE_URL`` overrides ``base_url`` as for built-in providers.

A mistake in the file is an :class:`~massgen_plugins.errors.InputError` that names the file and
the field, raised when the provider is used (and by ``massgen-plugins models``); providers that
are valid keep working.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError

KINDS = ("openai-compatible",)
FIELDS = ("kind", "base_url", "api_key_env", "display_name", "context_window", "max_output_tokens")
#: Names of the providers bundled with massgen-plugins: a configured provider cannot take them.
BUNDLED = frozenset({"openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter"})
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ConfiguredProvider:
    """One ``[providers.NAME]`` table, validated."""

    name: str
    kind: str
    base_url: str
    source: str
    api_key_env: str | None = None
    display_name: str | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None

    @property
    def base_url_env(self) -> str:
        """``<NAME>_BASE_URL`` (non-alphanumerics as ``_``), the endpoint override."""
        return re.sub(r"[^A-Za-z0-9]", "_", self.name).upper() + "_BASE_URL"


_cache: dict[str, tuple[tuple[int, int], dict[str, ConfiguredProvider]]] = {}


def config_file() -> Path | None:
    """The config file in use: the first of ``config.toml``, ``config.yaml``, ``config.yml`` that exists."""
    from .runlog.modelchoice import config_paths

    return next((path for path in config_paths() if path.exists()), None)


def load(path: Path | None = None) -> dict[str, ConfiguredProvider]:
    """Every configured provider by name (``{}`` without a config file).

    :raises InputError: when the file or a ``[providers.*]`` table is invalid; the message names
        the file and the field and says what is accepted.
    """
    path = path if path is not None else config_file()
    if path is None:
        return {}
    try:
        stat = path.stat()
    except OSError:
        return {}
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(str(path))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    from .runlog.modelchoice import _read_config

    data = _read_config(path)
    providers = _parse(data.get("providers"), str(path))
    _cache[str(path)] = (stamp, providers)
    return providers


def problem(name: str | None = None) -> InputError | None:
    """The configuration error, if the config file has one (else ``None``); with ``name``, only
    when the file declares ``[providers.NAME]`` or cannot be read at all."""
    try:
        load()
    except InputError as exc:
        return exc if name is None or _mentions(name) else None
    return None


def _mentions(name: str) -> bool:
    from .runlog.modelchoice import _read_config

    path = config_file()
    if path is None:
        return False
    try:
        data = _read_config(path)
    except InputError:
        return True
    section = data.get("providers")
    return isinstance(section, dict) and name in section


def _parse(section: Any, source: str) -> dict[str, ConfiguredProvider]:
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise InputError(f"config file {source}: 'providers' must be a table of [providers.NAME] tables")
    out = {}
    for name, table in section.items():
        out[name] = _provider(str(name), table, source)
    return out


def _provider(name: str, table: Any, source: str) -> ConfiguredProvider:
    where = f"config file {source}: [providers.{name}]"
    if not _NAME.match(name):
        raise InputError(f"{where}: the name must be lower-case letters, digits, '.', '_' or '-' "
                         "(it is the first part of 'NAME/model' strings)")
    if name in BUNDLED:
        raise InputError(f"{where}: {name!r} is a bundled provider; give the endpoint another name "
                         f"(or set {name.upper()}_BASE_URL to point the bundled one elsewhere)")
    if not isinstance(table, dict):
        raise InputError(f"{where} must be a table with kind = \"openai-compatible\" and base_url = \"http://...\"")
    for key in table:
        if key not in FIELDS:
            close = difflib.get_close_matches(str(key), FIELDS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; known fields: {', '.join(FIELDS)}"
            raise InputError(f"{where}: unknown field {key!r}{hint}")
    kind = table.get("kind")
    if kind not in KINDS:
        close = difflib.get_close_matches(str(kind), KINDS, n=1) if isinstance(kind, str) else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        shown = "missing" if kind is None else repr(kind)
        raise InputError(f"{where}: kind is {shown}{hint}; supported: {', '.join(KINDS)}")
    base_url = table.get("base_url")
    if not isinstance(base_url, str) or not re.match(r"^https?://[^\s/]+", base_url.strip()):
        shown = "missing" if base_url is None else repr(base_url)
        raise InputError(f"{where}: base_url is {shown}; it must be an http(s) URL such as "
                         "\"http://127.0.0.1:8000/v1\"")
    api_key_env = table.get("api_key_env")
    if api_key_env is not None and (not isinstance(api_key_env, str) or not _ENV.match(api_key_env)):
        raise InputError(f"{where}: api_key_env must be the NAME of an environment variable (like "
                         f"\"{re.sub(r'[^A-Za-z0-9]', '_', name).upper()}_API_KEY\"), not {api_key_env!r}; "
                         "never put the key itself in the file")
    numbers = {}
    for field in ("context_window", "max_output_tokens"):
        value = table.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise InputError(f"{where}: {field} must be a positive whole number of tokens, not {value!r}")
        numbers[field] = value
    display = table.get("display_name")
    if display is not None and not isinstance(display, str):
        raise InputError(f"{where}: display_name must be a string")
    return ConfiguredProvider(name=name, kind=str(kind), base_url=base_url.strip().rstrip("/"), source=source,
                              api_key_env=api_key_env, display_name=display, **numbers)


def get(name: str) -> ConfiguredProvider | None:
    """The configured provider ``name``, or ``None`` (an invalid config file counts as none)."""
    try:
        return load().get(name)
    except InputError:
        return None
