"""Built-in compression stage 5, *truncate*: middle-out truncation of the largest messages, then the
oldest whole turns -- the last resort. Logic: :mod:`massgen_plugins.compression.truncate`.

A third-party stage declared with ``@compression_stage("truncate")`` replaces this one.
"""

from __future__ import annotations

from typing import Any

from massgen_plugins.hookspecs import hookimpl
from massgen_plugins.stages import compression_stage


@hookimpl
@compression_stage("truncate")
def compress(request: Any) -> Any:
    from massgen_plugins.compression.truncate import run

    return run(request)
