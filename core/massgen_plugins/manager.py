"""The plugin host: one plugin manager per process and a typed facade over its hooks.

pluggy cannot type-check ``pm.hook.x(...)`` calls (pluggy#191), and a bare hook call stops at
the first plugin that raises. :class:`Hooks` (tox's ``Plugin`` pattern) has one typed method per
hook; each goes through :mod:`massgen_plugins.chain`, so a broken plugin is skipped with its
reason recorded, and results are validated into the pydantic models of
:mod:`massgen_plugins.types`.

Discovery runs once per process (:func:`get_host`); :func:`reset_host` exists for tests.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs
from ._version import __version__
from .chain import (
    ChainResult,
    Collected,
    Implementation,
    acollect_all,
    collect_all,
    first_result,
    implementations,
)
from .errors import NoImplementationError
from .loader import PluginRecord, load_plugins

if TYPE_CHECKING:
    import click

    from .memory.store import MemoryStore
    from .types import (
        AnalysisRequest,
        AnalysisResult,
        CompletionRequest,
        CompletionResponse,
        ErrorInfo,
        ModelInfo,
        Overflow,
        ProviderInfo,
        ProviderSettings,
        StreamEvent,
        TokenCount,
        TokenCountRequest,
    )


def create_manager() -> pluggy.PluginManager:
    """A plugin manager with the hook contract added and nothing registered."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def _as(model: type) -> Any:
    """An acceptor that validates a hook's return value into ``model`` (dicts are coerced)."""

    def accept(value: Any) -> Any:
        return value if isinstance(value, model) else model.model_validate(value)  # type: ignore[attr-defined]

    return accept


def _list_of(model: type) -> Any:
    def accept(value: Any) -> Any:
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"expected a list of {model.__name__}, got {type(value).__name__}")
        return [v if isinstance(v, model) else model.model_validate(v) for v in value]  # type: ignore[attr-defined]

    return accept


def _awaitable(value: Any) -> Any:
    if not inspect.isawaitable(value):
        raise TypeError(f"expected an awaitable, got {type(value).__name__} (return your coroutine)")
    return value


def _async_iterator(value: Any) -> Any:
    if not hasattr(value, "__aiter__"):
        raise TypeError(f"expected an async iterator, got {type(value).__name__}")
    return value


class Hooks:
    """Typed facade: one method per hook, with per-plugin error isolation."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm

    # -- providers -------------------------------------------------------------------------
    def register_providers(self) -> dict[str, ProviderInfo]:
        """Every declared provider by name (the first declaration of a name wins)."""
        from .types import ProviderInfo

        def accept(value: Any) -> list[ProviderInfo]:
            items = value if isinstance(value, (list, tuple)) else [value]
            return [i if isinstance(i, ProviderInfo) else ProviderInfo.model_validate(i) for i in items]

        table: dict[str, ProviderInfo] = {}
        for _, infos in collect_all(self.pm, "register_providers", {}, accept=accept).results:
            for info in infos:
                table.setdefault(info.name, info)
        return table

    def register_commands(self, cli: click.Group) -> Collected[None]:
        """Let every plugin add its commands to ``cli``; failures are isolated and reported."""
        return collect_all(self.pm, "register_commands", {"cli": cli})

    def list_models(self, provider: str, settings: ProviderSettings) -> ChainResult[list[ModelInfo]]:
        from .types import ModelInfo

        return first_result(
            self.pm, "list_models", {"provider": provider, "settings": settings}, accept=_list_of(ModelInfo)
        )

    def model_metadata(self, provider: str, offline: bool) -> Collected[list[ModelInfo]]:
        from .types import ModelInfo

        return collect_all(
            self.pm, "model_metadata", {"provider": provider, "offline": offline}, accept=_list_of(ModelInfo)
        )

    # -- tokens and errors -----------------------------------------------------------------
    def count_tokens(self, request: TokenCountRequest) -> ChainResult[TokenCount]:
        from .types import TokenCount

        return first_result(self.pm, "count_tokens", {"request": request}, accept=_as(TokenCount))

    def detect_overflow(
        self, error: BaseException, provider: str | None = None, model: str | None = None
    ) -> ChainResult[Overflow]:
        from .types import Overflow

        return first_result(
            self.pm,
            "detect_overflow",
            {"error": error, "provider": provider, "model": model},
            accept=_as(Overflow),
        )

    def classify_error(self, error: BaseException, provider: str | None = None) -> ChainResult[ErrorInfo]:
        from .types import ErrorInfo

        return first_result(
            self.pm, "classify_error", {"error": error, "provider": provider}, accept=_as(ErrorInfo)
        )

    # -- compression -----------------------------------------------------------------------
    def compress_stages(self) -> list[Implementation]:
        """The ``compress`` implementations in chain order; the compression host feeds each the
        previous output and re-checks the budget after every stage."""
        return implementations(self.pm, "compress")

    # -- provider calls --------------------------------------------------------------------
    async def complete(self, request: CompletionRequest, settings: ProviderSettings) -> CompletionResponse:
        """Run one call through the first plugin that serves ``request.provider``.

        Exceptions from the call itself (the SDK's) propagate unchanged for the retry loop.
        """
        from .types import CompletionResponse

        chosen = first_result(
            self.pm, "complete", {"request": request, "settings": settings}, accept=_awaitable
        )
        if chosen.value is None:
            raise self._nobody("complete", request.provider, chosen)
        awaitable: Awaitable[Any] = chosen.value
        return _as(CompletionResponse)(await awaitable)

    def stream(self, request: CompletionRequest, settings: ProviderSettings) -> AsyncIterator[StreamEvent]:
        chosen = first_result(
            self.pm, "stream", {"request": request, "settings": settings}, accept=_async_iterator
        )
        if chosen.value is None:
            raise self._nobody("stream", request.provider, chosen)
        return chosen.value  # type: ignore[no-any-return]

    # -- memory, embeddings, logs ----------------------------------------------------------
    def memory_store(self, url: str) -> MemoryStore:
        chosen = first_result(self.pm, "memory_store", {"url": url})
        if chosen.value is None:
            scheme = url.split(":", 1)[0] if ":" in url else url
            raise NoImplementationError(
                f"no installed plugin opens memory stores of scheme {scheme!r} ({url!r}); "
                "built in: sqlite:///PATH; for PostgreSQL: pip install massgen-plugins-postgres"
                + self._skipped_note(chosen)
            )
        return chosen.value  # type: ignore[no-any-return]

    def embed(self, texts: list[str], model: str | None = None) -> list[list[float]] | None:
        return first_result(self.pm, "embed", {"texts": texts, "model": model}).value

    async def analyze_logs(self, request: AnalysisRequest) -> Collected[AnalysisResult]:
        from .types import AnalysisResult

        return await acollect_all(self.pm, "analyze_logs", {"request": request}, accept=_as(AnalysisResult))

    # -- helpers ---------------------------------------------------------------------------
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
        self.hooks = Hooks(pm)
        self._providers: dict[str, ProviderInfo] | None = None

    def providers(self) -> dict[str, ProviderInfo]:
        """Installed providers by name (computed once, then cached)."""
        if self._providers is None:
            self._providers = self.hooks.register_providers()
        return self._providers


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
