"""``massgen-plugins check compression``: a live end-to-end check of overflow handling."""

from __future__ import annotations

import asyncio
import contextlib
import os

import click

from .output import Column, emit_json, print_table


@click.group("check")
def check_group() -> None:
    """Live checks against real providers (or the bundled emulator)."""


@check_group.command("compression")
@click.option("--backend", "backends", multiple=True, metavar="B",
              help="Provider to check (repeatable; default: every one with a key set).")
@click.option("--model", default=None, help="Model to fill (default: the backend's default).")
@click.option("--fill-ratio", type=click.FloatRange(0.1, 10.0), default=None,
              help="Fill the context to this share of the window before the last turn.")
@click.option("--window", type=click.IntRange(min=256), default=None, help="Override the model's window.")
@click.option("--mode", type=click.Choice(["reactive", "proactive"]), default="reactive", show_default=True,
              help="reactive: let the provider reject the call; proactive: count and compress first.")
@click.option("--list-backends", is_flag=True, help="List the backends, their defaults and key status.")
@click.option("--emulator", "use_emulator", is_flag=True,
              help="Run against the bundled provider emulator (offline; small-window models).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def compression_command(backends: tuple[str, ...], model: str | None, fill_ratio: float | None,
                        window: int | None, mode: str, list_backends: bool, use_emulator: bool,
                        as_json: bool) -> None:
    """Fill a model's context to a ratio of its window, then show detection → compression → success."""
    from ..errors import InputError
    from ..guard.check import BACKENDS, EMULATOR_MODELS, backend_status, check_compression

    with _maybe_emulator(use_emulator) as emu:
        if list_backends:
            rows = backend_status()
            if as_json:
                emit_json(rows)
            else:
                print_table("compression check backends",
                            [Column("backend", "id"), Column("default model", "id"), Column("fill", "num"),
                             Column("status")],
                            [(r["backend"], r["model"], r["fill_ratio"],
                              "not installed" if not r["installed"] else "ready" if r["key"] else
                              f"needs {r['key_env']}") for r in rows])
            return
        from ..configured import get as configured

        unknown = [b for b in backends if b not in BACKENDS and configured(b) is None]
        if unknown:
            raise InputError(f"unknown backend {', '.join(unknown)}; backends: {', '.join(BACKENDS)}")
        status = {r["backend"]: r for r in backend_status()}
        chosen = list(backends) or [b for b, r in status.items() if r["installed"] and r["key"]]
        if not chosen:
            raise InputError("no backend has an API key set; pass --backend B with its key exported, "
                             "or --emulator to check offline")
        for name in chosen:
            if configured(name) is not None:  # an endpoint from config.toml: no default model to pick
                if not model:
                    raise InputError(f"backend {name!r} is a configured provider: pass --model {name}/<model id> "
                                     f"(list them with: massgen-plugins models --provider {name})")
                continue
            if not status[name]["installed"]:
                raise InputError(f"backend {name!r} has no plugin installed: pip install massgen-plugins-{name}")
            if not status[name]["key"]:
                raise InputError(f"backend {name!r} needs {status[name]['key_env']} to be set")
        if model and len(chosen) > 1:
            raise InputError("--model applies to one backend; pass a single --backend with it")

        async def run_all():
            out = []
            for name in chosen:
                target, size, ratio = model, window, fill_ratio
                if emu is not None:  # the emulator's own small models; its catalogue knows their windows
                    target = target or EMULATOR_MODELS[name]
                    model_id = target.split("/", 1)[1]
                    size = size or next((m.context_window for m in emu.models(name) if m.id == model_id), None)
                    ratio = ratio or 1.3
                out.append(await check_compression(name, model=target, fill_ratio=ratio, window=size, mode=mode))
            return out

        results = asyncio.run(run_all())
    if as_json:
        emit_json([r.to_dict() for r in results])
    else:
        print_table(f"compression check ({mode})",
                    [Column("backend", "id"), Column("model", "id"), Column("window", "num"),
                     Column("filled → after"), Column("what happened"), Column("s", "num"),
                     Column("result", "note")],
                    [(r.backend, r.model, _n(r.window), f"{_n(r.filled_tokens)} → {_n(r.tokens_after)}",
                      f"{r.detection}: {' → '.join(r.stages) or 'no compression'}", f"{r.seconds:.1f}",
                      "ok" if r.ok else f"FAILED: {r.error}") for r in results])
    if not all(r.ok for r in results):
        raise SystemExit(1)


def _n(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


@contextlib.contextmanager
def _maybe_emulator(enabled: bool):
    if not enabled:
        yield None
        return
    from ..manager import reset_host
    from ..testing import Emulator

    saved = dict(os.environ)
    with Emulator() as emu:
        os.environ.update(emu.env())
        reset_host()
        try:
            yield emu
        finally:
            os.environ.clear()
            os.environ.update(saved)
