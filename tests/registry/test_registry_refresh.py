"""Refreshing model lists against the emulator through the real provider plugins and SDKs."""

from __future__ import annotations

import json
import logging
import time

import pytest
from massgen_plugins.registry import cache, list_models, load_catalog
from massgen_plugins.testing import EmulatedModel, Fault

from .conftest import PROVIDERS, list_requests

pytestmark = pytest.mark.plugins("openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter")  # drives provider plugins end to end


def test_every_provider_is_listed_from_its_api(registry_env):
    emu = registry_env
    catalog = load_catalog(include_all=True, timeout=60)
    assert catalog.warnings == []
    for provider in PROVIDERS:
        report = catalog.providers[provider]
        assert report.source == "api", (provider, report)
        listed = {m.id for m in catalog.models if m.provider == provider}
        assert listed == {m.id for m in emu.models(provider)}, provider
        assert cache.read(provider) is not None


@pytest.mark.parametrize("provider, count, page_marker", [
    ("anthropic", 250, "after_id"),
    ("gemini", 450, "pageToken"),
])
def test_all_pages_of_a_paginated_provider_are_listed(registry_env, provider, count, page_marker):
    emu = registry_env
    big = [EmulatedModel(id=f"{provider}-bulk-{i:04d}", context_window=100_000 + i, max_output=1000)
           for i in range(count)]
    emu.set_models(provider, big)
    models = list_models([provider], include_all=True, timeout=60)
    assert sorted(m.id for m in models) == sorted(m.id for m in big)
    by_id = {m.id: m for m in models}
    assert by_id[f"{provider}-bulk-0123"].context_window == 100_123  # the window of a later page
    assert by_id[f"{provider}-bulk-0123"].provenance["context_window"] == "api"
    requests = list_requests(emu, provider)
    assert len(requests) >= 2
    assert any(page_marker in r.query for r in requests[1:])


def test_default_catalogues_need_pages_and_all_are_listed(registry_env):
    """The default page sizes with the default catalogues: nothing after page one is lost."""
    emu = registry_env
    catalog = load_catalog(["anthropic", "gemini"], include_all=True, timeout=60)
    for provider in ("anthropic", "gemini"):
        assert {m.id for m in catalog.models if m.provider == provider} == {m.id for m in emu.models(provider)}


def _prime(providers, **kw):
    catalog = load_catalog(providers, include_all=True, timeout=60, **kw)
    for p in providers:
        assert catalog.providers[p].source == "api", catalog.providers[p]
    return catalog


def test_server_error_serves_the_stale_cache_with_a_warning(registry_env, caplog):
    emu = registry_env
    _prime(["groq"])
    before = cache.read("groq")
    emu.clear()
    emu.inject(Fault(kind="server_error", provider="groq", times=None))
    with caplog.at_level(logging.WARNING, logger="massgen_plugins.registry"):
        models = list_models(["groq"], refresh=True, include_all=True, timeout=30)
    assert {m.id for m in models} == {m["id"] for m in before.models}
    assert all(m.stale and m.source == "cache" for m in models)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and lines[0].startswith("groq: model list refresh failed (")
    assert "500" in lines[0] and "serving the cached list" in lines[0]
    assert cache.read("groq").fetched_at == before.fetched_at
    assert len(list_requests(emu, "groq")) == 3  # a 500 is retried, boundedly


def test_expired_cache_refreshes_and_failure_marks_it_stale(registry_env, monkeypatch):
    emu = registry_env
    _prime(["openai"])
    monkeypatch.setenv("MASSGEN_PLUGINS_MODELS_TTL", "0")
    emu.clear()
    emu.inject(Fault(kind="unavailable", provider="openai", times=None))
    catalog = load_catalog(["openai"], timeout=30)
    report = catalog.providers["openai"]
    assert report.source == "cache" and report.stale and report.refreshed
    assert "503" in report.error
    assert any(w.startswith("openai:") for w in catalog.warnings)


def test_a_hanging_provider_times_out_while_the_others_return(registry_env):
    emu = registry_env
    load_catalog(include_all=True, timeout=60)  # SDKs imported and caches filled, so 4 s is plenty
    emu.clear()
    emu.inject(Fault(kind="hang", provider="xai", times=None, seconds=60))
    started = time.monotonic()
    catalog = load_catalog(include_all=True, refresh=True, timeout=4)
    elapsed = time.monotonic() - started
    assert elapsed < 60  # nobody waited for the hang to end
    xai = catalog.providers["xai"]
    assert xai.source == "cache" and xai.stale and "timed out after 4s" in xai.error
    assert [w for w in catalog.warnings if w.startswith("xai:")]
    for provider in PROVIDERS:
        if provider != "xai":
            assert catalog.providers[provider].source == "api", catalog.providers[provider]
    # xAI's bundled data still answers (its API has no window field anyway)
    assert any(m.provider == "xai" and m.context_window for m in catalog.models)


def test_a_429_with_retry_after_is_retried(registry_env):
    emu = registry_env
    emu.inject(Fault(kind="rate_limit", provider="openai", times=2, retry_after=0.3))
    catalog = load_catalog(["openai"], include_all=True, timeout=30)
    report = catalog.providers["openai"]
    assert report.source == "api" and report.error is None
    assert report.attempts == 3
    assert report.retries == [pytest.approx(0.3, abs=0.01)] * 2  # the delay the provider asked for
    statuses = [r.status for r in list_requests(emu, "openai")]
    assert statuses == [429, 429, 200]


def test_a_retry_after_longer_than_the_budget_is_not_waited_for(registry_env):
    emu = registry_env
    emu.inject(Fault(kind="rate_limit", provider="groq", times=None, retry_after=120))
    started = time.monotonic()
    catalog = load_catalog(["groq"], timeout=20)
    assert time.monotonic() - started < 20
    report = catalog.providers["groq"]
    assert report.attempts == 1 and report.source == "bundled"
    assert "retry-after 120.0s exceeds" in report.error
    assert len(list_requests(emu, "groq")) == 1


def test_an_empty_response_does_not_overwrite_a_good_cache(registry_env):
    emu = registry_env
    _prime(["nebius"])
    before = cache.cache_path("nebius").read_bytes()
    emu.set_models("nebius", [])
    catalog = load_catalog(["nebius"], refresh=True, include_all=True, timeout=30)
    assert cache.cache_path("nebius").read_bytes() == before
    report = catalog.providers["nebius"]
    assert report.source == "cache" and report.stale
    assert "empty model list" in report.error
    assert {m.id for m in catalog.models} == {m["id"] for m in json.loads(before)["models"]}


def test_an_implausibly_small_list_does_not_overwrite_a_good_cache(registry_env):
    emu = registry_env
    _prime(["gemini"])
    before = cache.read("gemini")
    emu.set_models("gemini", [EmulatedModel(id="gemini-lonely", context_window=32_000)])
    catalog = load_catalog(["gemini"], refresh=True, include_all=True, timeout=30)
    assert cache.read("gemini").fetched_at == before.fetched_at
    assert "implausibly small" in catalog.providers["gemini"].error
    assert "gemini-lonely" not in {m.id for m in catalog.models}


def test_offline_makes_no_request(registry_env):
    emu = registry_env
    catalog = load_catalog(offline=True, include_all=True)  # cold: no cache at all
    assert emu.requests == []
    assert {r.source for r in catalog.providers.values()} == {"bundled"}
    _prime(["openai", "anthropic"])
    emu.clear()
    catalog = load_catalog(offline=True, refresh=False)
    assert emu.requests == []
    assert catalog.providers["openai"].source == "cache"
    assert catalog.providers["groq"].source == "bundled"


def test_a_fresh_cache_is_used_without_requests(registry_env):
    emu = registry_env
    _prime(list(PROVIDERS))
    emu.clear()
    catalog = load_catalog()
    assert {r.source for r in catalog.providers.values()} == {"cache"}
    assert [r for r in emu.requests if r.provider != "openrouter"] == []
    assert not any(m.stale for m in catalog.models)


def test_missing_key_does_not_fetch_and_says_which_variable(registry_env, monkeypatch):
    emu = registry_env
    monkeypatch.delenv("GROQ_API_KEY")
    catalog = load_catalog(["groq"])
    report = catalog.providers["groq"]
    assert report.source == "bundled" and not report.refreshed
    assert "GROQ_API_KEY" in report.note
    assert list_requests(emu, "groq") == []


def test_the_warm_view_expires_with_its_inputs(registry_env):
    from massgen_plugins.registry import config, view

    load_catalog(["groq", "openai"])
    found = view.lookup(["groq", "openai"], config.ttl())
    assert found is not None and set(found["providers"]) == {"groq", "openai"}
    assert view.lookup(["groq", "anthropic"], config.ttl()) is None  # anthropic was never built
    assert view.lookup(["groq"], ttl=0) is None  # past the TTL
    # a third-party catalogue due for a refresh invalidates the view
    from massgen_plugins.registry import openrouter_source

    third = openrouter_source._path()  # kept apart per OPENROUTER_BASE_URL (here: the emulator's)
    data = json.loads(third.read_text())
    data["fetched_at"] -= 2 * 86400
    third.write_text(json.dumps(data))
    assert view.lookup(["groq"], config.ttl()) is None
    openrouter_source.clear_memo()  # as in the next process
    load_catalog(["groq"])  # the full build refreshes the catalogue and the view
    assert view.lookup(["groq"], config.ttl()) is not None
    # a rewritten provider cache invalidates it too
    entry = cache.read("groq")
    cache.write("groq", entry.models, fetched_at=entry.fetched_at)
    assert view.lookup(["groq"], config.ttl()) is None
