"""The HTML report without a browser: edge cases, escaping, self-containment."""

from __future__ import annotations

import re

from massgen_plugins.runlog.analysis import find_issues, summarize_run
from massgen_plugins.runlog.html import _ticks, markdown_to_html, render_html
from massgen_plugins.runlog.reader import read_run
from massgen_plugins.runlog.writer import RunLog

from .conftest import OUR_SAMPLE, Clock


def _page(run, reports=()):
    summary = summarize_run(run.events, run.meta, source=run.source, status=run.status)
    return render_html(run.events, summary, find_issues(summary, run.events), list(reports))


def test_ticks_are_round_and_bounded():
    assert _ticks(0) == [0.0]
    assert _ticks(0.5) == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert _ticks(128_000) == [0, 25_000, 50_000, 75_000, 100_000, 125_000]
    for maximum in (0.0007, 0.3, 7, 61, 9_999, 3e9):
        ticks = _ticks(maximum)
        assert 2 <= len(ticks) <= 11 and ticks[0] == 0 and ticks[-1] <= maximum * (1 + 1e-9)


def test_tiny_and_empty_runs_render(tmp_path):
    clock = Clock()
    empty = RunLog.create(tmp_path / "empty", clock=clock)
    empty.close()
    page = _page(read_run(tmp_path / "empty"))
    assert "No calls recorded." in page and "No compressions." in page and "No retries." in page

    log = RunLog.create(tmp_path / "short", clock=clock)
    clock.tick(0.05)
    log.event("call_end", agent="a", call_id="c", model="x/y", latency_ms=40.0, usage={"input_tokens": 3})
    clock.tick(0.01)
    log.close()
    page = _page(read_run(tmp_path / "short"))
    assert 'id="timeline"' in page and 'class="call"' in page and "0.01s" in page


def test_everything_is_escaped(tmp_path):
    log = RunLog.create(tmp_path / "x", title="<b>title</b>", clock=Clock())
    log.event("error", agent="<img src=x onerror=alert(1)>", kind="k", message="<script>alert(1)</script>")
    log.event("call_end", agent="a", call_id="c", model="<i>m</i>", latency_ms=1.0, outcome="error")
    log.close()
    page = _page(read_run(tmp_path / "x"), reports=[("LLM <report>", "# Head <x>\n\n- **bold** <script>bad()</script>")])
    assert "<script" not in page and "<img" not in page and "<i>m</i>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;title&lt;/b&gt;" in page
    assert "<b>bold</b>" in page  # Markdown still renders


def test_sample_page_is_self_contained():
    page = _page(read_run(OUR_SAMPLE))
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "<script" not in page and "<link" not in page
    for chart in ("timeline", "tokens", "compressions", "retries"):
        assert f'id="{chart}"' in page
    assert page.count('class="call"') == 22  # one bar per call
    assert page.count("mark overflow") == 6 and page.count("mark compression") == 6


def test_markdown_subset():
    html = markdown_to_html("## Title\n\ntext with `code` and *it*\n\n1. one\n2. two\n\n```\n<raw>\n```\n---\n| a | b |")
    assert "<h4>Title</h4>" in html and "<code>code</code>" in html and "<i>it</i>" in html
    assert html.count("<li>") == 2 and "<pre>&lt;raw&gt;</pre>" in html and "<hr/>" in html
    assert "<pre class='tbl'>| a | b |</pre>" in html
