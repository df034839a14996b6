"""The explorer in a real headless Chromium (Playwright on the system browser): the runs page
lists the demo's run, a compression's diff shows the archived message, a run being written
appears and updates live, the memory search finds a planted memory. Screenshots of each page
are written to ``$EXPLORER_SCREENSHOTS`` when set (docs/img is made that way)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from massgen_plugins.memory import open_store
from massgen_plugins.memory.records import Scope
from massgen_plugins.runlog import RunLog

pytestmark = pytest.mark.plugins("openai", "anthropic")  # drives provider plugins end to end


def _shot(page, name: str) -> None:
    folder = os.environ.get("EXPLORER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"explorer-{name}.png"), full_page=name in ("runs", "memory"))  # others: the viewport


def _errors(page) -> list[str]:
    found: list[str] = []
    page.on("pageerror", lambda exc: found.append(str(exc)))
    page.on("console", lambda msg: found.append(msg.text) if msg.type == "error" else None)
    return found


def test_runs_page_lists_the_demos_run(page, runs_dir, serve_explorer):
    errors = _errors(page)
    page.goto(serve_explorer([runs_dir]) + "/")
    row = page.wait_for_selector('tr.run[data-id="demo-run"]')
    assert "ok" in row.inner_text() and "researcher" in row.inner_text()
    assert page.locator("tr.run").count() == 3
    assert page.locator('tr.run[data-id="log_20260110_143052_123456"] .badge').inner_text() == "recovered"
    page.fill("#filter", "vector")
    page.wait_for_function("document.querySelectorAll('tr.run').length === 1")
    assert page.locator("tr.run").get_attribute("data-id") == "run_20260110_150000_a1b2c3"
    page.fill("#filter", "")
    _shot(page, "runs")
    page.click('tr.run[data-id="demo-run"] a')
    page.wait_for_selector("#timeline-svg")
    assert page.url.endswith("/runs/demo-run")
    # the event list: opened, filtered
    page.click("#events-summary")
    page.fill("#events-filter", "fallback")
    rows = page.locator("#events tbody tr")
    assert rows.count() >= 1 and all("fallback" in rows.nth(i).inner_text() for i in range(rows.count()))
    assert not errors, errors


def test_a_compressions_diff_shows_the_archived_message(page, runs_dir, serve_explorer):
    store = open_store(f"sqlite:///{runs_dir / 'demo-run' / 'memory.db'}")
    errors = _errors(page)
    page.goto(serve_explorer([runs_dir]) + "/runs/demo-run")
    page.wait_for_selector("#timeline-svg")
    _shot(page, "run")
    # the charts: overflowing calls drawn above their window line; the timeline zooms
    overflow = page.locator("svg.tokens-chart rect.tok-failed.overflow").first.bounding_box()
    chart = page.locator("svg.tokens-chart", has=page.locator("rect.tok-failed.overflow")).first
    window = chart.locator("line.window").bounding_box()
    assert overflow["height"] > 0 and overflow["y"] < window["y"]
    before = page.locator("#timeline-svg .mark").count()
    page.click("#zoom-in")
    page.click("#zoom-in")
    assert page.locator("#timeline-svg .mark").count() < before  # zoomed in: fewer markers in view
    page.click("#zoom-reset")
    assert page.locator("#timeline-svg .mark").count() == before

    button = page.locator("button.show-diff").nth(1)
    seq = button.get_attribute("data-seq")
    button.click()
    page.wait_for_selector(f"#compression-{seq} .diff-row.summarized")
    originals = page.locator(f"#compression-{seq} .diff-row.summarized .before .msg")
    assert originals.count() >= 2
    first_id = originals.first.locator(".mid").inner_text()
    archive = {h.entry.id: h.entry for s in store.list_sessions() for h in store.list_archive(s.session_id)}
    store.close()
    assert first_id in archive
    expected = archive[first_id].message.text().strip().splitlines()[0]
    assert expected in originals.first.inner_text()
    gist = page.locator(f"#compression-{seq} .diff-row.summarized .after .msg .mid").first.inner_text()
    assert archive[first_id].replaced_by == gist
    page.evaluate(f"document.getElementById('compression-{seq}').scrollIntoView()")
    _shot(page, "diff")
    # the link goes to the archived original in the session's view on the Memory page
    originals.first.locator("a").click()
    page.wait_for_selector(".msg.highlight")
    assert page.locator(".msg.highlight .mid").inner_text() == first_id
    _shot(page, "session")
    assert not errors, errors


def test_a_run_being_written_appears_and_updates_live(page, tmp_path, serve_explorer):
    runs = tmp_path / "runs"
    runs.mkdir()
    errors = _errors(page)
    page.goto(serve_explorer([runs]) + "/")
    page.wait_for_selector("text=No runs yet")
    log = RunLog.create(runs / "live-run", agents=[{"id": "a1", "model": "openai/gpt-4o-mini"}])
    row = page.wait_for_selector('tr.run[data-id="live-run"]')  # pushed by server-sent events, no reload
    assert "running" in row.inner_text()
    page.goto(page.url.rstrip("/") + "/runs/live-run")
    page.wait_for_selector("#timeline-svg")
    assert page.locator("#cards .card b").nth(2).inner_text() == "0"  # calls
    log.event("call_start", agent="a1", call_id="c1", model="openai/gpt-4o-mini", input_tokens=1200)
    log.event("call_end", agent="a1", call_id="c1", model="openai/gpt-4o-mini", latency_ms=800.0,
              usage={"input_tokens": 1200, "output_tokens": 80})
    page.wait_for_function("document.querySelectorAll('#cards .card b')[2].textContent === '1'")
    assert page.locator("#timeline-svg rect.call").count() == 1
    log.close()
    page.wait_for_function("document.querySelector('#title .badge').textContent === 'ok'")
    assert not errors, errors


def test_the_memory_search_finds_a_planted_memory(page, tmp_path, runs_dir, serve_explorer):
    url = f"sqlite:///{tmp_path / 'planted.db'}"
    store = open_store(url)
    store.add("The staging database password rotates every Tuesday", scope=Scope(user="alice"))
    store.add("Release 2.4 freezes on Friday", scope=Scope(team="demo"))
    store.close()
    errors = _errors(page)
    page.goto(serve_explorer([runs_dir], [url]) + "/memory")
    page.wait_for_selector("#store option", state="attached")
    page.fill("#q", "rotates Tuesday")
    page.fill("#user", "alice")
    page.click("#search-form button[type=submit]")
    hit = page.wait_for_selector(".hit.memory")
    assert "The staging database password rotates every Tuesday" in hit.inner_text()
    assert page.locator(".hit").count() == 1
    _shot(page, "memory")
    assert not errors, errors
