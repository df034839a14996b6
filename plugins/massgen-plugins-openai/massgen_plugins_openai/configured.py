"""Providers declared in ``config.toml`` (``kind = "openai-compatible"``), served by this plugin.

:mod:`massgen_plugins.configured` reads and validates the ``[providers.NAME]`` tables; here each
becomes a :class:`~massgen_plugins_openai.compat.CompatProvider`, so calls, streaming and error
classification go through the same code as xAI or Nebius. What is specific is the model listing:
self-hosted servers state windows in their own fields --

* vLLM: ``max_model_len`` on ``GET /v1/models``;
* LM Studio (``/api/v0``), Together, Fireworks, DeepSeek-style gateways: ``context_length``,
  ``context_window``, ``loaded_context_length`` / ``max_context_length``;
* Ollama: none on ``/v1/models``; the native ``POST /api/show`` gives ``num_ctx`` (the window the
  server runs the model with) in ``parameters`` and the trained ``<family>.context_length`` in
  ``model_info`` --

and the ``context_window`` / ``max_output_tokens`` of the config table fill what the server does
not state.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .compat import CompatProvider

if TYPE_CHECKING:
    from massgen_plugins.configured import ConfiguredProvider
    from massgen_plugins.types import ModelInfo, ProviderSettings

#: window fields an OpenAI-compatible ``/models`` entry may carry, best first
WINDOW_FIELDS = ("max_model_len", "loaded_context_length", "context_length", "context_window", "max_context_length")
_NUM_CTX = re.compile(r"^\s*num_ctx\s+(\d+)\s*$", re.M)


def declared() -> list[CompatProvider]:
    """Every valid configured endpoint (none while the config file is invalid)."""
    from massgen_plugins import configured
    from massgen_plugins.errors import InputError

    try:
        return [_compat(provider) for provider in configured.load().values()]
    except InputError:
        return []


def compat_for(name: str | None) -> CompatProvider | None:
    """The :class:`CompatProvider` of configured provider ``name``, or ``None``."""
    if not name:
        return None
    from massgen_plugins import configured

    found = configured.get(name)
    return _compat(found) if found is not None else None


@lru_cache(maxsize=64)
def _compat(provider: ConfiguredProvider) -> CompatProvider:
    return CompatProvider(
        name=provider.name, display_name=provider.display_name or provider.name,
        api_key_env=(provider.api_key_env,) if provider.api_key_env else (), base_url_env=provider.base_url_env,
        default_base_url=provider.base_url, tokenizer="estimate", token_margin=0.10,
        capabilities=("stream", "tools", "configured"), max_tokens_field="max_tokens",
        requires_key=provider.api_key_env is not None,
    )


def window_of(data: dict[str, Any]) -> int | None:
    """The context window an OpenAI-compatible ``/models`` entry states, if any."""
    from .listing import as_int

    for key in WINDOW_FIELDS:
        value = as_int(data.get(key))
        if value is not None:
            return value
    return None


def ollama_window(base_url: str, model_id: str, headers: dict[str, str], timeout: float) -> int | None:
    """Ollama's window for ``model_id`` from ``POST <server>/api/show``: ``num_ctx`` when the
    model runs with one, else the trained ``context_length``; ``None`` if the server is not Ollama."""
    import httpx

    root = re.sub(r"/v1/?$", "", base_url.rstrip("/"))
    try:
        response = httpx.post(f"{root}/api/show", json={"model": model_id}, headers=headers, timeout=timeout)
        if response.status_code != 200:
            return None
        data = response.json()
    except (httpx.HTTPError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    found = _NUM_CTX.search(str(data.get("parameters") or ""))
    if found:
        return int(found.group(1))
    info = _v if isinstance(_v := data.get("model_info"), dict) else {}
    for key, value in info.items():
        if str(key).endswith(".context_length") and isinstance(value, int) and value > 0:
            return value
    return None


def list_models(provider: CompatProvider, settings: ProviderSettings) -> list[ModelInfo]:
    """``GET /models`` of a configured endpoint, with the windows the server states."""
    from massgen_plugins import configured
    from massgen_plugins.types import ModelInfo

    from .compat import sync_client
    from .listing import as_int, extras, kind_from_id

    table = configured.get(provider.name)
    base_url = settings.base_url or provider.default_base_url
    key = settings.key()
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with sync_client(provider, settings) as client:
        models = list(client.models.list())
    out: list[ModelInfo] = []
    for model in models:
        data = extras(model)
        provenance = {"id": "api", "kind": "inferred:id"}
        window = window_of(data)
        if window is not None:
            provenance["context_window"] = "api"
        else:
            window = ollama_window(base_url, model.id, headers, min(settings.timeout, 10.0))
            if window is not None:
                provenance["context_window"] = "api:ollama-show"
            elif table is not None and table.context_window is not None:
                window, provenance["context_window"] = table.context_window, "config"
        output = as_int(data.get("max_output_tokens") or data.get("max_completion_tokens"))
        if output is not None:
            provenance["max_output_tokens"] = "api"
        elif table is not None and table.max_output_tokens is not None:
            output, provenance["max_output_tokens"] = table.max_output_tokens, "config"
        kind = kind_from_id(model.id)
        out.append(ModelInfo(
            provider=provider.name, id=model.id, created=as_int(data.get("created")), kind=kind, chat=kind == "chat",
            context_window=window, max_output_tokens=output, tokenizer="estimate", provenance=provenance,
            owned_by=data.get("owned_by"),
        ))
    return out
