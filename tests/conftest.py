"""Core test setup: a stub provider plugin, and skipping tests that need a real provider plugin.

The core's tests run with only the core installed (``tox -e core``). Two things make that so:

* :class:`StubProvider`, registered on the host by the ``stub_provider`` fixture (llm's
  ``MockModelsPlugin`` pattern), owns the provider ``stub``: ``stub/echo`` answers in-process with what it was sent,
  ``stub/tiny-2k`` has a 2,048-token window and rejects a longer input with a context-window
  error, so the guard's loop (counting, compression, reactive overflow, retries) is tested
  without any provider plugin;
* tests that drive a real provider plugin through its SDK against the emulator are marked
  ``@pytest.mark.plugins("openai", ...)`` and skipped, with the reason, when a plugin is missing
  (their own suites live with each plugin; this marks the core tests that use them end to end).

It also gives the browser tests a real headless Chromium driven by Playwright: the system's
(``/usr/bin/chromium``, or ``$CHROMIUM``), never Playwright's own download. Outside CI those tests
skip when chromium or playwright is missing (``apt-get install -y chromium``; ``pip install -e
.[test]``); in CI (``CI`` set) that is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from importlib.metadata import entry_points
from typing import Any

import pytest
from massgen_plugins import hookimpl

STUB = "stub"
WINDOWS = {"echo": 128_000, "tiny-2k": 2_048}


class StubContextError(Exception):
    """The stub provider's context-window rejection (read by its ``detect_overflow``)."""

    def __init__(self, limit: int, requested: int) -> None:
        super().__init__(f"stub: input of {requested} tokens exceeds the window of {limit} tokens")
        self.limit, self.requested = limit, requested


class StubProvider:
    """A provider plugin that answers in-process: ``stub/<model>`` replies ``echo: <last user text>``."""

    __name__ = "stub-provider"

    @hookimpl
    def register_providers(self) -> Any:
        from massgen_plugins.types import ProviderInfo

        return ProviderInfo(name=STUB, display_name="Stub (tests)", tokenizer="estimate", token_margin=0.10,
                            capabilities=["stream"])

    @hookimpl
    def list_models(self, provider: str, settings: Any) -> Any:
        from massgen_plugins.types import ModelInfo

        return [ModelInfo(provider=STUB, id=name, context_window=window, max_output_tokens=512, kind="chat",
                          chat=True, provenance={"context_window": "api"}) for name, window in WINDOWS.items()]

    @hookimpl
    def detect_overflow(self, error: BaseException, provider: str | None, model: str | None) -> Any:
        from massgen_plugins.types import Overflow

        if not isinstance(error, StubContextError):
            return None
        return Overflow(provider=STUB, model=model, limit=error.limit, requested=error.requested,
                        matched_by="structure:stub")

    @hookimpl
    def complete(self, request: Any, settings: Any) -> Any:
        return self._complete(request)

    @hookimpl
    def stream(self, request: Any, settings: Any) -> Any:
        return self._stream(request)

    async def _complete(self, request: Any) -> Any:
        from massgen_plugins.tokens import counter_for
        from massgen_plugins.types import CompletionResponse, Message, Usage

        window = WINDOWS.get(request.model_id, 128_000)
        tokens = counter_for(request.model).count(request.messages, request.tools)
        if tokens + (request.max_tokens or 0) > window:
            raise StubContextError(window, tokens + (request.max_tokens or 0))
        last = next((m.text() for m in reversed(request.messages) if m.role == "user"), "")
        return CompletionResponse(model=request.model, message=Message(role="assistant", content=f"echo: {last}"),
                                  usage=Usage(input_tokens=tokens, output_tokens=3), finish_reason="stop")

    async def _stream(self, request: Any) -> AsyncIterator[Any]:
        from massgen_plugins.types import StreamEvent

        response = await self._complete(request)
        yield StreamEvent(type="text", delta=response.message.content)
        yield StreamEvent(type="done", response=response)


@pytest.fixture
def stub_provider() -> Iterator[StubProvider]:
    """The stub provider, registered on the current host for the test."""
    from massgen_plugins.manager import get_host

    pm = get_host().pm
    plugin = pm.get_plugin("stub-provider")
    added = plugin is None
    if added:
        plugin = StubProvider()
        pm.register(plugin, name="stub-provider")
    yield plugin
    if added and pm.is_registered(plugin):
        pm.unregister(plugin)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "plugins(*names): needs these provider plugins installed (else skipped)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    installed = {ep.name for ep in entry_points(group="massgen_plugins")}
    for item in items:
        needed = [name for mark in item.iter_markers("plugins") for name in mark.args]
        missing = sorted({name for name in needed if name not in installed})
        if missing:
            install = " ".join(f"massgen-plugins-{name}" for name in missing)
            item.add_marker(pytest.mark.skip(
                reason=f"drives the {', '.join(missing)} provider plugin(s) end to end; pip install {install}"))


# --------------------------------------------------------------------------- headless Chromium

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
