"""The explorer's JSON API over real run directories (the demo's run, the samples) and a real
SQLite memory store, through HTTP on a real server."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from massgen_plugins.explorer.models import CompressionDiff, RunDetail, RunList, SessionView
from massgen_plugins.memory import open_store
from massgen_plugins.memory.records import Scope

pytestmark = pytest.mark.plugins("openai", "anthropic")  # drives provider plugins end to end


def get(url: str, **kw) -> httpx.Response:
    return httpx.get(url, timeout=60, **kw)


def test_runs_lists_ours_and_massgens_with_honest_status(runs_dir, serve_explorer):
    base = serve_explorer([runs_dir])
    body = get(base + "/api/runs").json()
    listing = RunList.model_validate({k: body[k] for k in ("runs", "total", "dirs")})
    by_id = {r.id: r for r in listing.runs}
    assert set(by_id) == {"demo-run", "run_20260110_150000_a1b2c3", "log_20260110_143052_123456"}
    demo = by_id["demo-run"]
    assert demo.status == "ok" and demo.compressions >= 3 and demo.fallbacks >= 1 and demo.calls > 10
    assert set(demo.agents) >= {"researcher", "analyst", "reviewer"}
    assert by_id["log_20260110_143052_123456"].status == "recovered"
    assert by_id["run_20260110_150000_a1b2c3"].cost_usd and by_id["run_20260110_150000_a1b2c3"].cost_usd > 0
    only = get(base + "/api/runs", params={"q": "vector databases"}).json()
    assert [r["id"] for r in only["runs"]] == ["run_20260110_150000_a1b2c3"] and only["matched"] == 1
    assert [r["id"] for r in get(base + "/api/runs", params={"status": "recovered"}).json()["runs"]] == \
        ["log_20260110_143052_123456"]


def test_run_detail_sizes_overflowing_calls_and_knows_windows(runs_dir, serve_explorer):
    base = serve_explorer([runs_dir])
    detail = RunDetail.model_validate(get(base + "/api/runs/demo-run").json())
    overflowed = [c for c in detail.calls if c["outcome"] == "overflow"]
    assert overflowed, "the demo overflows"
    for call in overflowed:
        assert call["size"] > detail.windows[call["model"]], "an overflowing call is drawn at the size it requested"
    assert detail.windows["openai/gpt-4o-mini-8k"] == 8192
    assert {c.stage for c in detail.compressions} >= {"native", "summarize"}
    assert detail.fallbacks and detail.fallbacks[0]["why"]
    assert detail.store, "the demo's run names its memory store"
    assert detail.next_seq == detail.run.events


def test_compression_diff_shows_archived_originals_and_their_gist(runs_dir, serve_explorer):
    base = serve_explorer([runs_dir])
    detail = get(base + "/api/runs/demo-run").json()
    summarized = next(c for c in detail["compressions"] if c["stage"] == "summarize")
    diff = CompressionDiff.model_validate(get(base + f"/api/runs/demo-run/compressions/{summarized['seq']}").json())
    assert diff.session_id and diff.session_id.endswith(summarized["agent"])
    assert diff.counts.get("summarized") == summarized["archived"]
    row = next(r for r in diff.rows if r.kind == "summarized")
    assert row.after is not None and all(m.replaced_by == row.after.id for m in row.before)
    assert any(r.kind == "kept" and r.before[0].role == "system" for r in diff.rows)  # the system prompt stays
    # the originals are what the store archived for that session
    store = open_store(f"sqlite:///{runs_dir / 'demo-run' / 'memory.db'}")
    archived = {h.entry.id: h.entry.message.text() for h in store.list_archive(diff.session_id)}
    store.close()
    assert all(archived[m.id] == m.text for m in row.before)


def test_events_page_and_errors(runs_dir, serve_explorer):
    base = serve_explorer([runs_dir])
    page = get(base + "/api/runs/demo-run/events", params={"after": 5, "limit": 10}).json()
    assert [e["seq"] for e in page["events"]] == list(range(6, 16)) and page["more"] and page["next_seq"] == 16
    missing = get(base + "/api/runs/nope")
    assert missing.status_code == 404 and "no run 'nope'" in missing.json()["error"]["message"]
    bad = get(base + "/api/runs/demo-run/events", params={"after": "x"})
    assert bad.status_code == 400 and "'after' must be an integer" in bad.json()["error"]["message"]
    assert get(base + "/api/runs/demo-run/compressions/0").status_code == 400  # seq 0 is run_start
    rebinding = get(base + "/api/runs", headers={"Host": "attacker.example"})
    assert rebinding.status_code == 400


def test_memory_endpoints_search_memories_and_archives(tmp_path, runs_dir, serve_explorer):
    url = f"sqlite:///{tmp_path / 'mem.db'}"
    store = open_store(url)
    store.add("The staging database password rotates every Tuesday", scope=Scope(user="alice"))
    store.add("Bob prefers metric units", scope=Scope(user="bob"))
    store.close()
    base = serve_explorer([runs_dir], [url])
    stores = get(base + "/api/memory/stores").json()
    key = next(s["key"] for s in stores if s["label"] == "--store")
    hits = get(base + "/api/memory/search", params={"q": "rotates", "store": key}).json()["hits"]
    assert [h["text"] for h in hits] == ["The staging database password rotates every Tuesday"]
    assert get(base + "/api/memory/search", params={"q": "rotates", "store": key, "user": "bob"}).json()["hits"] == []
    # archives: the demo's store, found through the run
    get(base + "/api/runs/demo-run")
    demo_key = next(s["key"] for s in get(base + "/api/memory/stores").json() if s["label"] == "run demo-run")
    found = get(base + "/api/memory/search", params={"q": "module", "store": demo_key, "include": "archive"}).json()
    assert found["hits"] and all(h["kind"] == "archive" and h["session_id"] for h in found["hits"])
    session = SessionView.model_validate(get(base + f"/api/memory/sessions/{found['hits'][0]['session_id']}",
                                             params={"store": demo_key}).json())
    assert session.turns and session.archive
    assert any(m.id == found["hits"][0]["id"] for m in session.archive)


def test_memory_store_keys_are_checked_and_nothing_is_created(tmp_path, runs_dir, serve_explorer):
    ghost = tmp_path / "ghost.db"
    base = serve_explorer([runs_dir], [f"sqlite:///{ghost}"])
    key = next(s["key"] for s in get(base + "/api/memory/stores").json() if s["label"] == "--store")
    missing = get(base + "/api/memory/search", params={"q": "x", "store": key})
    assert missing.status_code == 400 and f"no memory store at {ghost}" in missing.json()["error"]["message"]
    assert not ghost.exists()
    unknown = get(base + "/api/memory/search", params={"q": "x", "store": "sqlite:////etc/passwd"})
    assert unknown.status_code == 400 and "unknown memory store" in unknown.json()["error"]["message"]


def test_sse_streams_new_events_of_a_run_being_written(tmp_path, serve_explorer):
    from massgen_plugins.runlog import RunLog

    log = RunLog.create(tmp_path / "runs" / "live")
    base = serve_explorer([tmp_path / "runs"])
    assert get(base + "/api/runs").json()["runs"][0]["status"] == "running"
    with httpx.stream("GET", base + "/api/runs/live/events", params={"follow": "1", "after": 0}, timeout=60) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        log.event("note", agent="a1", message="step one")
        data = next(json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: "))
    assert [e["message"] for e in data["events"]] == ["step one"]
    log.close()
    assert get(base + "/api/runs").json()["runs"][0]["status"] == "ok"


def test_index_rereads_only_changed_runs(tmp_path):
    from massgen_plugins.explorer.index import RunIndex
    from massgen_plugins.runlog import RunLog

    with RunLog.create(tmp_path / "a") as log:
        log.event("note", message="one")
    with RunLog.create(tmp_path / "b"):
        pass
    cache = tmp_path / "cache" / "index.json"
    index = RunIndex([tmp_path], cache_file=cache)
    first = {r.id: r for r in index.runs()}
    kept_a = index._entries[str(tmp_path / "a")][1]
    index.runs()
    assert index._entries[str(tmp_path / "a")][1] is kept_a  # nothing changed: nothing re-read
    kept_b = index._entries[str(tmp_path / "b")][1]
    log = RunLog.open(tmp_path / "a")
    log.event("note", message="two")
    log.close()
    third = {r.id: r for r in index.runs()}
    assert third["a"].events > first["a"].events
    assert index._entries[str(tmp_path / "b")][1] is kept_b  # unchanged: not re-read
    # a new index starts from the cache file (owner-only), with the same summaries
    assert (cache.stat().st_mode & 0o777) == 0o600
    warm = RunIndex([tmp_path], cache_file=cache)
    assert {k: v[1] for k, v in warm._entries.items()} == {k: v[1] for k, v in index._entries.items()}
    assert [r.id for r in warm.runs()] == [r.id for r in index.runs()]


@pytest.mark.parametrize("broken", ["{not json", ""])
def test_a_damaged_cache_file_is_rebuilt(tmp_path, broken):
    from massgen_plugins.explorer.index import RunIndex
    from massgen_plugins.runlog import RunLog

    with RunLog.create(tmp_path / "runs" / "a"):
        pass
    cache = tmp_path / "index.json"
    cache.write_text(broken)
    assert [r.id for r in RunIndex([tmp_path / "runs"], cache_file=cache).runs()] == ["a"]
    assert json.loads(Path(cache).read_text())["runs"]


@pytest.mark.postgres
def test_memory_search_on_a_postgresql_store(runs_dir, serve_explorer):
    """The same page over the PostgreSQL backend (several hosts sharing one store)."""
    import os
    import uuid
    from urllib.parse import urlencode

    server = os.environ.get("MASSGEN_TEST_POSTGRES_URL", "").strip()
    if not server:
        if os.environ.get("CI"):
            pytest.fail("MASSGEN_TEST_POSTGRES_URL is required in CI (.ci/postgres.sh start)")
        pytest.skip("no PostgreSQL server: set MASSGEN_TEST_POSTGRES_URL")
    pytest.importorskip("massgen_plugins_postgres")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    url = f"{server}{'&' if '?' in server else '?'}{urlencode({'schema': schema})}"
    try:
        store = open_store(url)
        store.add("Deploys need two approvals after 18:00", scope=Scope(team="ops"))
        store.close()
        base = serve_explorer([runs_dir], [url])
        key = next(s["key"] for s in get(base + "/api/memory/stores").json() if s["label"] == "--store")
        hits = get(base + "/api/memory/search", params={"q": "approvals", "store": key, "team": "ops"}).json()["hits"]
        assert [h["text"] for h in hits] == ["Deploys need two approvals after 18:00"]
        assert hits[0]["scope"]["team"] == "ops"
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_massgen_compression_diff_comes_from_its_debug_files(runs_dir, serve_explorer):
    base = serve_explorer([runs_dir])
    detail = get(base + "/api/runs/log_20260110_143052_123456").json()
    assert detail["run"]["status"] == "recovered"
    seq = detail["compressions"][0]["seq"]
    diff = CompressionDiff.model_validate(get(base + f"/api/runs/log_20260110_143052_123456/compressions/{seq}").json())
    assert diff.counts == {"summarized": 6}  # six messages in compression_..._input.json, one summary in _result
    row = diff.rows[0]
    assert row.kind == "summarized" and len(row.before) == 6 and row.after.text.startswith("summary summary")
