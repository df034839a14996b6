"""The safe plugin loader.

pluggy's ``load_setuptools_entrypoints`` imports and registers every entry point with no
``try``: one broken plugin takes the whole host down, including the commands a user would run
to recover (simonw/llm#1280, #875). This loader walks the ``massgen_plugins`` entry-point group
itself and isolates each plugin's failure at three points -- import, registration, and hook
validation (a misspelled hook name) -- recording a :class:`PluginRecord` for every plugin and
printing one warning line that names the distribution and how to remove it.

Selection, matched against entry-point *or* distribution names (case and ``-``/``_``
insensitive):

* ``MASSGEN_PLUGINS_LOAD`` -- allow-list, comma separated; set but empty loads no third-party
  plugin at all;
* ``MASSGEN_PLUGINS_DISABLED`` -- block-list; also accepts built-in plugin names;
* ``MASSGEN_PLUGINS_STRICT=1`` -- re-raise the first plugin error instead of skipping.

Built-in default plugins are registered by module path *before* third-party ones; pluggy calls
the most recently registered implementation first, so third-party plugins answer before the
built-ins and can override them.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from types import ModuleType
from typing import Any, Literal

import pluggy

from .errors import PluginError
from .hookcall import strict_mode
from .redact import describe_error as _describe

GROUP = "massgen_plugins"

Status = Literal["loaded", "failed", "disabled"]


@dataclass
class PluginRecord:
    """What the host knows about one plugin, whether or not it loaded."""

    name: str
    status: Status
    version: str | None = None
    distribution: str | None = None
    entry_point: str | None = None
    module: str | None = None
    hooks: list[str] = field(default_factory=list)
    error: str | None = None
    builtin: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def normalize(name: str) -> str:
    """Canonical form for comparing plugin and distribution names (PEP 503 style)."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def _names(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {normalize(part) for part in value.split(",") if part.strip()}


def _warn(message: str) -> None:
    print(f"massgen-plugins: warning: {message}", file=sys.stderr)


def _validation_error(pm: pluggy.PluginManager, plugin: object) -> str | None:
    """The reason a registered plugin is invalid (hooks without a spec), or ``None``."""
    unknown = []
    for caller in pm.get_hookcallers(plugin) or []:
        if caller.has_spec():
            continue
        mine = [i for i in caller.get_hookimpls() if i.plugin is plugin]
        if any(not i.optionalhook for i in mine):
            unknown.append(caller.name)
    if not unknown:
        return None
    return f"unknown hook(s) {', '.join(sorted(unknown))}; see `massgen-plugins list --all` for valid names"


def hook_names(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    return sorted({c.name for c in pm.get_hookcallers(plugin) or []})


def _register(pm: pluggy.PluginManager, plugin: object, name: str) -> str | None:
    """Register ``plugin`` and validate it; on any failure leave no trace and return why."""
    try:
        pm.register(plugin, name=name)
    except Exception as exc:
        if pm.is_registered(plugin):
            pm.unregister(plugin)
        if strict_mode():
            raise PluginError(f"plugin {name!r} failed to register: {_describe(exc)}") from exc
        return _describe(exc)
    reason = _validation_error(pm, plugin)
    if reason is not None:
        pm.unregister(plugin)
        if strict_mode():
            raise PluginError(f"plugin {name!r} is invalid: {reason}")
    return reason


def _entry_points(group: str) -> Iterable[Any]:
    # the standard library's importlib.metadata (3.10+: ``group=`` and ``EntryPoint.dist``);
    # cheaper to import than the importlib-metadata backport, which pluggy would pull in
    from importlib.metadata import entry_points

    return entry_points(group=group)


def _load_builtins(
    pm: pluggy.PluginManager, modules: Iterable[str], block: set[str], version: str
) -> list[PluginRecord]:
    records = []
    for path in modules:
        short = path.rsplit(".", 1)[-1]
        record = PluginRecord(name=path, status="loaded", version=version, module=path, builtin=True)
        records.append(record)
        if {normalize(path), normalize(short)} & block:
            record.status = "disabled"
            continue
        try:
            module: ModuleType = importlib.import_module(path)
        except Exception as exc:
            if strict_mode():
                raise PluginError(f"built-in plugin {path} failed to import: {_describe(exc)}") from exc
            record.status, record.error = "failed", _describe(exc)
            _warn(f"built-in plugin {path} failed to import ({record.error}); it is skipped")
            continue
        reason = _register(pm, module, path)
        if reason is not None:
            record.status, record.error = "failed", reason
            _warn(f"built-in plugin {path} is skipped: {reason}")
            continue
        record.hooks = hook_names(pm, module)
    return records


def _load_entry_point(
    pm: pluggy.PluginManager, ep: Any, allow: set[str] | None, block: set[str]
) -> PluginRecord:
    dist = getattr(ep, "dist", None)
    dist_name = dist.metadata["Name"] if dist is not None else None
    record = PluginRecord(
        name=ep.name,
        status="loaded",
        version=dist.version if dist is not None else None,
        distribution=dist_name,
        entry_point=f"{ep.name} = {ep.value}",
        module=ep.value.split(":", 1)[0].strip(),
    )
    keys = {normalize(ep.name)} | ({normalize(dist_name)} if dist_name else set())
    if (allow is not None and not keys & allow) or keys & block:
        record.status = "disabled"
        return record
    try:
        plugin = ep.load()
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        if strict_mode():
            raise PluginError(f"plugin {ep.name!r} failed to import: {_describe(exc)}") from exc
        record.status, record.error = "failed", _describe(exc)
    else:
        reason = _register(pm, plugin, ep.name)
        if reason is None:
            record.hooks = hook_names(pm, plugin)
            return record
        record.status, record.error = "failed", reason
    who = f"{dist_name} {record.version}" if dist_name else ep.value
    fix = f"pip uninstall {dist_name}" if dist_name else "remove it from the environment"
    _warn(
        f"plugin {ep.name!r} from {who} failed to load ({record.error}); it is skipped. "
        f"Disable it with MASSGEN_PLUGINS_DISABLED={ep.name} or remove it with: {fix}"
    )
    return record


def load_plugins(
    pm: pluggy.PluginManager,
    *,
    builtins: Iterable[str] = (),
    group: str = GROUP,
    environ: Mapping[str, str] | None = None,
    host_version: str = "",
    entry_points: Callable[[str], Iterable[Any]] = _entry_points,
) -> list[PluginRecord]:
    """Register the built-in plugins, then every selected entry point of ``group``.

    Never raises for a broken plugin unless strict mode is on; returns one record per plugin.
    """
    env = os.environ if environ is None else environ
    allow = _names(env.get("MASSGEN_PLUGINS_LOAD"))
    block = _names(env.get("MASSGEN_PLUGINS_DISABLED")) or set()
    records = _load_builtins(pm, builtins, block, host_version)
    seen: set[tuple[str | None, str]] = set()
    for ep in entry_points(group):
        dist = getattr(ep, "dist", None)
        key = (dist.metadata["Name"] if dist is not None else None, ep.name)
        if key in seen:
            continue
        seen.add(key)
        records.append(_load_entry_point(pm, ep, allow, block))
    return records
