"""The plugin host: one plugin manager per process and a typed facade over its hooks.

pluggy cannot type-check ``pm.hook.x(...)`` calls (pluggy#191), and a bare hook call stops at
the first plugin that raises. :class:`Hooks` (tox's ``Plugin`` pattern) has one typed method per
hook and is the only door to them: each goes through :mod:`massgen_plugins.hookcall`, so a broken,
slow or hanging plugin is skipped with its reason recorded, and results are validated into the
pydantic models of :mod:`massgen_plugins.types`.

Provider hooks are routed by owner, as llm dispatches a prompt to the plugin that registered the
model: the host keeps a provider -> plugin table built from ``register_providers``, and calls
``complete``, ``stream``, ``list_models``, ``model_metadata``, ``count_tokens``,
``detect_overflow``, ``classify_error`` and ``compress`` only on the owner of the provider in
question plus the plugins that own no provider (generic ones such as the built-in error
patterns). A provider declared by two plugins is an error that names both distributions.

Discovery runs once per process (:func:`get_host`); :func:`reset_host` exists for tests.
"""

from __future__ import annotations

import math
import operator
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from . import hookspecs
from ._version import __version__
from .errors import MassgenError, NoImplementationError, ProviderConflictError
from .hookcall import ChainResult, Collected, HookCall, Implementation, Ran, call_one, implementations
from .loader import PluginRecord, load_plugins

if TYPE_CHECKING:
    import click

    from .compression.toolcalls import ToolAction
    from .memory.store import MemoryStore
    from .overflow_patterns import OverflowPattern
    from .types import (
        AnalysisRequest,
        AnalysisResult,
        CompletionRequest,
        CompletionResponse,
        CompressionRequest,
        ErrorInfo,
        ModelInfo,
        Overflow,
        ProviderInfo,
        ProviderSettings,
        StreamEvent,
        TokenCount,
        TokenCountRequest,
    )


_Item = TypeVar("_Item")


CALL_MARGIN = 5.0  # seconds a provider call may run past its own timeout before the host cuts it


def call_ceiling(request: CompletionRequest, settings: ProviderSettings) -> float:
    """How long one provider call may take before the host cuts it: the request's timeout (else
    the provider's) plus :data:`CALL_MARGIN`, so a plugin that ignores its timeout cannot hang
    its caller."""
    return (request.timeout or settings.timeout) + CALL_MARGIN


def create_manager() -> pluggy.PluginManager:
    """A plugin manager with the hook contract added and nothing registered."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


# --------------------------------------------------------------------------- result checks


def _as(model: type) -> Callable[[Any], Any]:
    """An acceptor that validates a hook's return value into ``model`` (dicts are coerced)."""

    def accept(value: Any) -> Any:
        return value if isinstance(value, model) else model.model_validate(value)  # type: ignore[attr-defined]

    return accept


def _list_of(model: type) -> Callable[[Any], Any]:
    def accept(value: Any) -> Any:
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"expected a list of {model.__name__}, got {type(value).__name__}")
        return [v if isinstance(v, model) else model.model_validate(v) for v in value]  # type: ignore[attr-defined]

    return accept


def _awaitable(value: Any) -> Any:
    import inspect

    if not inspect.isawaitable(value):
        raise TypeError(f"expected an awaitable, got {type(value).__name__} (return your coroutine)")
    return value


def _async_iterator(value: Any) -> Any:
    if not hasattr(value, "__aiter__"):
        raise TypeError(f"expected an async iterator, got {type(value).__name__}")
    return value


def _embeddings(count: int) -> Callable[[Any], list[list[float]]]:
    """An acceptor for ``embed``: one non-empty vector of finite numbers per text, one dimension."""

    def accept(value: Any) -> list[list[float]]:
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"expected a list of vectors, got {type(value).__name__}")
        if len(value) != count:
            raise ValueError(f"expected {count} vector(s), one per text, got {len(value)}")
        vectors: list[list[float]] = []
        for i, vector in enumerate(value):
            if not isinstance(vector, (list, tuple)) or not vector:
                raise TypeError(f"vector {i} is not a non-empty list of numbers")
            if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in vector):
                raise TypeError(f"vector {i} holds something other than numbers")
            floats = [float(x) for x in vector]
            if not all(math.isfinite(x) for x in floats):
                raise ValueError(f"vector {i} holds NaN or infinity")
            vectors.append(floats)
        if len({len(v) for v in vectors}) > 1:
            raise ValueError(f"vectors of different lengths: {sorted({len(v) for v in vectors})}")
        return vectors

    return accept


# --------------------------------------------------------------------------- provider owners


@dataclass
class ProviderTable:
    """Which plugin owns which provider."""

    infos: dict[str, ProviderInfo] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    conflicts: dict[str, list[str]] = field(default_factory=dict)

    @property
    def provider_plugins(self) -> set[str]:
        """Plugins that own (or claimed) at least one provider."""
        return set(self.owners.values()) | {p for claimants in self.conflicts.values() for p in claimants}

    def route(self, provider: str | None) -> Callable[[str], bool]:
        """The plugins allowed to answer for ``provider``: its owner and every plugin that owns
        no provider. With an unknown provider (or ``None``) only the latter."""
        owner = self.owners.get(provider) if provider else None
        others = self.provider_plugins
        return lambda plugin: plugin == owner or plugin not in others


def _who(plugin: str, records: Iterable[PluginRecord]) -> str:
    for record in records:
        if record.name == plugin and record.distribution:
            return f"{plugin!r} (distribution {record.distribution} {record.version or ''})".replace(" )", ")")
    return repr(plugin)


def conflict_message(provider: str, claimants: list[str], records: Iterable[PluginRecord]) -> str:
    """A one-line error for a provider claimed by several plugins, naming each distribution."""
    records = list(records)
    names = " and ".join(_who(p, records) for p in claimants)
    return (
        f"provider {provider!r} is declared by more than one plugin: {names}; the host will not guess "
        f"which to call. Disable one with MASSGEN_PLUGINS_DISABLED={claimants[-1]} or uninstall it"
    )


# --------------------------------------------------------------------------- the facade


class Hooks:
    """Typed facade: one method per hook, routed by provider, bounded and isolated per plugin."""

    def __init__(self, pm: pluggy.PluginManager, records: Iterable[PluginRecord] = ()) -> None:
        self.pm = pm
        self.records = list(records)
        self._table: ProviderTable | None = None
        self._table_key: frozenset[str] = frozenset()
        self._table_lock = threading.Lock()
        self._overflow_patterns: tuple[OverflowPattern, ...] | None = None
        self._tool_actions: tuple[ToolAction, ...] | None = None
        self._routes: dict[tuple[str, str | None], tuple[ProviderTable, list[Any], list[Implementation]]] = {}

    # -- providers -------------------------------------------------------------------------
    def provider_table(self) -> ProviderTable:
        """Declared providers and their owners; rebuilt only when the registered plugins change
        (a conflict is warned about each time the table is built)."""
        key = frozenset(name for name, _ in self.pm.list_name_plugin())
        table = self._table
        if table is None or key != self._table_key:
            with self._table_lock:
                if self._table is None or key != self._table_key:
                    self._table, self._table_key = self._build_table(), key
                table = self._table
        return table

    def register_providers(self) -> dict[str, ProviderInfo]:
        """Every provider declared by exactly one plugin, by name."""
        return self.provider_table().infos

    def _build_table(self) -> ProviderTable:
        from .types import ProviderInfo

        def accept(value: Any) -> list[ProviderInfo]:
            items = value if isinstance(value, (list, tuple)) else [value]
            return [i if isinstance(i, ProviderInfo) else ProviderInfo.model_validate(i) for i in items]

        claims: dict[str, list[tuple[str, ProviderInfo]]] = {}
        collected: Collected[list[ProviderInfo]] = HookCall(
            self.pm, "register_providers", {}, collect=True, accept=accept
        ).run()
        for plugin, infos in collected.results:
            for info in infos:
                mine = claims.setdefault(info.name, [])
                if plugin not in (p for p, _ in mine):
                    mine.append((plugin, info))
        table = ProviderTable()
        for name, claimants in claims.items():
            if len(claimants) == 1:
                table.owners[name], table.infos[name] = claimants[0]
            else:
                table.conflicts[name] = [p for p, _ in claimants]
                print(f"massgen-plugins: warning: {conflict_message(name, table.conflicts[name], self.records)}",
                      file=sys.stderr)
        return table

    def check_provider(self, provider: str) -> None:
        """Raise :class:`ProviderConflictError` if two plugins claim ``provider``."""
        claimants = self.provider_table().conflicts.get(provider)
        if claimants:
            raise ProviderConflictError(conflict_message(provider, claimants, self.records))

    def _routed(self, hook: str, provider: str | None, kwargs: dict[str, Any], **options: Any) -> HookCall:
        return HookCall(self.pm, hook, kwargs, impls=self._route(hook, provider), **options)

    def _route(self, hook: str, provider: str | None) -> list[Implementation]:
        """``hook``'s implementations that may answer for ``provider``, in call order; remembered
        while the provider table and the hook's registered implementations stay the same (every
        provider call goes through here)."""
        table = self.provider_table()
        registered = getattr(self.pm.hook, hook).get_hookimpls()
        known = self._routes.get((hook, provider))
        if (known is not None and known[0] is table and len(known[1]) == len(registered)
                and all(map(operator.is_, known[1], registered))):
            return known[2]
        impls = implementations(self.pm, hook, table.route(provider))
        if len(self._routes) >= 256:
            self._routes.clear()
        self._routes[(hook, provider)] = (table, registered, impls)
        return impls

    def register_commands(self, cli: click.Group) -> Collected[None]:
        """Let every plugin add its commands to ``cli``; failures are isolated and reported."""
        result: Collected[None] = HookCall(self.pm, "register_commands", {"cli": cli}, collect=True).run()
        return result

    def list_models(self, provider: str, settings: ProviderSettings) -> ChainResult[list[ModelInfo]]:
        """``provider``'s owner lists its models (``attempts`` keep the exception for retries)."""
        from .types import ModelInfo

        self.check_provider(provider)
        result: ChainResult[list[ModelInfo]] = self._routed(
            "list_models", provider, {"provider": provider, "settings": settings}, accept=_list_of(ModelInfo),
            report_raised=False,  # the provider's own failure: the registry retries and reports it
        ).run()
        return result

    def model_metadata(self, provider: str, offline: bool) -> Collected[list[ModelInfo]]:
        from .types import ModelInfo

        result: Collected[list[ModelInfo]] = self._routed(
            "model_metadata", provider, {"provider": provider, "offline": offline},
            collect=True, accept=_list_of(ModelInfo),
        ).run()
        return result

    # -- tokens and errors -----------------------------------------------------------------
    def _count_call(self, request: TokenCountRequest, settings: ProviderSettings | None) -> HookCall:
        from .types import TokenCount

        provider = request.model.split("/", 1)[0]
        kwargs = {"request": request, "settings": settings or self._settings(provider)}
        return self._routed("count_tokens", provider, kwargs, accept=_as(TokenCount))

    def count_tokens(
        self, request: TokenCountRequest, settings: ProviderSettings | None = None
    ) -> ChainResult[TokenCount]:
        """Count through the model's provider plugin (then the generic counters).

        :param settings: the connection settings a count endpoint would use; by default the
            provider's resolved from the environment (a missing key is left ``None``).
        """
        result: ChainResult[TokenCount] = self._count_call(request, settings).run()
        return result

    async def acount_tokens(
        self, request: TokenCountRequest, settings: ProviderSettings | None = None
    ) -> ChainResult[TokenCount]:
        """:meth:`count_tokens` on the event loop, never blocking it."""
        result: ChainResult[TokenCount] = await self._count_call(request, settings).arun()
        return result

    def _overflow_call(self, error: BaseException, provider: str | None, model: str | None) -> HookCall:
        from .types import Overflow

        kwargs = {"error": error, "provider": provider, "model": model}
        return self._routed("detect_overflow", provider, kwargs, accept=_as(Overflow))

    def detect_overflow(
        self, error: BaseException, provider: str | None = None, model: str | None = None
    ) -> ChainResult[Overflow]:
        result: ChainResult[Overflow] = self._overflow_call(error, provider, model).run()
        return result

    async def adetect_overflow(
        self, error: BaseException, provider: str | None = None, model: str | None = None
    ) -> ChainResult[Overflow]:
        result: ChainResult[Overflow] = await self._overflow_call(error, provider, model).arun()
        return result

    def _collected_items(self, hook: str, kind: type[_Item]) -> tuple[_Item, ...]:
        """Every plugin's ``kind`` objects from the argument-less, collecting ``hook`` (third-party
        first); a plugin that raises or returns anything else is isolated and reported."""

        def accept(value: Any) -> list[_Item]:
            items = value if isinstance(value, (list, tuple)) else [value]
            if not all(isinstance(i, kind) for i in items):
                raise TypeError(f"{hook} must return {kind.__name__} objects")
            return list(items)

        found: Collected[list[_Item]] = HookCall(self.pm, hook, {}, collect=True, accept=accept).run()
        return tuple(item for _, items in found.results for item in items)

    def overflow_patterns(self) -> tuple[OverflowPattern, ...]:
        """Every plugin's extra overflow wordings (third-party first), collected once per host."""
        if self._overflow_patterns is None:
            from .overflow_patterns import OverflowPattern

            self._overflow_patterns = self._collected_items("overflow_patterns", OverflowPattern)
        return self._overflow_patterns

    def tool_actions(self) -> tuple[ToolAction, ...]:
        """Every plugin's declared tool actions (third-party first), collected once per host."""
        if self._tool_actions is None:
            from .compression.toolcalls import ToolAction

            self._tool_actions = self._collected_items("tool_actions", ToolAction)
        return self._tool_actions

    def _classify_call(self, error: BaseException, provider: str | None) -> HookCall:
        from .types import ErrorInfo

        kwargs = {"error": error, "provider": provider}
        return self._routed("classify_error", provider, kwargs, accept=_as(ErrorInfo))

    def classify_error(self, error: BaseException, provider: str | None = None) -> ChainResult[ErrorInfo]:
        result: ChainResult[ErrorInfo] = self._classify_call(error, provider).run()
        return result

    async def aclassify_error(self, error: BaseException, provider: str | None = None) -> ChainResult[ErrorInfo]:
        result: ChainResult[ErrorInfo] = await self._classify_call(error, provider).arun()
        return result

    # -- compression -----------------------------------------------------------------------
    def compress_stages(self, provider: str | None = None) -> list[Implementation]:
        """The ``compress`` implementations in chain order that may serve ``provider``'s models
        (all of them when ``provider`` is ``None``); the compression host feeds each the
        previous output and re-checks the budget after every stage."""
        only = self.provider_table().route(provider) if provider is not None else None
        return implementations(self.pm, "compress", only)

    async def run_stage(self, impl: Implementation, request: CompressionRequest) -> Ran:
        """Run one compression stage under the ``compress`` deadline: ``(value, error, seconds)``."""
        return await call_one(impl, {"request": request})

    # -- provider calls --------------------------------------------------------------------
    async def complete(self, request: CompletionRequest, settings: ProviderSettings, *,
                       ceiling: float | None = None) -> CompletionResponse:
        """Run one call through the plugin that owns ``request.provider``.

        Starting the call is bounded by the ``complete`` deadline; the call itself by
        ``ceiling`` seconds (default :func:`call_ceiling`: the request's timeout plus a margin),
        whether or not the plugin honours the timeout it was given -- a late call raises
        :class:`TimeoutError`. Exceptions from the call (the SDK's) propagate unchanged for the
        retry loop.
        """
        from .hookcall import bounded
        from .types import CompletionResponse

        self.check_provider(request.provider)
        kwargs = {"request": request, "settings": settings}
        chosen = await self._routed("complete", request.provider, kwargs, accept=_awaitable, await_result=False).arun()
        if chosen.value is None:
            raise self._nobody("complete", request.provider, chosen)
        awaitable: Awaitable[Any] = chosen.value
        limit = call_ceiling(request, settings) if ceiling is None else ceiling
        return _as(CompletionResponse)(await bounded(awaitable, limit))  # type: ignore[no-any-return]

    def stream(self, request: CompletionRequest, settings: ProviderSettings) -> AsyncIterator[StreamEvent]:
        """The events of one streaming call through the owner of ``request.provider``.

        The hook is called on the first iteration (bounded by the ``stream`` deadline); the
        events themselves arrive under the caller's timeout.
        """

        async def events() -> AsyncIterator[StreamEvent]:
            self.check_provider(request.provider)
            kwargs = {"request": request, "settings": settings}
            chosen = await self._routed("stream", request.provider, kwargs, accept=_async_iterator,
                                        await_result=False).arun()
            if chosen.value is None:
                raise self._nobody("stream", request.provider, chosen)
            iterator: AsyncIterator[StreamEvent] = chosen.value
            try:
                async for event in iterator:
                    yield event
            finally:
                close = getattr(iterator, "aclose", None)
                if close is not None:
                    await close()

        return events()

    # -- memory, embeddings, logs ----------------------------------------------------------
    def memory_store(self, url: str) -> MemoryStore:
        """Open the store at ``url`` through the first plugin that handles its scheme.

        A :class:`~massgen_plugins.errors.MassgenError` a plugin raises (bad URL, damaged store,
        schema too new) reaches the caller as is: it is about the user's store, not the plugin.
        """
        chosen: ChainResult[MemoryStore] = HookCall(
            self.pm, "memory_store", {"url": url}, propagate=(MassgenError,)
        ).run()
        if chosen.value is None:
            scheme = url.split(":", 1)[0] if ":" in url else url
            raise NoImplementationError(
                f"no installed plugin opens memory stores of scheme {scheme!r}; "
                "built in: sqlite:///PATH; for postgresql://... run: pip install massgen-plugins-postgres"
                + self._skipped_note(chosen)
            )
        return chosen.value

    def has_implementations(self, hook: str) -> bool:
        return bool(implementations(self.pm, hook))

    def embed(self, texts: list[str], model: str | None = None) -> list[list[float]] | None:
        """One vector per text from the first ``embed`` plugin that answers (checked: count,
        numbers, one dimension), or ``None``."""
        chosen: ChainResult[list[list[float]]] = HookCall(
            self.pm, "embed", {"texts": texts, "model": model}, accept=_embeddings(len(texts))
        ).run()
        return chosen.value

    async def analyze_logs(self, request: AnalysisRequest) -> Collected[AnalysisResult]:
        from .types import AnalysisResult

        result: Collected[AnalysisResult] = await HookCall(
            self.pm, "analyze_logs", {"request": request}, collect=True, accept=_as(AnalysisResult)
        ).arun()
        return result

    # -- helpers ---------------------------------------------------------------------------
    def _settings(self, provider: str) -> ProviderSettings:
        """The provider's settings from the environment, or bare ones for an unknown provider."""
        from .types import ProviderSettings

        info = self.provider_table().infos.get(provider)
        if info is None:
            return ProviderSettings(provider=provider)
        from .providers import settings_for

        return settings_for(info, require_key=False)

    @staticmethod
    def _skipped_note(chosen: ChainResult[Any]) -> str:
        if not chosen.skipped:
            return ""
        reasons = "; ".join(f"{a.plugin}: {a.error}" for a in chosen.skipped)
        return f" (skipped: {reasons})"

    def _nobody(self, hook: str, provider: str, chosen: ChainResult[Any]) -> NoImplementationError:
        return NoImplementationError(
            f"no installed plugin implements {hook!r} for provider {provider!r}; "
            f"install it with: pip install massgen-plugins-{provider}" + self._skipped_note(chosen)
        )


class PluginHost:
    """The process's plugin manager, its load records and its facade."""

    def __init__(self, pm: pluggy.PluginManager, records: list[PluginRecord]) -> None:
        self.pm = pm
        self.records = records
        self.hooks = Hooks(pm, records)

    def providers(self) -> dict[str, ProviderInfo]:
        """Installed providers by name (computed once, then cached)."""
        return self.hooks.register_providers()


_lock = threading.Lock()
_host: PluginHost | None = None


def get_host() -> PluginHost:
    """The process-wide host; plugins are discovered on first use, once."""
    global _host
    if _host is None:
        with _lock:
            if _host is None:
                from .default_plugins import DEFAULT_PLUGINS

                pm = create_manager()
                records = load_plugins(pm, builtins=DEFAULT_PLUGINS, host_version=__version__)
                _host = PluginHost(pm, records)
    return _host


def get_hooks() -> Hooks:
    """Shortcut for ``get_host().hooks``."""
    return get_host().hooks


def reset_host() -> None:
    """Forget the loaded plugins (tests; after changing the selection environment variables)."""
    global _host
    with _lock:
        _host = None
