"""The shared memory store suite against the built-in SQLite backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest
from massgen_plugins.testing.memory_suite import MemoryStoreSuite


class TestSQLiteStore(MemoryStoreSuite):
    @pytest.fixture
    def new_url(self, tmp_path: Path) -> Callable[..., str]:
        counter = iter(range(1_000_000))

        def make(**params: object) -> str:
            query = f"?{urlencode(params)}" if params else ""
            return f"sqlite:///{tmp_path}/store-{next(counter)}.db{query}"

        return make
