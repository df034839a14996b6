"""Contract tests, one per hook: the typed facade calls the hook the documented way, validates
results into the boundary models, and isolates a broken plugin.

Each provider, stage and store is tested for real in its own test suite; these tests pin the
contract itself (how results combine), with throwaway plugins on a fresh manager.
"""

from __future__ import annotations

import pytest
from massgen_plugins import hookimpl
from massgen_plugins.errors import NoImplementationError, ProviderConflictError
from massgen_plugins.manager import Hooks, create_manager
from massgen_plugins.types import (
    AnalysisRequest,
    CompletionRequest,
    CompressionRequest,
    Message,
    ModelInfo,
    ProviderSettings,
    TokenCountRequest,
)


@pytest.fixture
def hooks():
    return Hooks(create_manager())


def register(hooks: Hooks, name: str, **functions):
    """Register a plugin named ``name`` whose hooks are the given functions."""
    namespace = type(name, (), {})
    for hook, function in functions.items():
        setattr(namespace, hook, staticmethod(hookimpl(specname=hook)(function)))
    hooks.pm.register(namespace, name=name)


def broken(*args):
    raise RuntimeError("plugin bug")


def test_hook_register_providers(hooks):
    register(hooks, "one", register_providers=lambda: {"name": "acme", "api_key_env": ["ACME_API_KEY"]})
    register(hooks, "two", register_providers=lambda: [{"name": "acme", "display_name": "dup"}, {"name": "zed"}])
    register(hooks, "bad", register_providers=broken)
    table = hooks.register_providers()
    # a provider claimed by two plugins belongs to neither: the host refuses to guess
    assert sorted(table) == ["zed"]
    assert hooks.provider_table().owners == {"zed": "two"}
    assert hooks.provider_table().conflicts == {"acme": ["two", "one"]}
    with pytest.raises(ProviderConflictError, match=r"provider 'acme' is declared by more than one plugin: "
                                                    r"'two' and 'one'.*MASSGEN_PLUGINS_DISABLED=one"):
        hooks.check_provider("acme")


def test_provider_hooks_are_routed_to_the_owner_only(hooks):
    calls = []

    def answer(name):
        def complete(request, settings):
            calls.append(name)
            return _reply(name)
        return complete

    register(hooks, "generic", count_tokens=lambda request: {"tokens": 3, "method": "estimate"})
    register(hooks, "acme-plugin", register_providers=lambda: {"name": "acme"}, complete=answer("acme-plugin"),
             count_tokens=lambda request, settings: calls.append(("acme-count", settings.provider)) or None)
    register(hooks, "zed-plugin", register_providers=lambda: {"name": "zed"}, complete=answer("zed-plugin"),
             count_tokens=lambda request: calls.append("zed-count") or None)
    request = CompletionRequest(model="acme/m", messages=[Message(role="user", content="hi")])
    import asyncio

    assert asyncio.run(hooks.complete(request, ProviderSettings(provider="acme"))).message.content == "acme-plugin"
    counted = hooks.count_tokens(TokenCountRequest(model="acme/m", messages=request.messages))
    assert counted.plugin == "generic" and [a.plugin for a in counted.attempts] == ["acme-plugin", "generic"]
    # the owner got the host-resolved settings; the other provider's plugin was never called
    assert calls == ["acme-plugin", ("acme-count", "acme")]
    assert [i.plugin_name for i in hooks.compress_stages("zed")] == []


async def _reply(name):
    return {"model": "acme/m", "message": {"role": "assistant", "content": name}}


def test_hook_list_models(hooks):
    def acme_models(provider, settings):
        if provider != "acme":
            return None
        return [{"provider": "acme", "id": "a-1", "context_window": 8192}]

    register(hooks, "acme", list_models=acme_models)
    register(hooks, "other", list_models=lambda provider, settings: None)
    result = hooks.list_models("acme", ProviderSettings(provider="acme"))
    assert result.plugin == "acme"
    assert result.value == [ModelInfo(provider="acme", id="a-1", context_window=8192)]
    assert hooks.list_models("nobody", ProviderSettings(provider="nobody")).value is None


def test_hook_model_metadata(hooks):
    register(hooks, "bundled", model_metadata=lambda provider, offline: [{"provider": provider, "id": "m"}])
    register(hooks, "online", model_metadata=lambda provider, offline: None if offline else [])
    register(hooks, "bad", model_metadata=broken)
    offline = hooks.model_metadata("acme", True)
    assert [plugin for plugin, _ in offline.results] == ["bundled"]
    assert offline.values[0][0].ref == "acme/m"
    assert [e.plugin for e in offline.errors] == ["bad"]


def test_hook_count_tokens(hooks):
    register(hooks, "fallback", count_tokens=lambda request: {"tokens": 99, "method": "estimate", "margin": 0.1})
    register(hooks, "exact", count_tokens=lambda request: None if request.model != "acme/exact" else
             {"tokens": 7, "method": "api", "exact": True})
    messages = [Message(role="user", content="hi")]
    assert hooks.count_tokens(TokenCountRequest(model="acme/exact", messages=messages)).value.tokens == 7
    estimate = hooks.count_tokens(TokenCountRequest(model="acme/other", messages=messages))
    assert (estimate.plugin, estimate.value.method, estimate.value.exact) == ("fallback", "estimate", False)


def test_hook_detect_overflow(hooks):
    def detect(error, provider, model):
        return {"provider": provider, "limit": 10, "requested": 12} if "too long" in str(error) else None

    register(hooks, "detector", detect_overflow=detect)
    found = hooks.detect_overflow(ValueError("prompt is too long"), provider="acme").value
    assert (found.provider, found.limit, found.requested) == ("acme", 10, 12)
    assert hooks.detect_overflow(ValueError("rate limited"), provider="acme").value is None


def test_hook_classify_error(hooks):
    register(hooks, "classifier", classify_error=lambda error, provider: {
        "kind": "rate_limit", "retryable": True, "retry_after": 1.5})
    register(hooks, "bad", classify_error=lambda error, provider: {"kind": "not-a-kind", "retryable": True})
    result = hooks.classify_error(RuntimeError("429"))
    assert result.plugin == "classifier" and result.value.retry_after == 1.5
    assert result.skipped[0].plugin == "bad" and result.skipped[0].status == "rejected"


def test_hook_compress(hooks):
    def shrink(request):
        return {"messages": request.messages[-1:], "stage": "shrink"}

    register(hooks, "first-stage", compress=lambda request: None)
    register(hooks, "shrinker", compress=shrink)
    stages = hooks.compress_stages()
    assert [s.plugin_name for s in stages] == ["shrinker", "first-stage"]
    request = CompressionRequest(model="acme/m", budget=5,
                                 messages=[Message(role="user", content="a"), Message(role="user", content="b")])
    assert stages[0](request=request)["messages"][0].content == "b"


async def test_hook_complete(hooks):
    async def call(request):
        return {"model": request.model, "message": {"role": "assistant", "content": "hello"}}

    register(hooks, "acme", complete=lambda request, settings: call(request) if request.provider == "acme" else None)
    register(hooks, "bad", complete=broken)
    request = CompletionRequest(model="acme/m", messages=[Message(role="user", content="hi")])
    response = await hooks.complete(request, ProviderSettings(provider="acme"))
    assert response.message.content == "hello"
    other = CompletionRequest(model="zed/m", messages=request.messages)
    with pytest.raises(NoImplementationError, match=r"massgen-plugins-zed.*bad: RuntimeError: plugin bug"):
        await hooks.complete(other, ProviderSettings(provider="zed"))


async def test_an_async_def_complete_is_the_call_itself(hooks):
    async def complete(request, settings):
        return {"model": request.model, "message": {"role": "assistant", "content": "from a coroutine function"}}

    register(hooks, "acme", register_providers=lambda: {"name": "acme"}, complete=complete)
    request = CompletionRequest(model="acme/m", messages=[Message(role="user", content="hi")])
    response = await hooks.complete(request, ProviderSettings(provider="acme"))
    assert response.message.content == "from a coroutine function"


async def test_hook_stream(hooks):
    async def events():
        yield {"type": "text", "delta": "he"}
        yield {"type": "done"}

    register(hooks, "acme", stream=lambda request, settings: events() if request.provider == "acme" else None)
    register(hooks, "sloppy", stream=lambda request, settings: ["not", "async"])
    request = CompletionRequest(model="acme/m", messages=[Message(role="user", content="hi")])
    assert [e["type"] async for e in hooks.stream(request, ProviderSettings(provider="acme"))] == ["text", "done"]



async def test_coroutine_and_async_generator_providers_skip_the_worker_thread(hooks):
    """Creating a coroutine or an async generator runs no plugin code: the host calls such a
    ``complete``/``stream`` on the loop; a plain function still runs on a worker thread."""
    from massgen_plugins.hookcall import _WORKERS

    async def complete(request, settings):
        return {"model": request.model, "message": {"role": "assistant", "content": "direct"}}

    async def stream(request, settings):
        yield {"type": "text", "delta": "di"}
        yield {"type": "done", "response": {"model": request.model,
                                            "message": {"role": "assistant", "content": "di"}}}

    register(hooks, "acme", register_providers=lambda: {"name": "acme"}, complete=complete, stream=stream)
    register(hooks, "zed", register_providers=lambda: {"name": "zed"},
             complete=lambda request, settings: complete(request, settings))
    request = CompletionRequest(model="acme/m", messages=[Message(role="user", content="hi")])
    settings = ProviderSettings(provider="acme")
    hooks.provider_table()  # built once, up front (a synchronous hook call)
    before = _WORKERS.submitted
    assert (await hooks.complete(request, settings)).message.content == "direct"
    assert [e["type"] async for e in hooks.stream(request, settings)] == ["text", "done"]
    assert _WORKERS.submitted == before
    other = CompletionRequest(model="zed/m", messages=request.messages)
    assert (await hooks.complete(other, ProviderSettings(provider="zed"))).message.content == "direct"
    assert _WORKERS.submitted == before + 1



async def test_a_plugin_swapped_under_the_same_name_is_the_one_called(hooks):
    """Routed implementations are remembered between calls; replacing a plugin (even under
    the same name, with no call in between) or adding one is seen on the next call."""

    def answering(text):
        async def complete(request, settings):
            return {"model": request.model, "message": {"role": "assistant", "content": text}}
        return complete

    register(hooks, "acme", register_providers=lambda: {"name": "acme"}, complete=answering("first"))
    request = CompletionRequest(model="acme/m", messages=[Message(role="user", content="hi")])
    settings = ProviderSettings(provider="acme")
    assert (await hooks.complete(request, settings)).message.content == "first"
    assert (await hooks.complete(request, settings)).message.content == "first"
    hooks.pm.unregister(name="acme")
    register(hooks, "acme", register_providers=lambda: {"name": "acme"}, complete=answering("second"))
    assert (await hooks.complete(request, settings)).message.content == "second"
    # a plugin that owns no provider may answer for every provider: it is called once added
    register(hooks, "generic", count_tokens=lambda request: {"tokens": 3, "method": "estimate"})
    counted = hooks.count_tokens(TokenCountRequest(model="acme/m", messages=request.messages), settings)
    assert counted.value is not None and counted.value.tokens == 3 and counted.plugin == "generic"

@pytest.mark.parametrize("module", ["massgen_plugins_openai", "massgen_plugins_anthropic", "massgen_plugins_gemini",
                                    "massgen_plugins_groq", "massgen_plugins_nebius", "massgen_plugins_openrouter",
                                    "massgen_plugins_xai"])
def test_bundled_providers_declare_complete_as_a_coroutine_function(module):
    import importlib
    import inspect

    assert inspect.iscoroutinefunction(importlib.import_module(module).complete)


def test_hook_memory_store(hooks):
    class FakeStore:
        url = "mem://x"

    register(hooks, "mem", memory_store=lambda url: FakeStore() if url.startswith("mem://") else None)
    assert isinstance(hooks.memory_store("mem://x"), FakeStore)
    with pytest.raises(NoImplementationError, match="scheme 'redis'.*massgen-plugins-postgres"):
        hooks.memory_store("redis://localhost")


def test_hook_embed(hooks):
    assert hooks.embed(["a"]) is None  # no embeddings plugin: memory search falls back to BM25
    register(hooks, "vectors", embed=lambda texts, model: [[float(len(t))] for t in texts])
    assert hooks.embed(["ab", "c"]) == [[2.0], [1.0]]


async def test_hook_analyze_logs(hooks):
    async def llm(request):
        return {"analyzer": "llm", "markdown": "# report"} if request.model else None

    register(hooks, "deterministic", analyze_logs=lambda request: {"analyzer": "det", "summary": {"calls": 3}})
    register(hooks, "llm", analyze_logs=llm)
    register(hooks, "bad", analyze_logs=broken)
    without = await hooks.analyze_logs(AnalysisRequest(run_dir="/tmp/run"))
    assert [r.analyzer for r in without.values] == ["det"]
    assert [e.plugin for e in without.errors] == ["bad"]
    with_model = await hooks.analyze_logs(AnalysisRequest(run_dir="/tmp/run", model="acme/m"))
    assert sorted(r.analyzer for r in with_model.values) == ["det", "llm"]


def test_hook_register_commands(hooks):
    import click

    @click.command("hello")
    def hello() -> None:
        click.echo("hi")

    register(hooks, "adds", register_commands=lambda cli: cli.add_command(hello))
    register(hooks, "bad", register_commands=broken)
    group = click.Group("root")
    result = hooks.register_commands(group)
    assert group.commands["hello"] is hello
    assert {a.plugin: a.status for a in result.attempts}["bad"] == "error"
