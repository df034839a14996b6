"""Where massgen-plugins keeps data and caches: ``MASSGEN_PLUGINS_HOME`` or the platform's
user data directory (via platformdirs)."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """The data root. ``MASSGEN_PLUGINS_HOME`` wins; otherwise the platform user data dir."""
    override = os.environ.get("MASSGEN_PLUGINS_HOME", "").strip()
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_path

    return user_data_path("massgen-plugins", appauthor=False)


def cache_dir() -> Path:
    """Caches (model lists, ...) live under ``<home>/cache``, or in ``MASSGEN_PLUGINS_CACHE_DIR``
    when set (the emulator sets it, so demo and test runs never touch the user's cache)."""
    override = os.environ.get("MASSGEN_PLUGINS_CACHE_DIR", "").strip()
    if override:
        return Path(override).expanduser()
    return home() / "cache"


def ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
