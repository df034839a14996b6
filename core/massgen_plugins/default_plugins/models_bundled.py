"""Built-in model metadata from the snapshot shipped in the core (offline-safe).

Answers ``model_metadata`` with the bundled windows, output caps, prices and tokenizers of the
seven providers' main models (``massgen_plugins/data/models_snapshot.json``), every field marked
``provenance='bundled'``. Never touches the network.
"""

from __future__ import annotations

from typing import Any

from massgen_plugins.hookspecs import hookimpl


@hookimpl(trylast=True)
def model_metadata(provider: str, offline: bool) -> Any:
    from massgen_plugins.registry.snapshot import bundled_entries
    from massgen_plugins.types import ModelInfo

    entries = bundled_entries(provider)
    if not entries:
        return None
    out = []
    for entry in entries:
        model = ModelInfo(provider=provider, **entry)
        model.provenance = {k: "bundled" for k in entry if k != "id"}
        out.append(model)
    return out
