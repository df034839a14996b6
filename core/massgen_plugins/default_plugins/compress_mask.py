"""Built-in compression stage 1, *mask*: replace old, large tool results with a short stub naming the
archived original (no model call). Logic: :mod:`massgen_plugins.compression.mask`.

A third-party stage declared with ``@compression_stage("mask")`` replaces this one.
"""

from __future__ import annotations

from typing import Any

from massgen_plugins.hookspecs import hookimpl
from massgen_plugins.stages import compression_stage


@hookimpl
@compression_stage("mask")
def compress(request: Any) -> Any:
    from massgen_plugins.compression.mask import run

    return run(request)
