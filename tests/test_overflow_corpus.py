"""Overflow detection on real errors people pasted into public issues, raised the way they met them.

Every row of ``bench/data/overflow_corpus.jsonl`` (the rules were written from it) and of
``bench/data/overflow_holdout.jsonl`` (a hold-out from other sources; each row cites its source) is
raised through its client -- the official openai / anthropic / google-genai / groq SDK or httpx against the emulator,
which answers with the row's status and body, or a plain exception carrying the pasted text -- and
classified by ``massgen_plugins.detect_overflow`` with every installed plugin loaded. Overflows must
be found with the counts their text states; rate limits, quotas, output caps, payload limits,
overload and auth errors must never be flagged.
"""

from __future__ import annotations

from pathlib import Path

import massgen_plugins
import pytest
from massgen_plugins.manager import reset_host
from massgen_plugins.testing import Fault
from massgen_plugins.testing.error_corpus import fault_for, load, raise_row

pytestmark = pytest.mark.plugins("openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter")  # drives provider plugins end to end

ROOT = Path(__file__).resolve().parents[1]
CORPUS = load(ROOT / "bench" / "data" / "overflow_corpus.jsonl")
HOLDOUT = load(ROOT / "bench" / "data" / "overflow_holdout.jsonl")
ROWS = CORPUS + HOLDOUT
BUILTIN = {"openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter"}


@pytest.fixture
def all_plugins(monkeypatch):
    monkeypatch.delenv("MASSGEN_PLUGINS_LOAD", raising=False)
    reset_host()
    yield
    reset_host()


def _raise(emu, row):
    emu.clear()
    fault = fault_for(row)
    if fault is not None:
        emu.inject(Fault(**fault))
    urls = {p: emu.base_url(p) for p in ("openai", "anthropic", "gemini", "groq")}
    error = raise_row(row, urls)
    assert error is not None, f"{row['id']}: the {row['client']} call did not fail"
    return error


def test_the_corpus_is_broad_and_cited():
    providers = {row["provider"] for row in CORPUS}
    negatives = [row for row in CORPUS if row["label"] != "overflow"]
    assert len(CORPUS) >= 150 and len(providers) >= 20
    assert len(negatives) >= len(CORPUS) // 4
    assert {row["label"] for row in negatives} >= {"rate_limit", "tpm_too_large", "quota", "output_cap", "payload",
                                                   "auth", "overloaded"}
    assert all(row["source"].startswith("https://github.com/") for row in ROWS)
    assert len({row["id"] for row in ROWS}) == len(ROWS)


def test_the_holdout_shares_no_source_with_the_corpus():
    assert len(HOLDOUT) >= 60
    assert sum(1 for row in HOLDOUT if row["label"] != "overflow") >= len(HOLDOUT) // 3
    assert not {row["source"] for row in HOLDOUT} & {row["source"] for row in CORPUS}


@pytest.mark.parametrize("row", [r for r in ROWS if r["label"] == "overflow"], ids=lambda r: r["id"])
def test_real_overflow_is_detected_with_its_counts(emu, all_plugins, row):
    error = _raise(emu, row)
    model = f"{row['provider']}/corpus-model" if row["provider"] in BUILTIN else None
    found = massgen_plugins.detect_overflow(error, model=model)
    assert found is not None, f"{row['id']} ({row['source']}) not detected: {error!r}"[:600]
    if row.get("limit") is not None:
        assert found.limit == row["limit"], found.matched_by
    if row.get("requested") is not None:
        assert found.requested == row["requested"], found.matched_by


@pytest.mark.parametrize("row", [r for r in ROWS if r["label"] != "overflow"], ids=lambda r: r["id"])
def test_real_non_overflow_is_never_flagged(emu, all_plugins, row):
    error = _raise(emu, row)
    model = f"{row['provider']}/corpus-model" if row["provider"] in BUILTIN else None
    found = massgen_plugins.detect_overflow(error, model=model)
    assert found is None, f"{row['id']} ({row['label']}, {row['source']}) flagged by {found.matched_by}"
