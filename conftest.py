"""Project-wide test setup (core, plugins, examples): an isolated data home per test and the
cached tiktoken encodings from ../shared/tiktoken (tests still pass with the estimate when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_TIKTOKEN = Path(__file__).resolve().parents[1] / "shared" / "tiktoken"
if "TIKTOKEN_CACHE_DIR" not in os.environ and SHARED_TIKTOKEN.is_dir():
    os.environ["TIKTOKEN_CACHE_DIR"] = str(SHARED_TIKTOKEN)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Never read or write the real user data dir from a test."""
    monkeypatch.setenv("MASSGEN_PLUGINS_HOME", str(tmp_path_factory.mktemp("home")))
