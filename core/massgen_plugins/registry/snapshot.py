"""The bundled metadata snapshot: windows, output caps, prices and tokenizers shipped in the core.

The data file is ``massgen_plugins/data/models_snapshot.json`` (part of the wheel)::

    {"schema_version": 1, "generated_at": "YYYY-MM-DD", "generator": "...",
     "providers": {"openai": {"tokenizer": "tiktoken:o200k_base", "window_source": "...",
                              "models": [{"id": "gpt-4o", "context_window": 128000, ...}]}}}

It matters most for providers whose list endpoint gives no window (OpenAI, xAI); for the others
it is the offline fallback. ``massgen-plugins models snapshot`` regenerates it from the live
lists (:func:`build_snapshot`), keeping curated entries the live lists cannot replace.
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..types import ModelInfo

SCHEMA_VERSION = 1
ENTRY_FIELDS = ("id", "display_name", "context_window", "max_output_tokens", "input_price_per_mtok",
                "output_price_per_mtok", "tokenizer", "kind")

_lock = threading.Lock()
_loaded: dict[str, Any] | None = None


def snapshot_path() -> Path:
    """The packaged data file's path."""
    return Path(__file__).resolve().parent.parent / "data" / "models_snapshot.json"


def load_snapshot() -> dict[str, Any]:
    """The bundled snapshot (parsed once per process).

    :raises RuntimeError: if the file is missing or has an unsupported ``schema_version`` -- a
        broken installation, not a user error.
    """
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                path = snapshot_path()
                try:
                    data = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise RuntimeError(f"the bundled model snapshot {path} is unreadable: {exc}; "
                                       "reinstall massgen-plugins") from exc
                if data.get("schema_version") != SCHEMA_VERSION:
                    raise RuntimeError(f"the bundled model snapshot {path} has schema_version "
                                       f"{data.get('schema_version')!r}, expected {SCHEMA_VERSION}")
                _loaded = data
    return _loaded


def snapshot_date() -> str:
    """The snapshot's ``generated_at`` date (``YYYY-MM-DD``)."""
    return str(load_snapshot().get("generated_at", ""))


def snapshot_timestamp() -> float | None:
    """``generated_at`` as a Unix time (midnight UTC), for the age column."""
    try:
        day = _dt.date.fromisoformat(snapshot_date())
    except ValueError:
        return None
    return _dt.datetime(day.year, day.month, day.day, tzinfo=_dt.timezone.utc).timestamp()


def bundled_entries(provider: str) -> list[dict[str, Any]]:
    """The snapshot's raw entries for ``provider`` (each with the provider's default tokenizer
    filled in where the entry has none)."""
    section = load_snapshot().get("providers", {}).get(provider)
    if not section:
        return []
    default_tokenizer = section.get("tokenizer")
    out = []
    for raw in section.get("models", []):
        entry = dict(raw)
        if default_tokenizer and not entry.get("tokenizer"):
            entry["tokenizer"] = default_tokenizer
        out.append(entry)
    return out


def bundled_providers() -> list[str]:
    return sorted(load_snapshot().get("providers", {}))


def _entry(model: ModelInfo) -> dict[str, Any]:
    data = {f: getattr(model, f) for f in ENTRY_FIELDS}
    return {k: v for k, v in data.items() if v is not None}


def build_snapshot(models_by_provider: dict[str, list[ModelInfo]], *, previous: dict[str, Any] | None = None,
                   today: str | None = None) -> dict[str, Any]:
    """A new snapshot from merged live lists.

    For each provider in ``models_by_provider``: every model with a known window, its values as
    merged (API first). Curated entries of ``previous`` for models the live list no longer
    shows are kept (a provider's list depends on the account that fetched it), as are providers
    that were not refreshed.
    """
    previous = previous if previous is not None else load_snapshot()
    providers: dict[str, Any] = {k: dict(v) for k, v in previous.get("providers", {}).items()}
    for provider, models in sorted(models_by_provider.items()):
        section = dict(providers.get(provider, {}))
        default_tokenizer = section.get("tokenizer")
        old = {e["id"]: e for e in section.get("models", [])}
        fresh: dict[str, dict[str, Any]] = {}
        for model in models:
            if model.context_window is None and model.id not in old:
                continue
            entry = {**old.get(model.id, {}), **_entry(model)}
            if entry.get("tokenizer") == default_tokenizer:
                entry.pop("tokenizer", None)
            if entry.get("kind") == "chat":
                entry.pop("kind", None)
            fresh[model.id] = entry
        for model_id, entry in old.items():
            fresh.setdefault(model_id, entry)
        section["models"] = sorted(fresh.values(), key=lambda e: e["id"])
        providers[provider] = section
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": today or _dt.datetime.now(_dt.timezone.utc).date().isoformat(),
        "generator": "massgen-plugins models snapshot (live provider lists merged with the previous snapshot)",
        "units": previous.get("units", {}),
        "providers": providers,
    }
