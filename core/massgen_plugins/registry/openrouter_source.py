"""Third-party model metadata from OpenRouter's public model list (``GET /api/v1/models``).

OpenRouter lists 400+ models of many vendors with ``context_length``,
``top_provider.max_completion_tokens`` and per-token prices -- including OpenAI's and xAI's
models, whose own list endpoints give no window. This module maps those entries onto each
provider's id space:

==========  =====================================================================
provider    OpenRouter ids used
==========  =====================================================================
openai      ``openai/<id>``
anthropic   ``anthropic/<id>`` (``claude-sonnet-4.5`` matches ``claude-sonnet-4-5``)
gemini      ``google/<id>``
xai         ``x-ai/<id>``
groq,       the full id (``openai/gpt-oss-120b``, ``qwen/qwen3-32b``), matched
nebius      case-insensitively against the host's ids
openrouter  none (its own list endpoint already carries all of this)
==========  =====================================================================

The list (every page, when the endpoint answers in the paginated form with ``links.next``) is
fetched at most once per TTL (from ``OPENROUTER_BASE_URL`` or
``https://openrouter.ai/api/v1``; no key needed, sent if ``OPENROUTER_API_KEY`` is set) and
cached under ``<cache>/models/_third-party-openrouter.json``; a failed fetch is not retried for
:data:`RETRY_FAILED_AFTER` seconds and the stale copy is used. Offline, only the cached copy is
read.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Any

from . import config
from .cache import atomic_write_json, models_dir, read_json

if TYPE_CHECKING:
    from ..types import ModelInfo

DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
PREFIXES: dict[str, str | None] = {"openai": "openai/", "anthropic": "anthropic/", "gemini": "google/",
                                   "xai": "x-ai/", "groq": None, "nebius": None}
RETRY_FAILED_AFTER = 900.0
MAX_FETCH_SECONDS = 10.0
MAX_PAGES = 50
SCHEMA = 1
FILE_NAME = "_third-party-openrouter.json"

_lock = threading.Lock()
_fetch_lock = threading.Lock()
_memo: dict[str, tuple[list[dict[str, Any]], float]] = {}


def _path() -> Any:
    from .cache import endpoint_tag

    tag = endpoint_tag("openrouter")  # a catalogue from another endpoint is kept apart
    return models_dir() / (FILE_NAME.replace(".json", f"{tag}.json") if tag else FILE_NAME)


def _read_cached() -> dict[str, Any] | None:
    data = read_json(_path())
    if isinstance(data, dict) and data.get("schema") == SCHEMA and isinstance(data.get("models"), list):
        return data
    return None


def _fetch() -> list[dict[str, Any]]:
    import httpx

    base = (os.environ.get("OPENROUTER_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    headers = {"accept": "application/json"}
    key = os.environ.get("OPENROUTER_API_KEY")
    if key:
        headers["authorization"] = f"Bearer {key}"
    limit = min(config.timeout(), MAX_FETCH_SECONDS)
    keep = ("id", "name", "context_length", "top_provider", "pricing", "architecture", "created")
    out: list[dict[str, Any]] = []
    url: str | None = f"{base}/models"
    seen: set[str] = set()
    with httpx.Client(headers=headers, timeout=limit) as client:
        while url is not None and url not in seen and len(seen) < MAX_PAGES:
            seen.add(url)
            response = client.get(url)
            response.raise_for_status()
            payload = response.json()
            data = payload.get("data") if isinstance(payload, dict) else None
            if not isinstance(data, list):
                raise ValueError("OpenRouter /models answered without a 'data' list")
            out.extend({k: item.get(k) for k in keep if k in item} for item in data
                       if isinstance(item, dict) and isinstance(item.get("id"), str))
            url = _next_page(base, payload)
    return out


def _next_page(base: str, payload: dict[str, Any]) -> str | None:
    """The next page of the paginated form (``links.next``, absolute or relative to the host)."""
    links = payload.get("links")
    target = links.get("next") if isinstance(links, dict) else None
    if not isinstance(target, str) or not target:
        return None
    if target.startswith(("http://", "https://")):
        return target
    from urllib.parse import urljoin, urlsplit

    if target.startswith("/"):
        # "/api/v1/models?offset=500" is relative to the host; keep a proxy's path prefix
        # (OPENROUTER_BASE_URL=http://proxy/openrouter/api/v1) in front of it
        parts = urlsplit(base)
        path = parts.path.rstrip("/")
        for i, char in enumerate(path):
            if char == "/" and target.startswith(path[i:] + "/"):
                return f"{parts.scheme}://{parts.netloc}{path[:i]}{target}"
    return urljoin(base + "/", target)


def catalogue(offline: bool) -> list[dict[str, Any]]:
    """OpenRouter's model entries (reduced to the fields used), from memory, disk or the network.

    Offline it only reads the disk copy and never waits for a fetch in progress.
    """
    if offline:
        cached = _read_cached()
        return cached["models"] if cached else []
    key = str(_path())
    ttl = config.ttl()
    with _lock:
        memo = _memo.get(key)
        if memo is not None and time.time() - memo[1] < ttl:
            return memo[0]
    with _fetch_lock:  # one network fetch at a time; the others then find it in memory
        with _lock:
            memo = _memo.get(key)
            if memo is not None and time.time() - memo[1] < ttl:
                return memo[0]
        cached = _read_cached()
        models = cached["models"] if cached else []
        fetched_at = float(cached.get("fetched_at") or 0) if cached else 0.0
        failed_at = float(cached.get("failed_at") or 0) if cached else 0.0
        now = time.time()
        if (models and now - fetched_at < ttl) or now - failed_at < RETRY_FAILED_AFTER:
            if models and now - fetched_at < ttl:
                with _lock:
                    _memo[key] = (models, fetched_at)
            return models
        try:
            fresh = _fetch()
        except Exception as exc:
            atomic_write_json(_path(), {"schema": SCHEMA, "fetched_at": fetched_at, "failed_at": now,
                                        "error": f"{type(exc).__name__}: {exc}"[:300], "models": models})
            raise
        if fresh and len(fresh) >= len(models) * 0.5:
            models = fresh
            atomic_write_json(_path(), {"schema": SCHEMA, "fetched_at": now, "models": models})
        with _lock:
            _memo[key] = (models, now)
        return models


def _per_mtok(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return round(number * 1_000_000, 6) if number >= 0 else None


def _kind(architecture: Any) -> str | None:
    if not isinstance(architecture, dict):
        return None
    outputs = architecture.get("output_modalities")
    if isinstance(outputs, list) and outputs:
        if "text" in outputs:
            return "chat"
        if "image" in outputs:
            return "image"
        if "audio" in outputs:
            return "tts"
        if "embeddings" in outputs or "embedding" in outputs:
            return "embedding"
    modality = architecture.get("modality")
    if isinstance(modality, str) and "->" in modality:
        return "chat" if "text" in modality.split("->", 1)[1] else None
    return None


def to_model_info(provider: str, model_id: str, item: dict[str, Any]) -> ModelInfo:
    """One OpenRouter entry as third-party :class:`ModelInfo` for ``provider``."""
    from ..types import ModelInfo

    top = _v if isinstance(_v := item.get("top_provider"), dict) else {}
    pricing = _v if isinstance(_v := item.get("pricing"), dict) else {}
    values: dict[str, Any] = {
        "display_name": item.get("name"),
        "context_window": item.get("context_length") or top.get("context_length"),
        "max_output_tokens": top.get("max_completion_tokens"),
        "input_price_per_mtok": _per_mtok(pricing.get("prompt")),
        "output_price_per_mtok": _per_mtok(pricing.get("completion")),
        "kind": _kind(item.get("architecture")),
    }
    values = {k: v for k, v in values.items() if v is not None}
    for field in ("context_window", "max_output_tokens"):
        if field in values and not (isinstance(values[field], int) and values[field] > 0):
            values.pop(field)
    return ModelInfo(provider=provider, id=model_id, **values,
                     provenance={k: "third-party" for k in values})


def metadata_for(provider: str, offline: bool) -> list[ModelInfo] | None:
    """Third-party metadata for ``provider``, or ``None`` when OpenRouter does not cover it."""
    if provider not in PREFIXES:
        return None
    prefix = PREFIXES[provider]
    out = []
    for item in catalogue(offline):
        rid = item.get("id", "")
        if prefix is None:
            out.append(to_model_info(provider, rid, item))
        elif rid.startswith(prefix):
            model_id = rid[len(prefix):].split(":", 1)[0]  # drop variants such as ':free'
            if ":" not in rid:
                out.append(to_model_info(provider, model_id, item))
    return out or None


def clear_memo() -> None:
    """Forget the in-process copy (tests)."""
    with _lock:
        _memo.clear()
