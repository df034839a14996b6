"""Ordering and naming for ``compress`` implementations (compression stages).

pluggy orders implementations only by registration and ``tryfirst``/``trylast``; a compression
chain needs a stable, documented order that a third-party stage can slot into. A ``compress``
implementation may therefore declare a stage name and an order with :func:`compression_stage`:

.. code-block:: python

    from massgen_plugins import hookimpl
    from massgen_plugins.stages import compression_stage

    @hookimpl
    @compression_stage("dedupe", order=150)   # between mask (100) and native (200)
    def compress(request): ...

The built-in stages use :data:`BUILTIN_ORDER`. A stage with the same name as a built-in one
*replaces* it (the plugin's implementation is called first and the host keeps only the first
implementation of each name). Undeclared implementations get the plugin name as stage name and
order :data:`DEFAULT_ORDER` (after masking, before any model-backed stage).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

BUILTIN_ORDER: dict[str, int] = {
    "mask": 100,
    "native": 200,
    "summarize": 300,
    "extract": 400,
    "truncate": 900,
}
DEFAULT_ORDER = 150

_NAME = "massgen_stage_name"
_ORDER = "massgen_stage_order"


def compression_stage(name: str, order: int | None = None) -> Callable[[F], F]:
    """Declare a ``compress`` implementation's stage name and its place in the chain."""
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"stage name {name!r} must be a short identifier like 'mask' or 'my-stage'")
    position = BUILTIN_ORDER.get(name, DEFAULT_ORDER) if order is None else order

    def mark(function: F) -> F:
        setattr(function, _NAME, name)
        setattr(function, _ORDER, position)
        return function

    return mark


def stage_meta(function: Callable[..., Any], plugin_name: str) -> tuple[str, int]:
    """``(stage name, order)`` declared on ``function``, or the defaults for ``plugin_name``."""
    name = getattr(function, _NAME, None) or plugin_name.rsplit(".", 1)[-1]
    return name, int(getattr(function, _ORDER, BUILTIN_ORDER.get(name, DEFAULT_ORDER)))
