"""The per-provider cache file: atomic writes, validation, plausibility, two writer processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest
from massgen_plugins.registry import cache


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MASSGEN_PLUGINS_HOME", str(tmp_path))
    return tmp_path


def _models(n: int) -> list[dict]:
    return [{"provider": "openai", "id": f"m-{i}", "context_window": 1000 + i} for i in range(n)]


def test_write_then_read_round_trips(home):
    written = cache.write("openai", _models(3), plugin="openai", fetched_at=1000.0)
    entry = cache.read("openai")
    assert entry is not None
    assert [m["id"] for m in entry.models] == ["m-0", "m-1", "m-2"]
    assert entry.fetched_at == 1000.0 and entry.plugin == "openai"
    assert written.path == cache.cache_path("openai")
    assert cache.cache_path("openai").parent == home / "cache" / "models"
    # no temporary files are left behind
    assert [p.name for p in cache.models_dir().iterdir()] == ["openai.json"]


def test_fresh_and_age(home):
    entry = cache.write("openai", _models(1), fetched_at=time.time() - 100)
    assert entry.fresh(ttl=200) and not entry.fresh(ttl=50)
    assert 99 <= entry.age() < 150


@pytest.mark.parametrize("content", [
    "", "{not json", "[]", '{"schema": 99, "provider": "openai", "fetched_at": 1, "count": 1, "models": [{"id": "x"}]}',
    '{"schema": 1, "provider": "groq", "fetched_at": 1, "count": 1, "models": [{"id": "x"}]}',
    '{"schema": 1, "provider": "openai", "fetched_at": 1, "count": 2, "models": [{"id": "x"}]}',
    '{"schema": 1, "provider": "openai", "fetched_at": 1, "count": 0, "models": []}',
    '{"schema": 1, "provider": "openai", "fetched_at": 1, "count": 1, "models": [{"name": "x"}]}',
])
def test_invalid_files_read_as_absent(home, content):
    path = cache.cache_path("openai")
    path.parent.mkdir(parents=True)
    path.write_text(content)
    assert cache.read("openai") is None


def test_empty_list_is_never_written(home):
    with pytest.raises(ValueError, match="empty"):
        cache.write("openai", [])
    assert not cache.cache_path("openai").exists()


def test_plausibility_rules(home):
    assert cache.implausible(0, None) is not None
    assert cache.implausible(3, None) is None
    big = cache.write("openai", _models(40))
    assert "only 5 models" in cache.implausible(5, big)
    assert cache.implausible(20, big) is None  # half is still accepted
    small = cache.write("groq", _models(4))
    assert cache.implausible(1, small) is None  # too small a cache to judge a shrink


def test_atomic_write_leaves_old_file_on_failure(home):
    cache.write("openai", _models(2), fetched_at=5.0)

    circular: dict = {"models": []}
    circular["models"].append(circular)  # json.dump fails half-way through
    with pytest.raises(ValueError, match="Circular"):
        cache.atomic_write_json(cache.cache_path("openai"), circular)
    entry = cache.read("openai")
    assert entry is not None and entry.fetched_at == 5.0
    assert [p.name for p in cache.models_dir().iterdir()] == ["openai.json"]


_WRITER = textwrap.dedent("""
    import sys
    from massgen_plugins.registry import cache
    tag, n = sys.argv[1], int(sys.argv[2])
    for i in range(n):
        models = [{"provider": "openai", "id": f"{tag}-{i}-{j}", "context_window": j} for j in range(50 + i % 7)]
        cache.write("openai", models, plugin=tag)
""")

_READER = textwrap.dedent("""
    import json, sys, time
    from massgen_plugins.registry import cache
    bad = reads = 0
    end = time.time() + float(sys.argv[1])
    while time.time() < end:
        path = cache.cache_path("openai")
        if path.exists():
            reads += 1
            if cache.read("openai") is None:
                bad += 1
    print(json.dumps({"reads": reads, "bad": bad}))
""")


def test_two_processes_writing_at_once_leave_a_valid_file(home):
    env = {**os.environ, "MASSGEN_PLUGINS_HOME": str(home)}
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, tag, "150"], env=env) for tag in ("a", "b")]
    reader = subprocess.run([sys.executable, "-c", _READER, "2.0"], env=env, capture_output=True, text=True,
                            timeout=120)
    for w in writers:
        assert w.wait(timeout=120) == 0
    stats = json.loads(reader.stdout)
    assert stats["bad"] == 0, stats  # a reader never saw a half-written file
    entry = cache.read("openai")
    assert entry is not None and entry.plugin in ("a", "b")
    assert len(entry.models) == json.loads(cache.cache_path("openai").read_text())["count"]
    assert [p.name for p in cache.models_dir().iterdir()] == ["openai.json"]
