"""The ``massgen-plugins`` command line.

Subcommands live in their own modules and are imported only when invoked (a lazy click group),
so ``massgen-plugins list`` never pays for the registry, the compression chain or an SDK.

Exit codes: 0 ok, 1 failure, 2 bad input or usage. Errors are one line on stderr; ``--debug``
(before or after the subcommand) shows the traceback.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any

import click

from .._version import __version__

# name -> "module:attribute"; a command module is imported only when its command runs
COMMANDS: dict[str, str] = {
    "list": "massgen_plugins.cli.list_cmd:list_command",
    "memory": "massgen_plugins.cli.memory_cmd:memory_group",
    "check": "massgen_plugins.cli.check_cmd:check_group",
    "demo": "massgen_plugins.cli.demo_cmd:demo_command",
    "logs": "massgen_plugins.cli.logs_cmd:logs_group",
    "models": "massgen_plugins.cli.models_cmd:models_command",
    "tokens": "massgen_plugins.cli.tokens_cmd:tokens_command",
    "compress": "massgen_plugins.cli.compress_cmd:compress_command",
    "emulate": "massgen_plugins.cli.emulate_cmd:emulate_command",
    "explore": "massgen_plugins.cli.explore_cmd:explore_command",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on demand, with one error policy."""

    _plugins_loaded = False

    def _plugin_commands(self) -> None:
        """Let plugins add their commands (``register_commands`` hook), once per process.

        Only names that are not built in are looked up here, so built-in commands never load
        plugins, and a plugin cannot replace a built-in command.
        """
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        from ..manager import get_hooks

        result = get_hooks().register_commands(self)
        for name in [n for n in self.commands if n in COMMANDS]:
            del self.commands[name]
        for attempt in result.attempts:
            if attempt.status == "error":
                click.echo(f"Warning: plugin {attempt.plugin} could not add its commands: {attempt.error}", err=True)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._plugin_commands()
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            self._plugin_commands()
            found = self.commands.get(cmd_name)
            if found is not None:
                _accept_debug(found)
            return found
        module, attr = target.split(":")
        command: click.Command = getattr(import_module(module), attr)
        _accept_debug(command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        from ..errors import MassgenError

        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except MassgenError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            from ..redact import redact

            fail(f"unexpected {type(exc).__name__}: {redact(str(exc))} (run with --debug for the traceback)", 1)


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        root = ctx.find_root()
        root.ensure_object(dict)
        root.obj["debug"] = True


def _accept_debug(command: click.Command) -> None:
    """Let ``--debug`` follow the subcommand too (``massgen-plugins tokens f.json --debug``)."""
    if any(p.name == "debug" for p in command.params):
        return
    command.params.append(click.Option(["--debug"], is_flag=True, expose_value=False, is_eager=True,
                                       callback=_set_debug, help="Show tracebacks for errors."))
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _accept_debug(sub)


def fail(message: str, code: int) -> None:
    """Print ``message`` as one error line and exit with ``code``."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="massgen-plugins")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Keep multi-agent LLM systems alive on long runs: models, overflow, compression,
    memory and run analysis, through installable provider plugins."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main() -> None:
    cli(prog_name="massgen-plugins")
