"""Shared helpers for the run-log tests."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "examples" / "run_logs"
OUR_SAMPLE = SAMPLES / "run_20260110_150000_a1b2c3"
MASSGEN_SAMPLE = SAMPLES / "massgen" / "log_20260110_143052_123456"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private MASSGEN_PLUGINS_HOME and no configured analysis model."""
    monkeypatch.setenv("MASSGEN_PLUGINS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MASSGEN_LOG_ANALYSIS_MODEL", raising=False)
    return tmp_path / "home"


class Clock:
    """A pinned wall clock (epoch seconds) the tests advance by hand."""

    def __init__(self, start: float = 1_768_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds
