"""Merge a provider's own list with metadata from other sources, field by field.

Precedence per field: the provider **API** first, then the **bundled** snapshot, then
**third-party** catalogues (OpenRouter's public list, ...). Every field that ends up set records
where it came from in ``ModelInfo.provenance``:

``api``           the provider's list endpoint (fetched now or earlier and cached)
``bundled``       the snapshot shipped in the core (``massgen_plugins/data/models_snapshot.json``)
``third-party``   a public catalogue plugin
``plugin``        the provider plugin's declared default (``ProviderInfo.tokenizer``)
``derived``       computed from the id (``kind``/``chat`` by the patterns in :mod:`.filter`)

A model the API lists that no source describes is kept, with ``context_window=None`` and
``unknown_window=True``.

Metadata is matched to listed ids exactly first, then after normalisation (case, ``models/``
prefix, ``.``/``_`` vs ``-``), then with a release suffix removed (``-20250929``,
``-2024-08-06``, ``-001``, ``-latest``), so a dated id the API lists picks up the data of its
alias and vice versa.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .filter import derive_kind

if TYPE_CHECKING:
    from ..types import ModelInfo

FIELDS = ("display_name", "context_window", "max_output_tokens", "input_price_per_mtok",
          "output_price_per_mtok", "tokenizer", "kind", "chat", "created", "deprecated")
RANK = {"api": 0, "bundled": 1, "third-party": 2}
BUNDLED_PLUGIN_SUFFIX = "models_bundled"

_SUFFIX = re.compile(r"(-\d{8}|-\d{4}-\d{2}-\d{2}|-\d{3,4}|-latest)$")


def normalize_id(model_id: str) -> str:
    """Case- and punctuation-insensitive form of a model id."""
    text = model_id.strip().lower()
    if text.startswith("models/"):
        text = text[len("models/"):]
    return re.sub(r"[._:\s]+", "-", text)


def base_id(model_id: str) -> str:
    """:func:`normalize_id` without a trailing release date/version/``-latest`` suffix."""
    text = normalize_id(model_id)
    stripped = _SUFFIX.sub("", text)
    return stripped or text


def default_origin(plugin_name: str) -> str:
    """The provenance assumed for a metadata plugin's fields when it did not set one."""
    return "bundled" if plugin_name.endswith(BUNDLED_PLUGIN_SUFFIX) else "third-party"


class MetadataIndex:
    """Metadata entries of one provider from every source, findable by id."""

    def __init__(self, sources: Iterable[tuple[str, list[ModelInfo]]]) -> None:
        self.entries: list[tuple[ModelInfo, str]] = []  # (entry, default origin)
        self._exact: dict[str, list[int]] = {}
        self._norm: dict[str, list[int]] = {}
        self._base: dict[str, list[int]] = {}
        for plugin, models in sources:
            origin = default_origin(plugin)
            for model in models:
                i = len(self.entries)
                self.entries.append((model, origin))
                self._exact.setdefault(model.id, []).append(i)
                self._norm.setdefault(normalize_id(model.id), []).append(i)
                self._base.setdefault(base_id(model.id), []).append(i)

    def origin(self, index: int, field: str) -> str:
        entry, default = self.entries[index]
        return entry.provenance.get(field, default)

    def find(self, model_id: str) -> list[int]:
        """Indexes of entries describing ``model_id``: exact matches, else normalised, else by base id."""
        for table, key in ((self._exact, model_id), (self._norm, normalize_id(model_id)),
                           (self._base, base_id(model_id))):
            hits = table.get(key)
            if hits:
                return hits
        return []

    def of_origin(self, origin: str) -> list[ModelInfo]:
        """The entries whose default origin is ``origin`` (e.g. every bundled model)."""
        return [m for m, o in self.entries if o == origin]


def enrich(model: ModelInfo, index: MetadataIndex, *, provider_tokenizer: str | None = None) -> ModelInfo:
    """Fill ``model``'s missing fields from ``index`` by precedence; set provenance and flags.

    Fields the model already has keep their provenance, defaulting to ``api``.
    """
    provenance = dict(model.provenance)
    values = {}
    for field in FIELDS:
        value = getattr(model, field)
        if value is not None:
            provenance.setdefault(field, "api")
            values[field] = value
    hits = index.find(model.id)
    for field in FIELDS:
        have = values.get(field)
        have_rank = RANK.get(provenance.get(field, ""), 3) if have is not None else 99
        for i in hits:
            value = getattr(index.entries[i][0], field)
            if value is None:
                continue
            origin = index.origin(i, field)
            rank = RANK.get(origin, 3)
            if rank < have_rank:
                values[field], provenance[field], have_rank = value, origin, rank
    if values.get("kind") is None:
        values["kind"], provenance["kind"] = derive_kind(model.id), "derived"
    if values.get("chat") is None:
        values["chat"], provenance["chat"] = values["kind"] == "chat", "derived"
    if values.get("tokenizer") is None and provider_tokenizer:
        values["tokenizer"], provenance["tokenizer"] = provider_tokenizer, "plugin"
    for field, value in values.items():
        setattr(model, field, value)
    model.provenance = {k: v for k, v in provenance.items() if getattr(model, k, None) is not None}
    model.unknown_window = model.context_window is None
    return model


def merge(provider: str, listed: list[ModelInfo] | None, index: MetadataIndex, *,
          source: str, fetched_at: float | None = None, stale: bool = False,
          provider_tokenizer: str | None = None) -> list[ModelInfo]:
    """The provider's models, enriched from ``index``.

    :param listed: the provider's own list (fetched or cached); ``None`` when there is none, in
        which case the bundled entries are the list (``source='bundled'``).
    """
    if listed is None:
        base = [m.model_copy(deep=True) for m in index.of_origin("bundled")]
        for m in base:  # bundled entries describe themselves: their fields are bundled, not api
            m.provenance = {f: m.provenance.get(f, "bundled") for f in FIELDS if getattr(m, f) is not None}
    else:
        base = [m.model_copy(deep=True) for m in listed]
    out: list[ModelInfo] = []
    seen: set[str] = set()
    for model in base:
        if model.id in seen:
            continue
        seen.add(model.id)
        model.provider = provider
        enrich(model, index, provider_tokenizer=provider_tokenizer)
        model.source, model.fetched_at, model.stale = source, fetched_at, stale
        out.append(model)
    return out
