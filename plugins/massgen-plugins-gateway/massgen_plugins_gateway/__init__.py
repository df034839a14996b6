"""massgen-plugins-gateway: an OpenAI- and Anthropic-compatible server that guards any agent.

Adds ``massgen-plugins serve`` and ``massgen-plugins keys`` through the ``register_commands``
hook. Importing this module imports click only; Starlette, uvicorn and prometheus-client are
imported when a command runs.
"""

from __future__ import annotations

from typing import Any

from massgen_plugins import hookimpl

from ._version import __version__

__all__ = ["__version__", "register_commands"]


@hookimpl
def register_commands(cli: Any) -> None:
    from .cli import keys_group, serve_command

    cli.add_command(serve_command)
    cli.add_command(keys_group)
