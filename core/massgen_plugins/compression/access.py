"""How a compression stage that calls a model (the summarizer) reaches it: with whose
credentials and under which retry policy.

A guarded session runs the chain inside :func:`summarizer_access`, so the summarizer uses the
session's keys (``Session(api_keys=...)``, not only the environment) and the session's
:class:`~massgen_plugins.guard.retry.RetryPolicy`. Outside a session (``massgen-plugins
compress``), settings come from the environment and the default policy applies. The access is
carried by a context variable, so it follows the chain into tasks and worker threads and never
travels in the strategy options, which are logged.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..guard.retry import RetryPolicy
    from ..types import ProviderSettings

SettingsFor = Callable[[str], "ProviderSettings"]


@dataclass(frozen=True)
class ModelAccess:
    """Credentials (settings per model string) and the retry policy for calls a stage makes."""

    settings: SettingsFor
    retry: RetryPolicy


_ACCESS: contextvars.ContextVar[ModelAccess | None] = contextvars.ContextVar("massgen_model_access", default=None)


def _from_environment(model: str) -> ProviderSettings:
    from ..modelref import parse_model
    from ..providers import resolve_settings

    return resolve_settings(parse_model(model).provider)  # raises MissingCredentialsError / UnknownProvider


def current_access() -> ModelAccess:
    """The access set by the enclosing :func:`summarizer_access`, else the environment's keys
    and the default retry policy."""
    from ..guard.retry import RetryPolicy

    return _ACCESS.get() or ModelAccess(_from_environment, RetryPolicy())


@contextlib.contextmanager
def summarizer_access(settings: SettingsFor, retry: RetryPolicy) -> Iterator[None]:
    """Within this block, stages call models with ``settings(model)`` under ``retry``."""
    token = _ACCESS.set(ModelAccess(settings, retry))
    try:
        yield
    finally:
        _ACCESS.reset(token)
