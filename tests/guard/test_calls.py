"""One provider call: the ceiling above the request timeout holds even for an ``async def``
``complete`` that the host no longer runs on a worker thread."""

from __future__ import annotations

import asyncio

import pytest
from massgen_plugins import hookimpl
from massgen_plugins.guard.calls import CallContext, call_model
from massgen_plugins.hookcall import bounded
from massgen_plugins.manager import CALL_MARGIN, call_ceiling, get_hooks, get_host
from massgen_plugins.types import CompletionRequest, Message, ProviderSettings


async def test_bounded_returns_raises_and_cancels():
    async def answer():
        return 42

    async def plugin_timeout():
        raise TimeoutError("the plugin's own timeout")

    assert await bounded(answer(), 5) == 42
    with pytest.raises(TimeoutError, match="own timeout"):
        await bounded(plugin_timeout(), 5)
    cancelled = asyncio.Event()

    async def forever():
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(asyncio.TimeoutError):
        await bounded(forever(), 0.05)
    assert cancelled.is_set()


class HangingProvider:
    @staticmethod
    @hookimpl
    def register_providers():
        return {"name": "hangs", "api_key_env": []}

    @staticmethod
    @hookimpl
    async def complete(request, settings):
        await asyncio.sleep(3600)  # ignores every timeout it was given


@pytest.fixture
def hanging():
    pm = get_host().pm
    pm.register(HangingProvider(), name="test-hanging-provider")
    yield
    pm.unregister(name="test-hanging-provider")


async def test_a_hanging_async_complete_is_cut_at_the_ceiling(hanging):
    request = CompletionRequest(model="hangs/m", messages=[Message(role="user", content="hi")], timeout=0.05)
    context = CallContext(agent="a", turn=1, log=None, timeout_margin=0.05)
    outcome = await call_model(request, ProviderSettings(provider="hangs"), context, attempt=1, input_tokens=3)
    assert not outcome.ok
    assert isinstance(outcome.error, TimeoutError) and "no answer from hangs/m" in str(outcome.error)
    assert outcome.info is not None and outcome.info.retryable


async def test_every_complete_call_is_cut_at_its_ceiling_not_only_the_guards(hanging):
    """A summarizer or a self-analysis calls the hook without the guard: the host itself bounds
    the call, so a plugin that ignores its timeout cannot hang them either."""
    request = CompletionRequest(model="hangs/m", messages=[Message(role="user", content="hi")], timeout=0.05)
    settings = ProviderSettings(provider="hangs")
    assert call_ceiling(request, settings) == 0.05 + CALL_MARGIN
    with pytest.raises(TimeoutError):
        await get_hooks().complete(request, settings, ceiling=0.05)
