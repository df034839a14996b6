"""Virtual keys: creation (shown once, stored as SHA-256), revocation, and request authentication.

Keys are 32 random bytes (``secrets.token_urlsafe``) behind the prefix ``sk-mgp-``; with that much
entropy a plain SHA-256 is a safe verifier (a slow password hash protects low-entropy secrets, not
random tokens) and lets every request be checked in microseconds. The shape also matches the
project's secret redaction, so a key pasted into a log line is masked.

``MASSGEN_PLUGINS_MASTER_KEY`` is the admin key: it passes without limits and may manage keys over
HTTP. Authentication results are cached for :data:`CACHE_SECONDS`; a revoked key stops working on
every gateway process within that time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from massgen_plugins.errors import InputError

from .records import KeyRecord
from .store import GatewayStore

PREFIX = "sk-mgp-"
MASTER_ENV = "MASSGEN_PLUGINS_MASTER_KEY"
CACHE_SECONDS = 5.0
MASTER_ID = "master"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _positive(name: str, value: int | None) -> int | None:
    if value is not None and value < 1:
        raise InputError(f"--{name} must be a positive integer, got {value}")
    return value


def create_key(store: GatewayStore, name: str, *, rpm: int | None = None, tpm: int | None = None,
               max_tokens: int | None = None, models: str | None = None) -> tuple[KeyRecord, str]:
    """Create a key; return its record and the key itself (the only time it is visible)."""
    name = (name or "").strip()
    if not name or len(name) > 100 or any(c in name for c in "\r\n\t"):
        raise InputError("--name must be 1 to 100 printable characters on one line")
    if models is not None and not models.strip(" ,"):
        raise InputError("--models must name at least one model glob, e.g. 'openai/*'")
    key = PREFIX + secrets.token_urlsafe(32)
    record = KeyRecord(
        id=f"key_{uuid.uuid4().hex[:16]}", name=name, prefix=key[: len(PREFIX) + 4],
        rpm=_positive("rpm", rpm), tpm=_positive("tpm", tpm), max_tokens=_positive("max-tokens", max_tokens),
        models=models.strip() if models else None, created=time.time(),
    )
    store.add_key(record, digest(key))
    return record, key


def revoke_key(store: GatewayStore, id_or_name: str) -> KeyRecord:
    """Revoke the key with this id (or this unique name).

    :raises InputError: when nothing or several keys match, or the key is already revoked.
    """
    matches = store.find_keys(id_or_name)
    if not matches:
        raise InputError(f"no key with id or name {id_or_name!r}; see `massgen-plugins keys list`")
    if len(matches) > 1:
        ids = ", ".join(m.id for m in matches)
        raise InputError(f"{len(matches)} keys are named {id_or_name!r} ({ids}); revoke one by its id")
    record = matches[0]
    if record.revoked is not None or not store.revoke(record.id):
        raise InputError(f"key {record.id} ({record.name}) is already revoked")
    return store.find_keys(record.id)[0]


@dataclass(frozen=True)
class Caller:
    """Who a request comes from."""

    key: KeyRecord
    admin: bool = False

    @property
    def label(self) -> str:
        """The metrics / run-log label: the key's name."""
        return self.key.name


MASTER_RECORD = KeyRecord(id=MASTER_ID, name="master", prefix="(master)", created=0.0)


class Authenticator:
    """Checks request keys against the master key and the store, with a short cache."""

    def __init__(self, store: GatewayStore, *, master_key: str | None = None, cache_seconds: float = CACHE_SECONDS
                 ) -> None:
        self.store = store
        self.master_key = master_key if master_key is not None else os.environ.get(MASTER_ENV) or None
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, KeyRecord | None]] = {}

    def lookup(self, key: str | None) -> Caller | None:
        """The caller presenting ``key``, or ``None`` for a missing, unknown or revoked key."""
        if not key:
            return None
        if self.master_key and hmac.compare_digest(key.encode(), self.master_key.encode()):
            return Caller(MASTER_RECORD, admin=True)
        hashed = digest(key)
        now = time.monotonic()
        cached = self._cache.get(hashed)
        if cached is not None and now - cached[0] < self.cache_seconds:
            record = cached[1]
        else:
            record = self.store.key_by_hash(hashed)
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[hashed] = (now, record)
        if record is None or record.revoked is not None:
            return None
        return Caller(record)


def request_key(headers: Mapping[str, str]) -> str | None:
    """The key a request presents: ``Authorization: Bearer KEY`` or ``x-api-key: KEY``."""
    get = headers.get
    auth = get("authorization") or ""
    if auth[:7].lower() == "bearer ":
        token = auth[7:].strip()
        if token:
            return str(token)
    api_key = get("x-api-key") or ""
    return str(api_key).strip() or None
