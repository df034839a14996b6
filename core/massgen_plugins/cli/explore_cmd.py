"""``massgen-plugins explore``: the explorer web app over run logs and memory stores."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("explore")
@click.option("--runs-dir", "runs_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="A directory of runs (ours or MassGen's), or one run; repeatable. "
                   "Default: <MASSGEN_PLUGINS_HOME>/runs and MassGen's log directories.")
@click.option("--store", "stores", multiple=True, metavar="URL",
              help="A memory store to browse (sqlite:///PATH, postgresql://...); repeatable. "
                   "The default store and the stores runs wrote to are always offered.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port (0: any free one).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser tab.")
def explore_command(runs_dirs: tuple[Path, ...], stores: tuple[str, ...], host: str, port: int, no_browser: bool) -> None:
    """Browse runs, their timelines, compressions (as diffs) and memory in a local web app,
    live while runs are written. JSON API under /api (see docs/explorer.md)."""
    import threading
    import webbrowser

    from ..errors import InputError
    from ..explorer.app import create_app
    from ..explorer.index import default_run_dirs
    from ..web import serve

    missing = [str(d) for d in runs_dirs if not d.exists()]
    if missing:
        raise InputError(f"--runs-dir {', '.join(missing)} does not exist")
    dirs = list(runs_dirs) or default_run_dirs()
    loopback = host in ("127.0.0.1", "localhost", "::1")
    if port == 0:  # pick the free port now, so the URL printed is the one served
        import socket

        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
    app = create_app(dirs, stores, hosts=() if loopback else ["*"])
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}/"
    click.echo(f"explorer: {url}  (runs: {', '.join(str(d) for d in dirs)}; Ctrl-C to stop)")
    if not loopback:
        click.echo(f"Warning: listening on {host}: anyone who can reach it can read your runs and memory.", err=True)
    if not no_browser:
        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    serve(app, host=host, port=port)
