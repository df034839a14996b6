"""``massgen-plugins emulate``: run the provider emulator standalone until Ctrl-C."""

from __future__ import annotations

import json
import signal
import sys
from typing import Any

import click


@click.command("emulate")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port to listen on (0 picks a free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--json", "as_json", is_flag=True, help="Print the URLs and variables as one JSON line.")
def emulate_command(port: int, host: str, as_json: bool) -> None:
    """Serve fake OpenAI, Anthropic, Gemini, Groq, xAI, Nebius and OpenRouter APIs locally.

    Prints each provider's base URL and the `export` lines that point the official SDKs (and the
    massgen-plugins provider plugins) at it, then serves until interrupted.
    """
    from ..errors import InputError
    from ..testing import PROVIDERS, Emulator

    emu = Emulator(host=host, port=port)
    try:
        emu.start()
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
                         "pick another port with --port (0 picks a free one)") from None
    env = emu.env()
    if as_json:
        payload: dict[str, Any] = {"url": emu.url, "base_urls": {p: emu.base_url(p) for p in PROVIDERS}, "env": env}
        click.echo(json.dumps(payload))
    else:
        from .output import Column, print_table

        click.echo(f"massgen-plugins emulator listening on {emu.url}")
        print_table(None, [Column("provider", "id"), Column("base URL", "id")], [(p, emu.base_url(p)) for p in PROVIDERS])
        click.echo("")
        click.echo("# point the SDKs and the provider plugins at the emulator:")
        for name, value in env.items():
            click.echo(f"export {name}={value}")
        click.echo("")
        click.echo("Press Ctrl-C to stop.")
    sys.stdout.flush()

    def _terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        emu.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
    if not as_json:
        click.echo("emulator stopped", err=True)
