"""Fixtures shared by the core tests: a real headless Chromium driven by Playwright.

The browser is the system's (``/usr/bin/chromium``, or ``$CHROMIUM``); Playwright's own browser
download is never used. Outside CI the browser tests skip when chromium or playwright is missing
(``apt-get install -y chromium``; ``pip install -e .[test]``); in CI (``CI`` set) that is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--no-first-run", "--disable-quic", "--disable-component-update", "--disable-sync"]


def _find_chromium() -> str:
    """The system Chromium, or skip (fail in CI)."""
    for name in (os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name) if name else None
        if found:
            return found
    message = "no chromium in PATH: install Debian's browser with `apt-get install -y chromium`"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def chromium_path() -> str:
    """The system Chromium's executable (the test skips without one, and fails in CI)."""
    return _find_chromium()


@pytest.fixture
def chromium() -> Iterator[Any]:
    """A Playwright ``Browser`` on the system Chromium. Per test: Playwright's sync API keeps an
    event loop running in this thread while it is open, which ``asyncio.run`` in later tests
    would trip over."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("playwright is not installed: pip install -e .[test]")
        pytest.skip("playwright is not installed: pip install -e .[test]")
    executable = _find_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh page (1280×900) in its own browser context."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()
