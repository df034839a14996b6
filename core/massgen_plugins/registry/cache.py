"""The on-disk cache of provider model lists: one JSON file per provider.

Layout: ``<MASSGEN_PLUGINS_HOME>/cache/models/<provider>.json``, or
``<provider>@<hash>.json`` when ``<PROVIDER>_BASE_URL`` points the provider at another endpoint
(a proxy, the emulator): a list fetched from an emulator or a proxy never replaces the provider's
own, and a demo or test run leaves the user's cache alone::

    {"schema": 1, "provider": "openai", "fetched_at": 1763683200.0, "plugin": "openai",
     "count": 42, "models": [{...ModelInfo...}, ...]}

Writes are atomic (a temporary file in the same directory, flushed and fsynced, then
``os.replace``), so a reader -- or a second process refreshing at the same moment -- only ever
sees a complete old file or a complete new one; the last writer wins. A file that fails to parse
or validate is treated as absent (and reported), never as an empty list.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..paths import cache_dir

SCHEMA = 1
MIN_KEEP_RATIO = 0.5  # a refresh returning fewer than half the cached models is implausible
MIN_SIZE_FOR_RATIO = 6  # ... checked only when the cache holds at least this many


@dataclass
class CacheEntry:
    """One provider's cached list, as read from disk."""

    provider: str
    fetched_at: float
    models: list[dict[str, Any]]
    plugin: str | None = None
    path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def age(self, now: float | None = None) -> float:
        """Seconds since the list was fetched."""
        return max(0.0, (time.time() if now is None else now) - self.fetched_at)

    def fresh(self, ttl: float, now: float | None = None) -> bool:
        return self.age(now) < ttl


def models_dir() -> Path:
    """Where the per-provider cache files live (not created until the first write)."""
    return cache_dir() / "models"


def endpoint_tag(provider: str) -> str:
    """``""`` for the provider's own endpoint; ``"@<8 hex>"`` of the URL when ``<PROVIDER>_BASE_URL``
    overrides it (read from the environment only, so the warm path needs no plugin host)."""
    url = os.environ.get(re.sub(r"[^A-Za-z0-9]", "_", provider).upper() + "_BASE_URL", "").strip().rstrip("/")
    return "@" + hashlib.sha256(url.encode()).hexdigest()[:8] if url else ""


def cache_path(provider: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in provider)
    return models_dir() / f"{safe}{endpoint_tag(provider)}.json"


def clear(providers: list[str] | None = None) -> list[Path]:
    """Delete cached model lists: every file (lists of every endpoint, third-party catalogues, the
    merged view) or, for ``providers``, their lists of every endpoint. Returns what was removed."""
    directory = models_dir()
    if not directory.is_dir():
        return []
    if providers is None:
        removed = sorted(directory.iterdir())
        shutil.rmtree(directory, ignore_errors=True)
        return removed
    removed = []
    for provider in providers:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in provider)
        for path in (*directory.glob(f"{safe}.json"), *directory.glob(f"{safe}@*.json")):
            path.unlink(missing_ok=True)
            removed.append(path)
    view = directory / "_view.json"
    if removed and view.exists():
        view.unlink(missing_ok=True)
        removed.append(view)
    return removed


def atomic_write_json(path: Path, data: Any, *, indent: int | None = None) -> None:
    """Write ``data`` as JSON to ``path`` atomically (temp file + fsync + ``os.replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if indent is None:
                json.dump(data, handle, separators=(",", ":"), default=str)
            else:
                json.dump(data, handle, indent=indent, default=str)
                handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_json(path: Path) -> Any:
    """Parsed JSON at ``path``, or ``None`` when it is missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def read(provider: str) -> CacheEntry | None:
    """The cached list for ``provider``; ``None`` if there is none or the file is not valid."""
    path = cache_path(provider)
    data = read_json(path)
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or data.get("provider") != provider:
        return None
    models = data.get("models")
    fetched_at = data.get("fetched_at")
    if not isinstance(models, list) or not isinstance(fetched_at, (int, float)):
        return None
    if not all(isinstance(m, dict) and isinstance(m.get("id"), str) for m in models):
        return None
    if data.get("count") != len(models) or not models:
        return None
    return CacheEntry(provider, float(fetched_at), models, data.get("plugin"), path)


def write(provider: str, models: list[dict[str, Any]], *, plugin: str | None = None,
          fetched_at: float | None = None) -> CacheEntry:
    """Store ``models`` (``ModelInfo`` dumps) as ``provider``'s list, atomically."""
    if not models:
        raise ValueError(f"refusing to cache an empty model list for {provider!r}")
    stamp = time.time() if fetched_at is None else fetched_at
    path = cache_path(provider)
    atomic_write_json(path, {"schema": SCHEMA, "provider": provider, "fetched_at": stamp,
                             "plugin": plugin, "count": len(models), "models": models})
    return CacheEntry(provider, stamp, models, plugin, path)


def implausible(new_count: int, old: CacheEntry | None) -> str | None:
    """Why a freshly fetched list of ``new_count`` models must not replace ``old``; ``None`` if it may.

    An empty list is never cached. A list that shrank to under half of a cache of at least
    :data:`MIN_SIZE_FOR_RATIO` models is treated as a broken answer (LiteLLM applies the same
    rule to its cost map); delete the cache file to accept a genuine shrink.
    """
    if new_count == 0:
        return "the provider returned an empty model list"
    if old is not None and len(old.models) >= MIN_SIZE_FOR_RATIO and new_count < len(old.models) * MIN_KEEP_RATIO:
        return (f"the provider returned only {new_count} models where the cache holds "
                f"{len(old.models)} (implausibly small; delete {old.path} to accept it)")
    return None
