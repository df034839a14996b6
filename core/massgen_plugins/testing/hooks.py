"""Registering plain functions as a plugin, for tests of a hook.

``register_functions(hooks, "acme", overflow_patterns=lambda: [...])`` registers, on the host's
plugin manager, a plugin named ``acme`` whose hook implementations are the given functions (each
keyword names the hook it implements) -- no module or class to write for a one-line implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..manager import Hooks


def register_functions(hooks: Hooks, name: str, **functions: Callable[..., Any]) -> None:
    """Register ``functions`` (keyword = the hook each implements) as one plugin called ``name``
    on ``hooks``'s plugin manager."""
    from .. import hookimpl

    namespace = type(name, (), {})
    for hook, function in functions.items():
        setattr(namespace, hook, staticmethod(hookimpl(specname=hook)(function)))
    hooks.pm.register(namespace, name=name)
