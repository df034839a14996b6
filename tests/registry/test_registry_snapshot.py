"""The bundled snapshot (content, packaging, regeneration) and the pure helpers around it."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from massgen_plugins.errors import InputError
from massgen_plugins.registry import config
from massgen_plugins.registry.filter import derive_kind
from massgen_plugins.registry.merge import MetadataIndex, base_id, normalize_id
from massgen_plugins.registry.snapshot import (
    SCHEMA_VERSION,
    build_snapshot,
    bundled_entries,
    load_snapshot,
    snapshot_path,
)
from massgen_plugins.types import ModelInfo

SEVEN = {"openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter"}
ROOT = Path(__file__).resolve().parents[2]


def test_snapshot_is_versioned_dated_and_covers_the_seven_providers():
    data = load_snapshot()
    assert data["schema_version"] == SCHEMA_VERSION
    dt.date.fromisoformat(data["generated_at"])
    assert set(data["providers"]) >= SEVEN
    for provider in SEVEN:
        entries = bundled_entries(provider)
        chat = [e for e in entries if e.get("kind", "chat") == "chat"]
        assert len(chat) >= 5, provider
        for entry in chat:
            assert isinstance(entry["context_window"], int) and entry["context_window"] >= 8_000, entry
            assert entry.get("max_output_tokens") is None or 0 < entry["max_output_tokens"] <= entry["context_window"]
            for price in ("input_price_per_mtok", "output_price_per_mtok"):
                assert entry.get(price) is None or 0 <= entry[price] < 1000, entry
            assert entry["tokenizer"], entry  # the provider default fills it in
        assert len({e["id"] for e in entries}) == len(entries), provider


def test_the_wheel_ships_the_snapshot(tmp_path):
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
                   cwd=ROOT, check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("massgen_plugins-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = json.loads(archive.read("massgen_plugins/data/models_snapshot.json"))
        names = archive.namelist()
    assert shipped == json.loads(snapshot_path().read_text())
    assert "massgen_plugins/default_plugins/models_bundled.py" in names
    assert "massgen_plugins/default_plugins/models_openrouter.py" in names


def test_build_snapshot_adds_live_models_and_keeps_curated_ones():
    previous = {"schema_version": 1, "generated_at": "2020-01-01", "units": {},
                "providers": {"groq": {"tokenizer": "estimate", "models": [
                    {"id": "old-model", "context_window": 8192},
                    {"id": "llama-x", "context_window": 1000, "input_price_per_mtok": 0.5}]},
                              "xai": {"models": [{"id": "grok-keep", "context_window": 5}]}}}
    live = [ModelInfo(provider="groq", id="llama-x", context_window=131_072, max_output_tokens=4096,
                      tokenizer="estimate", kind="chat"),
            ModelInfo(provider="groq", id="new-model", context_window=32_768),
            ModelInfo(provider="groq", id="no-window")]
    new = build_snapshot({"groq": live}, previous=previous, today="2026-11-21")
    assert new["generated_at"] == "2026-11-21" and new["schema_version"] == SCHEMA_VERSION
    groq = {e["id"]: e for e in new["providers"]["groq"]["models"]}
    assert set(groq) == {"old-model", "llama-x", "new-model"}  # no window and unknown: not added
    assert groq["llama-x"] == {"id": "llama-x", "context_window": 131_072, "max_output_tokens": 4096,
                               "input_price_per_mtok": 0.5}  # live wins, curated price kept, defaults elided
    assert new["providers"]["xai"] == previous["providers"]["xai"]  # not refreshed: untouched


@pytest.mark.parametrize("model_id, kind", [
    ("gpt-4o", "chat"), ("claude-haiku-4-5", "chat"), ("gemini-2.5-flash", "chat"), ("grok-2-vision-1212", "chat"),
    ("meta-llama/llama-4-scout-17b-16e-instruct", "chat"), ("qwen/qwen3-32b", "chat"),
    ("text-embedding-3-small", "embedding"), ("gemini-embedding-001", "embedding"), ("BAAI/bge-en-icl", "embedding"),
    ("tts-1", "tts"), ("gpt-4o-mini-tts", "tts"), ("playai-tts", "tts"),
    ("whisper-1", "transcription"), ("gpt-4o-transcribe", "transcription"),
    ("omni-moderation-latest", "moderation"), ("meta-llama/llama-guard-4-12b", "moderation"),
    ("dall-e-3", "image"), ("gpt-image-1", "image"), ("imagen-4.0-generate-001", "image"),
    ("grok-2-image-1212", "image"), ("gemini-2.5-flash-image", "image"),
    ("gpt-4o-realtime-preview", "audio"), ("davinci-002", "completion"),
])
def test_kind_from_id(model_id, kind):
    assert derive_kind(model_id) == kind


def test_id_matching_ladder():
    assert normalize_id("models/Gemini-2.5-Flash") == "gemini-2-5-flash"
    assert normalize_id("claude-sonnet-4.5") == normalize_id("claude-sonnet-4-5")
    assert base_id("claude-sonnet-4-5-20250929") == "claude-sonnet-4-5"
    assert base_id("gpt-4o-2024-08-06") == "gpt-4o"
    assert base_id("gemini-2.0-flash-001") == "gemini-2-0-flash"
    index = MetadataIndex([("x.models_bundled", [ModelInfo(provider="p", id="claude-sonnet-4-5", context_window=1)]),
                           ("third", [ModelInfo(provider="p", id="claude-sonnet-4.5", context_window=2)])])
    assert index.find("claude-sonnet-4-5") == [0]  # exact first
    assert index.find("Claude-Sonnet-4.5") == [0, 1]  # then normalised
    assert index.find("claude-sonnet-4-5-20250929") == [0, 1]  # then by base id
    assert index.origin(0, "context_window") == "bundled" and index.origin(1, "context_window") == "third-party"


@pytest.mark.parametrize("text, seconds", [("90", 90), ("90s", 90), ("30m", 1800), ("12h", 43_200),
                                           ("7d", 604_800), ("0.5h", 1800)])
def test_durations(text, seconds):
    assert config.parse_duration(text) == seconds


def test_bad_ttl_is_an_input_error(monkeypatch):
    monkeypatch.setenv("MASSGEN_PLUGINS_MODELS_TTL", "soon")
    with pytest.raises(InputError, match="MASSGEN_PLUGINS_MODELS_TTL"):
        config.ttl()
    monkeypatch.setenv("MASSGEN_PLUGINS_MODELS_TTL", "2h")
    assert config.ttl() == 7200 and config.ttl(5) == 5
