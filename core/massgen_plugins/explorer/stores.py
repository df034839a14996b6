"""The memory stores the explorer may open: only those it was given or a run says it wrote to.

The API names a store by a short *key*, never by a URL the browser chose: a page cannot make the
explorer open an arbitrary file or server. A SQLite store is opened only when its file exists
(looking never creates one). Opened stores are kept open and shared (stores are thread-safe).
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from .models import StoreInfo

if TYPE_CHECKING:
    from ..memory.store import MemoryStore

__all__ = ["StoreRegistry", "display_url", "store_key"]


def store_key(url: str) -> str:
    return "s" + hashlib.blake2b(url.encode(), digest_size=5).hexdigest()


def _sqlite_file(url: str) -> Path | None:
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///"):].split("?", 1)[0])
    return None


class StoreRegistry:
    """Known stores by key; :meth:`open` opens one lazily."""

    def __init__(self, urls: list[str] | None = None) -> None:
        from ..memory import default_url

        self._lock = threading.Lock()
        self._urls: dict[str, tuple[str, str]] = {}  # key -> (url, label)
        self._open: dict[str, MemoryStore] = {}
        for url in urls or []:
            self.add(_normalise(url), "--store")
        self.add(default_url(), "default store")

    def add(self, url: str, label: str) -> str:
        """Register ``url`` (from the command line or a run's own events); return its key."""
        key = store_key(url)
        with self._lock:
            self._urls.setdefault(key, (url, label))
        return key

    def infos(self) -> list[StoreInfo]:
        from ..redact import redact

        with self._lock:
            items = list(self._urls.items())
        out = []
        for key, (url, label) in items:
            file = _sqlite_file(url)
            out.append(StoreInfo(key=key, url=redact(display_url(url)), label=label,
                                 exists=file.is_file() if file else True))
        return out

    def default_key(self) -> str:
        with self._lock:
            return next(iter(self._urls))

    def open(self, key: str | None) -> tuple[str, MemoryStore]:
        """``(key, store)``; ``key=None`` is the first store given (or the default one).

        :raises InputError: for an unknown key or a SQLite store whose file does not exist.
        """
        from ..memory import open_store

        key = key or self.default_key()
        with self._lock:
            if key in self._open:
                return key, self._open[key]
            if key not in self._urls:
                raise InputError(f"unknown memory store {key!r}; see /api/memory/stores")
            url = self._urls[key][0]
            file = _sqlite_file(url)
            if file is not None and not file.is_file():
                raise InputError(f"no memory store at {file}")
            store = open_store(url)
            self._open[key] = store
            return key, store

    def close(self) -> None:
        with self._lock:
            stores = list(self._open.values())
            self._open.clear()
        for store in stores:
            try:
                store.close()
            except Exception:
                pass


def display_url(url: str) -> str:
    """``url`` with any password in it replaced by ``***`` (shown in pages and the API)."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _normalise(url: str) -> str:
    if "://" in url:
        return url
    return "sqlite:///" + str(Path(url).expanduser().absolute())
