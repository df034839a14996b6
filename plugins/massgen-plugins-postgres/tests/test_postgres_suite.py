"""The shared memory store suite (the same one SQLite passes) against a real PostgreSQL."""

from __future__ import annotations

from massgen_plugins.testing.memory_suite import MemoryStoreSuite


class TestPostgresStore(MemoryStoreSuite):
    """``new_url`` comes from conftest.py: a fresh schema on a real server per store."""
