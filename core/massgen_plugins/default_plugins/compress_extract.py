"""Built-in compression stage 4, *extract*: offline, deterministic condensation of the older turns
(instructions, constraints, decisions, identifiers, numbers, paths, errors kept verbatim). Logic:
:mod:`massgen_plugins.compression.extract`.

A third-party stage declared with ``@compression_stage("extract")`` replaces this one.
"""

from __future__ import annotations

from typing import Any

from massgen_plugins.hookspecs import hookimpl
from massgen_plugins.stages import compression_stage


@hookimpl
@compression_stage("extract")
def compress(request: Any) -> Any:
    from massgen_plugins.compression.extract import run

    return run(request)
