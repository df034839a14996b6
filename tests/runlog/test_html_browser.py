"""The HTML run report in a real headless browser (Debian's chromium): the page renders, the
screenshot is not blank and shows the charts' colours.

Outside CI the test skips when chromium is missing (install it with
``apt-get install -y chromium``); in CI (``CI`` set) a missing browser is a failure.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from massgen_plugins.cli import cli

from .conftest import MASSGEN_SAMPLE, OUR_SAMPLE

Image = pytest.importorskip("PIL.Image", reason="Pillow decodes the screenshot: pip install -e .[test]")

WIDTH, HEIGHT = 1200, 1600


def _screenshot(browser: str, html: Path, png: Path, tmp_path: Path) -> None:
    command = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--hide-scrollbars", f"--user-data-dir={tmp_path / 'chromium-profile'}", f"--screenshot={png}",
        f"--window-size={WIDTH},{HEIGHT}", html.resolve().as_uri(),
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert png.exists(), f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"


def _near(pixel: tuple[int, ...], colour: str, tolerance: int = 24) -> bool:
    target = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], target, strict=True))


def _colours(image) -> list[tuple[int, tuple[int, int, int]]]:
    """``(pixel count, rgb)`` for every distinct colour (counted in C by Pillow)."""
    return image.getcolors(maxcolors=image.size[0] * image.size[1])


def _render(run_dir: Path, html: Path) -> None:
    result = CliRunner().invoke(cli, ["logs", "analyze", str(run_dir), "--html", str(html), "--json"])
    assert result.exit_code == 0, result.output


def test_report_renders_with_timeline_and_charts(chromium_path, tmp_path, home):
    html, png = tmp_path / "report.html", tmp_path / "report.png"
    _render(OUR_SAMPLE, html)
    _screenshot(chromium_path, html, png, tmp_path)
    assert png.stat().st_size > 30_000  # a blank page compresses to a few kB

    image = Image.open(png).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    colours = _colours(image)
    non_white = sum(n for n, p in colours if min(p) < 235) / (WIDTH * HEIGHT)
    assert non_white > 0.08, f"only {non_white:.1%} of the page is drawn"
    assert len(colours) > 200

    def count(colour: str) -> int:
        return sum(n for n, p in colours if _near(p, colour))

    assert count("#3b82f6") > 2_000, "no input-token bars"          # tokens per call
    assert count("#7c3aed") > 200, "no compression marks or bars"    # compressions
    assert count("#ea580c") > 50, "no overflow markers"              # timeline markers
    assert count("#16a34a") > 50, "no status badge"                  # 'ok' badge
    # the top band (title) and the lower band (charts) both carry content
    top = _colours(image.crop((0, 0, WIDTH, 120)))
    assert sum(n for n, p in top if min(p) < 200) > 1_000


def test_massgen_log_report_renders(chromium_path, tmp_path, home):
    html, png = tmp_path / "massgen.html", tmp_path / "massgen.png"
    _render(MASSGEN_SAMPLE, html)
    _screenshot(chromium_path, html, png, tmp_path)
    colours = _colours(Image.open(png).convert("RGB"))
    assert sum(n for n, p in colours if min(p) < 235) / (WIDTH * HEIGHT) > 0.05
    assert len(colours) > 100


# --------------------------------------------------------------------------- the fixed charts
# Geometry measured by the browser's own layout (Playwright on the system Chromium).


def _boxes(page, selector: str) -> list[dict]:
    return [b for b in (el.bounding_box() for el in page.query_selector_all(selector)) if b]


def _overlap(a: dict, b: dict) -> float:
    w = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return max(0.0, w) * max(0.0, h)


def _open_report(page, run_dir: Path, tmp_path: Path) -> None:
    html = tmp_path / f"{run_dir.name}.html"
    _render(run_dir, html)
    page.goto(html.resolve().as_uri())


def test_overflowing_calls_are_drawn_at_the_size_requested_above_the_window(page, tmp_path, home):
    _open_report(page, OUR_SAMPLE, tmp_path)
    failed = page.query_selector_all("#tokens rect.tok-failed")
    assert len(failed) >= 5  # 4 errors + 1 overflow + 1 cancelled in the sample
    assert all(el.bounding_box()["height"] > 1 for el in failed), "a failed call is drawn with no height"
    window = _boxes(page, "#tokens line.window")
    assert window, "no window line"
    overflow = _boxes(page, "#tokens rect.tok-failed.overflow")
    assert overflow and all(b["y"] < window[0]["y"] for b in overflow), "the overflowing call is not above the window"
    assert "requested 131950 tokens" in page.inner_html("#tokens")


def test_compression_labels_never_overlap(page, tmp_path, home):
    _open_report(page, OUR_SAMPLE, tmp_path)
    labels = _boxes(page, "#tokens text.comp-label")
    assert len(labels) >= 4
    pairs = [(a, b) for i, a in enumerate(labels) for b in labels[i + 1:]]
    assert all(_overlap(a, b) == 0 for a, b in pairs), "two compression labels overlap"


def _crowded_run(directory: Path) -> Path:
    """Eight decisions of one agent in the same millisecond (a retry storm), then a call."""
    from massgen_plugins.runlog import RunLog

    from .conftest import Clock

    clock = Clock()
    with RunLog.create(directory, clock=clock, agents=[{"id": "a1", "model": "openai/gpt-4o-mini"}]) as log:
        clock.tick(5)
        for attempt in range(1, 5):
            log.event("retry", agent="a1", model="openai/gpt-4o-mini", attempt=attempt, kind="rate_limit", delay_s=0)
            log.event("error", agent="a1", kind="rate_limit", message="429", model="openai/gpt-4o-mini")
        log.event("overflow", agent="a1", mode="proactive", model="openai/gpt-4o-mini", limit=128000, counted=130000)
        log.event("compression", agent="a1", stage="mask", tokens_before=130000, tokens_after=60000)
        log.event("fallback", agent="a1", from_model="openai/gpt-4o-mini", to_model="anthropic/claude-haiku-4-5",
                  why="rate_limit")
        clock.tick(2)
        log.event("call_end", agent="a1", call_id="c1", model="anthropic/claude-haiku-4-5", latency_ms=900,
                  usage={"input_tokens": 60000, "output_tokens": 100})
    return directory


@pytest.mark.parametrize("which", ["sample", "crowded"])
def test_timeline_markers_do_not_pile_up(page, tmp_path, home, which):
    run_dir = OUR_SAMPLE if which == "sample" else _crowded_run(tmp_path / "crowded")
    _open_report(page, run_dir, tmp_path)
    # the shapes' own geometry in SVG units (getBBox), not the stroke-inflated screen box
    marks = page.eval_on_selector_all(
        "#timeline .mark:not(.memory)",
        "els => els.map(e => { const b = e.getBBox(); return {x: b.x, y: b.y, width: b.width, height: b.height}; })")
    assert len(marks) >= 11
    piled = [(a, b) for i, a in enumerate(marks) for b in marks[i + 1:]
             if _overlap(a, b) > 0.25 * min(a["width"] * a["height"], b["width"] * b["height"])]
    assert not piled, f"{len(piled)} pairs of timeline markers cover each other"


def test_massgen_run_with_error_and_restart_has_no_green_badge(page, tmp_path, home):
    _open_report(page, MASSGEN_SAMPLE, tmp_path)
    badge = page.query_selector("h1 .badge")
    assert badge.inner_text() == "recovered"
    colour = page.evaluate("el => getComputedStyle(el).backgroundColor", badge)
    assert colour != "rgb(22, 163, 74)", "the badge is green"
    assert "completed after 1 error and 1 restart" in page.inner_text("h1")
