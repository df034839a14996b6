"""``massgen-plugins serve`` and ``massgen-plugins keys`` (create, list, revoke)."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import click

STORE_HELP = ("Where keys, rate windows, spend and sessions live: postgresql://... (shared by several "
              "hosts) or sqlite:///PATH. Default: <MASSGEN_PLUGINS_HOME>/gateway.db.")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=4000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option("--store", "store", default=None, envvar="MASSGEN_GATEWAY_STORE", metavar="URL", help=STORE_HELP)
@click.option("--no-auth", is_flag=True, help="Accept requests without a key (local development only).")
def serve_command(host: str, port: int, workers: int, store: str | None, no_auth: bool) -> None:
    """Run the gateway: OpenAI Chat Completions and Anthropic Messages, every request guarded.

    Endpoints: POST /v1/chat/completions, POST /v1/messages, GET /v1/models, GET /health,
    GET /metrics. Clients authenticate with a key from `keys create` or the master key
    (MASSGEN_PLUGINS_MASTER_KEY). Routes, aliases and fallbacks: [gateway] in config.toml.
    """
    from massgen_plugins.web import serve

    from .app import ENV_NO_AUTH, ENV_STORE
    from .settings import load_settings
    from .store import open_gateway_store

    load_settings()  # a broken [gateway] table fails here, once, with the file and field
    open_gateway_store(store).close()  # an unreachable store fails before the port opens
    if store:
        os.environ[ENV_STORE] = store
    os.environ[ENV_NO_AUTH] = "1" if no_auth else "0"
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="massgen-gateway-metrics-")
    auth = "no key required" if no_auth else "keys required"
    click.echo(f"massgen-plugins gateway on http://{host}:{port} ({workers} worker(s), {auth})", err=True)
    serve("massgen_plugins_gateway.app:app_factory", host=host, port=port, workers=workers, factory=True)


def _store(url: str | None) -> Any:
    from .store import open_gateway_store

    return open_gateway_store(url)


@click.group("keys")
def keys_group() -> None:
    """Manage the gateway's virtual keys (shown once, stored hashed)."""


@keys_group.command("create")
@click.option("--name", required=True, help="Who or what the key is for.")
@click.option("--rpm", type=int, default=None, help="Requests per minute (default: unlimited).")
@click.option("--tpm", type=int, default=None, help="Tokens per minute, input + output (default: unlimited).")
@click.option("--max-tokens", type=int, default=None, help="Lifetime token budget (default: unlimited).")
@click.option("--models", default=None, metavar="GLOB", help="Allowed models, e.g. 'openai/*,fast' (default: all).")
@click.option("--store", default=None, envvar="MASSGEN_GATEWAY_STORE", metavar="URL", help=STORE_HELP)
@click.option("--json", "as_json", is_flag=True, help='Print {"id": ..., "key": ...}.')
def create_command(name: str, rpm: int | None, tpm: int | None, max_tokens: int | None, models: str | None,
                   store: str | None, as_json: bool) -> None:
    """Create a key. The key is printed once; only its hash is stored."""
    from massgen_plugins.cli.output import emit_json

    from .keys import create_key

    db = _store(store)
    try:
        record, key = create_key(db, name, rpm=rpm, tpm=tpm, max_tokens=max_tokens, models=models)
    finally:
        db.close()
    if as_json:
        emit_json({"id": record.id, "key": key})
        return
    click.echo(f"created {record.id} ({record.name})")
    click.echo(f"key: {key}")
    click.echo("This is the only time the key is shown; store it now.", err=True)


@keys_group.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
@click.option("--store", default=None, envvar="MASSGEN_GATEWAY_STORE", metavar="URL", help=STORE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_command(include_revoked: bool, store: str | None, as_json: bool) -> None:
    """List keys with their limits and spend (never the keys themselves)."""
    from massgen_plugins.cli.output import emit_json, print_table

    db = _store(store)
    try:
        rows = [(k, db.spend(k.id)) for k in db.keys(include_revoked=include_revoked)]
    finally:
        db.close()
    if as_json:
        emit_json([{**k.model_dump(), "spend": s.model_dump(exclude={"key_id"})} for k, s in rows])
        return
    if not rows:
        click.echo("No keys. Create one with: massgen-plugins keys create --name NAME")
        return

    def limits(k: Any) -> str:
        parts = [f"{k.rpm} rpm" if k.rpm else "", f"{k.tpm} tpm" if k.tpm else "",
                 f"{k.max_tokens} max" if k.max_tokens else ""]
        return ", ".join(p for p in parts if p) or "none"

    table = [(k.id, k.name, limits(k), k.models or "*", f"{s.tokens} (${s.cost_usd:.2f})",
              "revoked" if k.revoked else "active") for k, s in rows]
    print_table(None, ["id", "name", "limits", "models", "tokens used", "status"], table)


@keys_group.command("revoke")
@click.argument("key")
@click.option("--store", default=None, envvar="MASSGEN_GATEWAY_STORE", metavar="URL", help=STORE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def revoke_command(key: str, store: str | None, as_json: bool) -> None:
    """Revoke KEY (its id, or its name when unique). Gateways stop accepting it within 5 s."""
    from massgen_plugins.cli.output import emit_json

    from .keys import revoke_key

    db = _store(store)
    try:
        record = revoke_key(db, key)
    finally:
        db.close()
    if as_json:
        emit_json(record.model_dump())
    else:
        click.echo(f"revoked {record.id} ({record.name})")
