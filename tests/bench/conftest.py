"""The benchmarks' own helpers (``bench/``) are scripts, not a package: their tests import them
from that directory. A small git repository in ``tmp_path`` stands in for a fetched source
(no fetched data is used in tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))


@pytest.fixture
def source_repo(tmp_path: Path) -> Callable[[str, dict[str, Any]], tuple[str, str]]:
    """``make(repo, {path: data})`` commits the files (JSON-encoded unless a string) to a git
    repository laid out as ``bench/fetch_sessions.sh`` lays it out (``ROOT/owner+name``) and
    returns ``(root, commit)``."""

    def make(repo: str, files: dict[str, Any]) -> tuple[str, str]:
        where = tmp_path / repo.replace("/", "+")
        where.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
        subprocess.run(["git", "init", "-q", str(where)], check=True, env=env)
        for path, data in files.items():
            target = where / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(data if isinstance(data, str) else json.dumps(data))
        subprocess.run(["git", "-C", str(where), "add", "-A"], check=True, env=env)
        subprocess.run(["git", "-C", str(where), "commit", "-q", "-m", "sample"], check=True, env=env)
        commit = subprocess.run(["git", "-C", str(where), "rev-parse", "HEAD"], check=True, capture_output=True,
                                text=True, env=env).stdout.strip()
        return str(tmp_path), commit

    return make
