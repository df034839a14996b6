"""The warm path: a ready-to-print copy of the merged catalogue, read without pydantic or plugins.

Building the catalogue needs the plugin host, pydantic and every metadata source; on a warm
cache that work gives the same answer every time. After each build, :func:`save` stores the
merged, unfiltered models of every provider whose list was fresh and clean, keyed by everything
the merge depended on:

* the installed plugins (entry-point names, targets and versions, the core version, the
  built-in plugin list and the selection variables),
* each provider's cache file (modification time and size) and its ``fetched_at``,
* the bundled snapshot and the third-party cache files (modification time and size), and
  when the third-party catalogues were last fetched or tried.

:func:`lookup` answers only when every key still matches and every list is within the TTL;
otherwise the caller builds the catalogue normally (and saves a new view). The answer is the
same a full build would give from the same cache (``source='cache'``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from .cache import atomic_write_json, cache_path, models_dir, read_json

SCHEMA = 1
FILE_NAME = "_view.json"
_SELECTION_ENV = ("MASSGEN_PLUGINS_LOAD", "MASSGEN_PLUGINS_DISABLED", "MASSGEN_PLUGINS_STRICT")


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


def plugins_fingerprint() -> list[Any]:
    """What decides which plugins (hence providers and metadata sources) are loaded: the core
    version, the built-in plugin list, the selection variables, and every installed
    distribution that declares entry points (its ``*.dist-info`` name carries the version; the
    ``entry_points.txt`` modification time catches an editable reinstall). Directory listings
    and ``stat`` calls only: no metadata parsing, so the warm path stays cheap."""
    import sys

    from .._version import __version__
    from ..default_plugins import DEFAULT_PLUGINS

    dists = []
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                stamp = _stat(Path(entry or ".") / name / "entry_points.txt")
                if stamp is not None:
                    dists.append([entry, name, stamp[0]])
    return [__version__, list(DEFAULT_PLUGINS), sorted(dists),
            [os.environ.get(name) for name in _SELECTION_ENV]]


def cached_report(provider: str, fetched_at: float, count: int) -> dict[str, Any]:
    """The report of a provider served from a fresh cache (same keys as
    :class:`~.catalog.ProviderReport`)."""
    return {"provider": provider, "source": "cache", "count": count, "fetched_at": fetched_at, "stale": False,
            "refreshed": False, "error": None, "note": None, "seconds": 0.0, "attempts": 0, "retries": []}


def age_text(fetched_at: float | None, now: float | None = None) -> str:
    """Human age of a timestamp (``42s``, ``7m``, ``3h``, ``2d``); empty when unknown."""
    if fetched_at is None:
        return ""
    seconds = max(0.0, (time.time() if now is None else now) - fetched_at)
    if seconds < 90:
        return f"{int(seconds)}s"
    if seconds < 5400:
        return f"{int(seconds // 60)}m"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.0f}d"


def _sources_key() -> dict[str, Any]:
    from .snapshot import snapshot_path

    key: dict[str, Any] = {"snapshot": _stat(snapshot_path())}
    directory = models_dir()
    try:
        names = sorted(n for n in os.listdir(directory) if n.startswith("_third-party"))
    except OSError:
        names = []
    for name in names:
        key[name] = _stat(directory / name)
    return key


def _path() -> Path:
    return models_dir() / FILE_NAME


def save(installed: list[str], per_provider: dict[str, dict[str, Any]], fingerprint: list[Any] | None = None) -> None:
    """Store the merged models of fresh providers.

    :param per_provider: ``{provider: {"fetched_at": float, "models": [model dicts as printed]}}``
        for providers whose list is fresh, not stale and came from the API or the cache.
    """
    if not per_provider:
        return
    fingerprint = fingerprint if fingerprint is not None else plugins_fingerprint()
    sources = _sources_key()
    checked = _third_party_checked()
    old = read_json(_path())
    providers: dict[str, Any] = {}
    if isinstance(old, dict) and old.get("schema") == SCHEMA and old.get("plugins") == fingerprint \
            and old.get("sources") == sources and isinstance(old.get("providers"), dict):
        providers.update(old["providers"])
    for provider, data in per_provider.items():
        providers[provider] = {**data, "cache_file": _stat(cache_path(provider))}
    atomic_write_json(_path(), {"schema": SCHEMA, "plugins": fingerprint, "sources": sources,
                                "third_party_checked": checked, "installed": sorted(installed),
                                "providers": providers})


def _third_party_checked() -> float | None:
    """When the third-party catalogues were last fetched or tried (the oldest of them), so the
    view expires with them too; ``None`` when there are none."""
    directory = models_dir()
    try:
        names = [n for n in os.listdir(directory) if n.startswith("_third-party")]
    except OSError:
        return None
    stamps = []
    for name in names:
        data = read_json(directory / name)
        if isinstance(data, dict):
            stamps.append(max(float(data.get("fetched_at") or 0), float(data.get("failed_at") or 0)))
    return min(stamps) if stamps else None


def lookup(providers: list[str] | None, ttl: float, now: float | None = None) -> dict[str, Any] | None:
    """``{"installed": [...], "providers": {p: {"fetched_at", "models"}}}`` for ``providers``
    (default: every installed one) when the stored view is still valid, else ``None``."""
    data = read_json(_path())
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return None
    stored = data.get("providers")
    installed = data.get("installed")
    if not isinstance(stored, dict) or not isinstance(installed, list) or not installed:
        return None
    if data.get("sources") != _sources_key():
        return None
    now = time.time() if now is None else now
    checked = data.get("third_party_checked")
    if isinstance(checked, (int, float)) and now - checked >= ttl:
        return None  # a third-party catalogue is due for a refresh: build normally
    names = installed if providers is None else providers
    out = {}
    for name in names:
        entry = stored.get(name)
        if not isinstance(entry, dict) or name not in installed:
            return None
        fetched_at = entry.get("fetched_at")
        if not isinstance(fetched_at, (int, float)) or now - fetched_at >= ttl:
            return None
        if entry.get("cache_file") != _stat(cache_path(name)):
            return None
        out[name] = entry
    if data.get("plugins") != plugins_fingerprint():  # checked last: the costliest key
        return None
    return {"installed": installed, "providers": out}
