"""pytest plugin (``pytest11`` entry point ``massgen_plugins``): fixtures for testing plugins
against the provider emulator.

- ``emulator`` (session): one running :class:`~massgen_plugins.testing.Emulator` for the session.
- ``emu`` (function): the same server, ``clear()``-ed before and after the test (faults, request
  log and catalogue reset; pending hangs released).
- ``emulator_env`` (function): ``emu`` plus every ``<PROVIDER>_BASE_URL`` / ``<PROVIDER>_API_KEY``
  pointed at it and ``MASSGEN_PLUGINS_HOME`` set to a fresh temporary directory.

The module imports nothing heavy at collection time; the server starts on first use.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from massgen_plugins.testing import Emulator

#: Variables that would make an SDK bypass the emulator or pick another key.
_SHADOWING_ENV = ("GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL", "GOOGLE_GENAI_USE_VERTEXAI", "OPENAI_ORG_ID",
                  "OPENAI_PROJECT_ID", "ANTHROPIC_AUTH_TOKEN")


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """A running provider emulator shared by the whole test session."""
    from massgen_plugins.testing import Emulator

    with Emulator() as running:
        yield running


@pytest.fixture
def emu(emulator: Emulator) -> Iterator[Emulator]:
    """The session's emulator with a clean slate: no faults, empty request log, default catalogue."""
    emulator.clear()
    yield emulator
    emulator.clear()


@pytest.fixture
def emulator_env(emu: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Emulator:
    """``emu`` with every provider's ``<P>_BASE_URL``/``<P>_API_KEY`` pointing at it and
    ``MASSGEN_PLUGINS_HOME`` set to a fresh temporary directory."""
    for name in _SHADOWING_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in emu.env().items():
        monkeypatch.setenv(name, value)
    home = tmp_path_factory.mktemp("massgen-home")
    monkeypatch.setenv("MASSGEN_PLUGINS_HOME", str(home))
    monkeypatch.setenv("MASSGEN_PLUGINS_CACHE_DIR", str(home / "cache"))  # per test, not the emulator's shared one
    return emu
