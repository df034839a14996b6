"""The HTML run report in a real headless browser (Debian's chromium): the page renders, the
screenshot is not blank and shows the charts' colours.

Outside CI the test skips when chromium is missing (install it with
``apt-get install -y chromium``); in CI (``CI`` set) a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from massgen_plugins.cli import cli

from .conftest import MASSGEN_SAMPLE, OUR_SAMPLE

Image = pytest.importorskip("PIL.Image", reason="Pillow decodes the screenshot: pip install -e .[test]")

WIDTH, HEIGHT = 1200, 1600


def _browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    message = "no chromium in PATH: install Debian's browser with `apt-get install -y chromium`"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _screenshot(html: Path, png: Path, tmp_path: Path) -> None:
    command = [
        _browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
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


def test_report_renders_with_timeline_and_charts(tmp_path, home):
    html, png = tmp_path / "report.html", tmp_path / "report.png"
    _render(OUR_SAMPLE, html)
    _screenshot(html, png, tmp_path)
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


def test_massgen_log_report_renders(tmp_path, home):
    html, png = tmp_path / "massgen.html", tmp_path / "massgen.png"
    _render(MASSGEN_SAMPLE, html)
    _screenshot(html, png, tmp_path)
    colours = _colours(Image.open(png).convert("RGB"))
    assert sum(n for n, p in colours if min(p) < 235) / (WIDTH * HEIGHT) > 0.05
    assert len(colours) > 100
