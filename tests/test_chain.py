"""The chaining helpers: order, skip-on-error with the recorded reason, first result, collect-all."""

from __future__ import annotations

import pytest
from massgen_plugins import hookimpl
from massgen_plugins.hookcall import (
    acollect_all,
    afirst_result,
    collect_all,
    first_result,
    implementations,
)
from massgen_plugins.manager import create_manager


def _plugin(name: str, behaviour):
    """A throwaway plugin implementing ``embed`` with ``behaviour(texts)``."""

    class Plugin:
        __name__ = name

        @hookimpl
        def embed(self, texts, model):
            return behaviour(texts)

    return Plugin()


def _boom(texts):
    raise RuntimeError("backend down")


@pytest.fixture
def pm():
    return create_manager()


def test_implementations_follow_call_order_last_registered_first(pm):
    pm.register(_plugin("first", lambda t: None), name="first")
    pm.register(_plugin("second", lambda t: None), name="second")
    assert [i.plugin_name for i in implementations(pm, "embed")] == ["second", "first"]


def test_tryfirst_and_trylast_are_respected(pm):
    class Late:
        @hookimpl(trylast=True)
        def embed(self, texts, model):
            return [[0.0]]

    class Early:
        @hookimpl(tryfirst=True)
        def embed(self, texts, model):
            return None

    pm.register(Early(), name="early")
    pm.register(Late(), name="late")
    pm.register(_plugin("middle", lambda t: None), name="middle")
    assert [i.plugin_name for i in implementations(pm, "embed")] == ["early", "middle", "late"]


def test_first_result_skips_a_raising_plugin_and_records_why(pm):
    pm.register(_plugin("good", lambda t: [[1.0]]), name="good")
    pm.register(_plugin("broken", _boom), name="broken")
    result = first_result(pm, "embed", {"texts": ["a"], "model": None})
    assert result.value == [[1.0]] and result.plugin == "good"
    assert [(a.plugin, a.status) for a in result.attempts] == [("broken", "error"), ("good", "result")]
    assert result.skipped[0].error == "RuntimeError: backend down"


def test_first_result_stops_at_the_first_answer(pm):
    calls = []
    pm.register(_plugin("later", lambda t: calls.append("later") or [[2.0]]), name="later")
    pm.register(_plugin("earlier", lambda t: calls.append("earlier") or [[1.0]]), name="earlier")
    assert first_result(pm, "embed", {"texts": [], "model": None}).value == [[1.0]]
    assert calls == ["earlier"]


def test_none_means_not_mine_and_passes_on(pm):
    pm.register(_plugin("answers", lambda t: [[3.0]]), name="answers")
    pm.register(_plugin("declines", lambda t: None), name="declines")
    result = first_result(pm, "embed", {"texts": [], "model": None})
    assert result.plugin == "answers"
    assert result.attempts[0].status == "none"


def test_invalid_results_are_rejected_with_the_reason(pm):
    def accept(value):
        if not isinstance(value, list):
            raise TypeError(f"expected a list, got {type(value).__name__}")
        return value

    pm.register(_plugin("good", lambda t: [[1.0]]), name="good")
    pm.register(_plugin("sloppy", lambda t: "not vectors"), name="sloppy")
    result = first_result(pm, "embed", {"texts": [], "model": None}, accept=accept)
    assert result.plugin == "good"
    assert result.skipped[0].status == "rejected"
    assert "expected a list, got str" in result.skipped[0].error


def test_no_answer_at_all(pm):
    pm.register(_plugin("broken", _boom), name="broken")
    result = first_result(pm, "embed", {"texts": [], "model": None})
    assert result.value is None and result.plugin is None and len(result.skipped) == 1


def test_collect_all_isolates_errors_and_keeps_order(pm):
    pm.register(_plugin("a", lambda t: [[1.0]]), name="a")
    pm.register(_plugin("b", _boom), name="b")
    pm.register(_plugin("c", lambda t: [[3.0]]), name="c")
    out = collect_all(pm, "embed", {"texts": [], "model": None})
    assert out.results == [("c", [[3.0]]), ("a", [[1.0]])]
    assert [(e.plugin, e.error) for e in out.errors] == [("b", "RuntimeError: backend down")]


def test_strict_mode_reraises(pm, monkeypatch):
    monkeypatch.setenv("MASSGEN_PLUGINS_STRICT", "1")
    pm.register(_plugin("broken", _boom), name="broken")
    with pytest.raises(RuntimeError, match="backend down"):
        first_result(pm, "embed", {"texts": [], "model": None})


async def test_async_helpers_await_coroutines(pm):
    async def later(value):
        return value

    pm.register(_plugin("async-good", lambda t: later([[5.0]])), name="async-good")
    pm.register(_plugin("async-none", lambda t: later(None)), name="async-none")
    pm.register(_plugin("broken", _boom), name="broken")
    first = await afirst_result(pm, "embed", {"texts": [], "model": None})
    assert first.value == [[5.0]] and first.plugin == "async-good"
    assert [a.status for a in first.attempts] == ["error", "none", "result"]
    everything = await acollect_all(pm, "embed", {"texts": [], "model": None})
    assert everything.values == [[[5.0]]] and len(everything.errors) == 1


def test_an_async_implementation_called_from_sync_code_is_awaited(pm):
    class Async:
        @hookimpl
        async def embed(self, texts, model):
            return [[float(len(t))] for t in texts]

    pm.register(Async(), name="async")
    assert first_result(pm, "embed", {"texts": ["abc"], "model": None}).value == [[3.0]]


async def test_a_plugins_own_timeout_error_is_an_error_not_a_missed_deadline(pm):
    class Slowpoke:
        @hookimpl
        async def embed(self, texts, model):
            raise TimeoutError("the embedding service timed out")

    pm.register(Slowpoke(), name="slowpoke")
    result = await afirst_result(pm, "embed", {"texts": ["a"], "model": None})
    assert [(a.status, a.error) for a in result.attempts] == [("error", "TimeoutError: the embedding service timed out")]


def test_deadlines_come_from_the_environment_and_bad_ones_are_input_errors(monkeypatch):
    from massgen_plugins.errors import InputError
    from massgen_plugins.hookcall import DEFAULT_DEADLINES, deadline

    monkeypatch.delenv("MASSGEN_PLUGINS_HOOK_DEADLINES", raising=False)
    assert deadline("detect_overflow") == DEFAULT_DEADLINES["detect_overflow"]
    monkeypatch.setenv("MASSGEN_PLUGINS_HOOK_DEADLINES", "*=3, compress=9")
    assert (deadline("embed"), deadline("compress")) == (3.0, 9.0)
    monkeypatch.setenv("MASSGEN_PLUGINS_HOOK_DEADLINES", "detect_overflow=soon")
    with pytest.raises(InputError, match="MASSGEN_PLUGINS_HOOK_DEADLINES entry 'detect_overflow=soon'"):
        deadline("detect_overflow")


def test_a_blocking_implementation_is_abandoned_at_its_deadline_and_the_next_answers(pm):
    import threading

    from massgen_plugins.hookcall import HookCall

    release = threading.Event()
    pm.register(_plugin("answers", lambda t: [[1.0]]), name="answers")
    pm.register(_plugin("blocks", lambda t: release.wait(60) and None), name="blocks")
    try:
        result = HookCall(pm, "embed", {"texts": ["a"], "model": None}, limit=0.2).run()
    finally:
        release.set()
    assert result.value == [[1.0]] and result.plugin == "answers"
    assert [(a.plugin, a.status) for a in result.attempts] == [("blocks", "timeout"), ("answers", "result")]
    assert "no answer within 0.2 s" in result.skipped[0].error
