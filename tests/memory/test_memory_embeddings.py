"""Optional embeddings: a plugin implementing the ``embed`` hook re-ranks search candidates."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from massgen_plugins import hookimpl
from massgen_plugins.manager import get_host
from massgen_plugins.memory import open_store
from massgen_plugins.memory.sqlite import sqlite_url
from massgen_plugins.memory.store import Scope


def _plugin() -> types.ModuleType:
    """A real embed plugin: 2-d vectors saying whether a text is about boats."""
    module = types.ModuleType("boat_embedder")

    @hookimpl
    def embed(texts: list[str], model: str | None) -> list[list[float]]:
        module.calls.append((len(texts), model))  # type: ignore[attr-defined]
        return [[1.0, 0.0] if ("boat" in t or "sail" in t) else [0.0, 1.0] for t in texts]

    module.embed = embed  # type: ignore[attr-defined]
    module.calls = []  # type: ignore[attr-defined]
    return module


@pytest.fixture
def embedder() -> Iterator[types.ModuleType]:
    plugin = _plugin()
    pm = get_host().pm
    sys.modules["boat_embedder"] = plugin
    pm.register(plugin, name="boat_embedder")
    try:
        yield plugin
    finally:
        pm.unregister(plugin)
        sys.modules.pop("boat_embedder", None)


def test_embed_hook_reranks_candidates(tmp_path: Path, embedder: types.ModuleType,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASSGEN_PLUGINS_EMBED_MODEL", "toy-2d")
    with open_store(sqlite_url(tmp_path / "e.db")) as store:
        store.add("vehicle vehicle vehicle: a red car with a vehicle licence", scope=Scope(user="a"))
        store.add("vehicle: a small boat", scope=Scope(user="a"))
        results = store.search("sail the vehicle", scope=Scope(user="a"), limit=2)
        assert results.reranked
        assert results.texts()[0] == "vehicle: a small boat"
        assert embedder.calls and embedder.calls[-1] == (3, "toy-2d")


def test_without_embed_plugins_search_is_full_text_only(tmp_path: Path) -> None:
    with open_store(sqlite_url(tmp_path / "e.db")) as store:
        assert store.embedder is None
        store.add("vehicle vehicle: a red car", scope=Scope(user="a"))
        store.add("vehicle: a small boat", scope=Scope(user="a"))
        results = store.search("sail the vehicle", scope=Scope(user="a"), limit=2)
        assert not results.reranked
        assert results.texts()[0] == "vehicle vehicle: a red car"
