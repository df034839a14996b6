"""Built-in compression stage 3, *summarize*: an LLM summary of the older turns by a configurable
summarizer model (default: the conversation's own), chunked map-reduce when the text exceeds
the summarizer's window. Without a key or provider the stage raises and the chain records why.
Logic: :mod:`massgen_plugins.compression.summarize`.

A third-party stage declared with ``@compression_stage("summarize")`` replaces this one.
"""

from __future__ import annotations

from typing import Any

from massgen_plugins.hookspecs import hookimpl
from massgen_plugins.stages import compression_stage


@hookimpl
@compression_stage("summarize")
def compress(request: Any) -> Any:
    from massgen_plugins.compression.summarize import run

    return run(request)
