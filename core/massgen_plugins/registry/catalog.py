"""Build the model catalogue: cache, concurrent refresh, stale-while-error, metadata merge.

For each provider asked for:

1. read its cache; it is *fresh* for the TTL (:func:`.config.ttl`, default 24 h);
2. unless ``offline``, refresh it when it is missing, expired or ``refresh`` is set -- every
   provider concurrently (:mod:`.fetch`), each within the per-provider timeout, together with
   the metadata sources (``model_metadata`` hook, which may read a public catalogue);
3. a good answer replaces the cache atomically -- unless it is empty or implausibly small;
   a failure serves the last good list marked ``stale`` with a one-line warning naming the
   provider and the error; with no cache at all the bundled snapshot stands in;
4. merge metadata field by field (:mod:`.merge`) and filter to chat models unless
   ``include_all``.

``offline`` makes no request at all: cache, bundled data and cached third-party data only.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import cache, config, view
from .fetch import Event, FetchOutcome, fetch_one, run_concurrently
from .filter import is_chat
from .merge import MetadataIndex, merge

if TYPE_CHECKING:
    from ..manager import Hooks
    from ..types import ModelInfo, ProviderInfo, ProviderSettings


@dataclass
class ProviderReport:
    """How one provider's part of the catalogue was obtained."""

    provider: str
    source: str = "none"  # api | cache | bundled | none
    count: int = 0
    fetched_at: float | None = None
    stale: bool = False
    refreshed: bool = False  # a request was made this time
    error: str | None = None
    note: str | None = None
    seconds: float = 0.0
    attempts: int = 0
    retries: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class Catalog:
    """The merged models plus, per provider, where they came from; ``warnings`` are one-liners."""

    models: list[ModelInfo]
    providers: dict[str, ProviderReport]
    warnings: list[str]
    metadata: dict[str, MetadataIndex]
    seconds: float = 0.0


def _age(seconds: float) -> str:
    return view.age_text(time.time() - seconds)


def _choose(requested: Iterable[str] | None, installed: dict[str, ProviderInfo]) -> list[str]:
    from .snapshot import bundled_providers

    known = set(installed) | set(bundled_providers())
    if requested is None:
        return sorted(installed) or bundled_providers()
    names = []
    for name in requested:
        key = name.strip().lower()
        if key not in known:
            from ..providers import unknown_provider_error

            raise unknown_provider_error(key, installed)
        if key not in names:
            names.append(key)
    return names


def _to_models(provider: str, raw: list[dict[str, Any]]) -> list[ModelInfo]:
    from ..types import ModelInfo

    keep = [{k: v for k, v in item.items() if k not in ("source", "stale", "fetched_at", "unknown_window")}
            for item in raw]
    return [ModelInfo.model_validate({**item, "provider": provider}) for item in keep]


def _dump(models: list[ModelInfo]) -> list[dict[str, Any]]:
    return [m.model_dump(mode="json", exclude_none=True,
                         exclude={"source", "stale", "fetched_at", "unknown_window"}) for m in models]


def _plan(names: list[str], installed: dict[str, ProviderInfo], entries: dict[str, cache.CacheEntry | None],
          reports: dict[str, ProviderReport], *, offline: bool, refresh: bool, ttl_s: float,
          timeout_s: float, now: float) -> dict[str, ProviderSettings]:
    """The providers to refresh now, with their settings (notes for the ones that cannot be)."""
    from ..errors import MissingCredentialsError
    from ..providers import resolve_settings

    plan = {}
    for p in names:
        entry, report = entries[p], reports[p]
        if p not in installed:
            report.note = f"no provider plugin installed (pip install massgen-plugins-{p}); bundled data"
            continue
        if offline or (entry is not None and entry.fresh(ttl_s, now) and not refresh):
            continue
        try:
            settings = resolve_settings(p, timeout=timeout_s)
        except MissingCredentialsError as exc:
            report.note = f"not refreshed: {exc}"
            continue
        settings.timeout = min(settings.timeout, timeout_s)
        plan[p] = settings
    return plan


def _settle(p: str, result: tuple[bool, Any], entry: cache.CacheEntry | None, report: ProviderReport,
            timeout_s: float, warnings: list[str]) -> tuple[list[ModelInfo] | None, cache.CacheEntry | None]:
    """Turn one refresh result into the list to use: store a plausible answer atomically, or
    keep the cache and warn (stale-while-error). Returns ``(fresh models or None, cache entry)``."""
    finished, value = result
    report.refreshed = True
    outcome = value if isinstance(value, FetchOutcome) else None
    listed: list[ModelInfo] | None = None
    if not finished:
        error: str | None = f"timed out after {timeout_s:g}s"
    elif outcome is None:
        error = f"{type(value).__name__}: {value}"
    else:
        report.attempts, report.seconds, report.retries = outcome.attempts, outcome.seconds, outcome.retries
        error = outcome.error
        if outcome.models is not None:
            error = cache.implausible(len(outcome.models), entry)
            if error is None:
                stamp = time.time()
                try:
                    entry = cache.write(p, _dump(outcome.models), plugin=outcome.plugin, fetched_at=stamp)
                except OSError as exc:
                    warnings.append(f"{p}: could not write the model cache: {exc}")
                listed = outcome.models
                report.source, report.fetched_at = "api", stamp
    if error is not None:
        report.error, report.stale = error, True
        if entry is not None:
            warnings.append(f"{p}: model list refresh failed ({error}); serving the cached list "
                            f"from {_age(entry.age())} ago")
        else:
            warnings.append(f"{p}: model list refresh failed ({error}); no cache yet, showing bundled data")
    return listed, entry


def _metadata(hooks: Hooks, p: str, result: tuple[bool, Any] | None, warnings: list[str]) -> MetadataIndex:
    """The metadata sources' answers for ``p``: the concurrent online call when it finished in
    time, else an offline call (cache and bundled data only, never waits on the network)."""
    collected = result[1] if result is not None and result[0] and not isinstance(result[1], BaseException) else None
    if collected is None:
        collected = hooks.model_metadata(p, True)
    for attempt in collected.errors:
        warnings.append(f"{p}: metadata plugin {attempt.plugin} failed: {attempt.error}")
    return MetadataIndex(collected.results)


def load_catalog(providers: Iterable[str] | None = None, *, refresh: bool = False, offline: bool = False,
                 include_all: bool = False, ttl: float | None = None, timeout: float | None = None,
                 on_event: Event | None = None) -> Catalog:
    """The merged model catalogue, with a report per provider. See the module docstring.

    :param on_event: progress callback ``(provider, state, detail)`` called from worker threads.
    """
    from ..hookcall import strict_mode
    from ..manager import get_hooks
    from ..providers import installed_providers
    from .snapshot import snapshot_timestamp

    started = time.monotonic()
    ttl_s, timeout_s = config.ttl(ttl), config.timeout(timeout)
    hooks = get_hooks()
    installed = installed_providers()
    names = _choose(providers, installed)
    reports = {p: ProviderReport(p) for p in names}
    warnings: list[str] = []
    entries = {p: cache.read(p) for p in names}
    now = time.time()

    plan = _plan(names, installed, entries, reports, offline=offline, refresh=refresh, ttl_s=ttl_s,
                 timeout_s=timeout_s, now=now)
    deadline = time.monotonic() + timeout_s
    tasks: dict[str, Any] = {
        f"list:{p}": (lambda p=p, s=s: fetch_one(hooks, p, s, deadline, on_event)) for p, s in plan.items()}
    if not offline:
        tasks.update({f"meta:{p}": (lambda p=p: hooks.model_metadata(p, False)) for p in names})

    def timed_out(key: str) -> None:
        kind, _, p = key.partition(":")
        if kind == "list" and on_event is not None:
            on_event(p, "timeout", f"no answer within {timeout_s:g}s")

    done = run_concurrently(tasks, timeout_s, on_timeout=timed_out) if tasks else {}
    if strict_mode():  # MASSGEN_PLUGINS_STRICT=1: a plugin's exception surfaces instead of a warning
        for finished, value in done.values():
            if finished and isinstance(value, BaseException):
                raise value

    out: list[ModelInfo] = []
    indexes: dict[str, MetadataIndex] = {}
    fresh: dict[str, dict[str, Any]] = {}
    for p in names:
        entry, report = entries[p], reports[p]
        listed: list[ModelInfo] | None = None
        if f"list:{p}" in done:
            listed, entry = _settle(p, done[f"list:{p}"], entry, report, timeout_s, warnings)
        if listed is None and entry is not None:
            listed = _to_models(p, entry.models)
            report.source, report.fetched_at = "cache", entry.fetched_at
            report.stale = report.stale or not entry.fresh(ttl_s, now)
        indexes[p] = index = _metadata(hooks, p, done.get(f"meta:{p}"), warnings)
        if listed is None:
            report.source, report.fetched_at = "bundled", snapshot_timestamp()
        info = installed.get(p)
        models = merge(p, listed, index, source=report.source, fetched_at=report.fetched_at,
                       stale=report.stale, provider_tokenizer=info.tokenizer if info else None)
        report.count = len(models)
        if report.source in ("api", "cache") and not report.stale and p in installed:
            fresh[p] = {"fetched_at": report.fetched_at,
                        "models": [printable(m) | {"source": "cache"} for m in models]}
        out.extend(m for m in models if include_all or is_chat(m))
    out.sort(key=lambda m: (names.index(m.provider), m.id.lower()))
    if fresh:
        try:
            view.save(list(installed), fresh)
        except OSError as exc:
            warnings.append(f"could not write the catalogue view: {exc}")
    return Catalog(out, reports, warnings, indexes, time.monotonic() - started)


def printable(model: ModelInfo) -> dict[str, Any]:
    """A model as ``massgen-plugins models --json`` prints it (and the warm view stores it)."""
    return model.model_dump(mode="json") | {"ref": model.ref}


def age_text(fetched_at: float | None, now: float | None = None) -> str:
    """Human age of a timestamp (``42s``, ``7m``, ``3h``, ``2d``); empty when unknown."""
    return view.age_text(fetched_at, now)
