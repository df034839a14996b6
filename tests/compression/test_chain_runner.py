"""The chain runner: stage order and replacement, skipped/rejected stages, the host's archive
safety net, re-entry protection, strategies and per-agent overrides, budget/ratio handling."""

from __future__ import annotations

import pytest
from massgen_plugins import hookimpl
from massgen_plugins.compression import (
    CompressionReentryError,
    InvalidConversationError,
    Strategy,
    compress_conversation,
    compress_conversation_sync,
    ordered_stages,
    resolve_strategy,
)
from massgen_plugins.compression.conversation import as_messages
from massgen_plugins.compression.synthetic import generate_conversation
from massgen_plugins.errors import InputError
from massgen_plugins.manager import get_host
from massgen_plugins.stages import compression_stage
from massgen_plugins.types import CompressionResult, Message

MODEL = "anthropic/claude-haiku-4-5"


@pytest.fixture
def register():
    pm = get_host().pm
    names = []

    def add(plugin, name):
        pm.register(plugin, name=name)
        names.append(name)
        return plugin

    yield add
    for name in names:
        pm.unregister(name=name)


@pytest.fixture
def conv():
    return generate_conversation(11, turns=20, tool_tokens=(100, 800), facts=4)


def test_builtin_stages_in_documented_order():
    names = [name for name, _, _ in ordered_stages()]
    builtin = [n for n in names if n in ("mask", "native", "summarize", "extract", "truncate")]
    assert builtin == [n for n in ("mask", "native", "summarize", "extract", "truncate") if n in names]
    assert {"mask", "summarize", "extract", "truncate"} <= set(names)


def test_already_within_budget_is_a_no_op(conv, no_keys):
    report = compress_conversation_sync(conv.messages, model=MODEL, budget=10_000_000)
    assert report.fits and report.stages == [] and report.archive == []
    assert [m.model_dump(exclude_unset=True) for m in report.messages] == conv.messages


def test_third_party_stage_replaces_builtin_by_name(conv, register, no_keys):
    calls = []

    class MySummarizer:
        @hookimpl
        @compression_stage("summarize")
        def compress(self, request):
            calls.append(request.budget)
            return None

    register(MySummarizer(), "my-summarizer")
    stages = {name: impl.plugin_name for name, _, impl in ordered_stages()}
    assert stages["summarize"] == "my-summarizer"
    report = compress_conversation_sync(conv.messages, model=MODEL, ratio=3, strategy="balanced",
                                        options={"stages": ["summarize", "truncate"]})
    assert calls, "the replacement stage was called"
    run = next(s for s in report.stages if s.name == "summarize")
    assert run.plugin == "my-summarizer" and run.status == "no-change"


def test_custom_stage_slots_in_by_order_and_its_output_is_used(conv, register, no_keys):
    class Dedupe:
        @hookimpl
        @compression_stage("dedupe", order=50)
        def compress(self, request):
            # drop the oldest whole turn (user + its replies), archiving nothing: the host must
            msgs = list(request.messages)
            first_user = next(i for i, m in enumerate(msgs) if m.role == "user")
            nxt = next(i for i in range(first_user + 1, len(msgs)) if msgs[i].role == "user")
            return CompressionResult(messages=msgs[:first_user] + msgs[nxt:], stage="dedupe")

    register(Dedupe(), "dedupe-plugin")
    assert [n for n, _, _ in ordered_stages()][0] == "dedupe"
    report = compress_conversation_sync(conv.messages, model=MODEL, ratio=1.05, strategy="balanced")
    run = report.stages[0]
    assert run.name == "dedupe" and run.status == "applied"
    assert any("the host archived them" in n for n in run.notes)
    assert run.archived >= 2 and all(a.stage == "dedupe" for a in report.archive[: run.archived])
    assert any(a.archived_by == "host" for a in report.archive)


def test_stage_output_that_breaks_an_invariant_is_rejected(conv, register, no_keys):
    class Breaker:
        @hookimpl
        @compression_stage("breaker", order=10)
        def compress(self, request):
            msgs = [m for m in request.messages if m.role != "assistant"]  # orphans every tool result
            return CompressionResult(messages=msgs, stage="breaker")

    class Forgetful:
        @hookimpl
        @compression_stage("forgetful", order=11)
        def compress(self, request):
            return CompressionResult(messages=request.messages[:-1], stage="forgetful")  # loses the latest turn

    register(Breaker(), "breaker")
    register(Forgetful(), "forgetful")
    report = compress_conversation_sync(conv.messages, model=MODEL, ratio=2)
    runs = {s.name: s for s in report.stages}
    assert runs["breaker"].status == "rejected" and "without its call" in runs["breaker"].reason
    assert runs["forgetful"].status == "rejected"
    assert report.fits


@pytest.mark.plugins("anthropic")
def test_failing_stage_is_skipped_with_reason_and_chain_continues(conv, register, no_keys):
    class Down:
        @hookimpl
        @compression_stage("down", order=120)
        def compress(self, request):
            raise ConnectionError("provider down (key sk-live-1234567890abcdefghij)")

    register(Down(), "down")
    report = compress_conversation_sync(conv.messages, model=MODEL, ratio=4)
    down = next(s for s in report.stages if s.name == "down")
    assert down.status == "skipped" and "provider down" in down.reason
    assert "sk-live-1234567890abcdefghij" not in down.reason  # redacted
    summarize = next(s for s in report.stages if s.name == "summarize")
    assert summarize.status == "skipped" and "ANTHROPIC_API_KEY" in summarize.reason
    assert report.fits and report.ran


def test_a_stage_cannot_start_a_compression_inside_the_chain(conv, register, no_keys):
    seen = []

    class Recursive:
        @hookimpl
        @compression_stage("recursive", order=60)
        async def compress(self, request):
            try:
                await compress_conversation(request.messages, model=request.model, budget=10)
            except CompressionReentryError as exc:
                seen.append(str(exc))
                raise
            return None

    register(Recursive(), "recursive")
    report = compress_conversation_sync(conv.messages, model=MODEL, ratio=2)
    assert seen and "never triggers compression of itself" in seen[0]
    assert next(s for s in report.stages if s.name == "recursive").status == "skipped"
    assert report.fits


def test_sync_wrapper_works_inside_a_running_loop(conv, no_keys):
    import asyncio

    async def main():
        return compress_conversation_sync(conv.messages, model=MODEL, ratio=2)

    assert asyncio.run(main()).fits


def test_strategies_differ_and_can_be_overridden_per_agent_and_call(conv, no_keys):
    assert resolve_strategy("conservative").keep_recent_tokens > resolve_strategy("aggressive").keep_recent_tokens
    agent = {"keep_recent_tokens": 123, "mask_min_tokens": 77}
    report = compress_conversation_sync(conv.messages, model=MODEL, ratio=2, strategy="aggressive",
                                        agent_strategy=agent, options={"mask_min_tokens": 99, "my_stage_knob": 1})
    assert report.strategy.name == "aggressive"
    assert report.strategy.keep_recent_tokens == 123 and report.strategy.mask_min_tokens == 99
    named = compress_conversation_sync(conv.messages, model=MODEL, ratio=2, agent_strategy="conservative")
    assert named.strategy.name == "conservative"
    only = compress_conversation_sync(conv.messages, model=MODEL, ratio=2, options={"stages": ["truncate"]})
    assert {s.name for s in only.stages if s.status != "not-allowed"} == {"truncate"}
    assert Strategy.model_validate(report.strategy.model_dump()) == report.strategy


def test_bad_arguments_are_input_errors(conv):
    with pytest.raises(InputError, match="exactly one of budget"):
        compress_conversation_sync(conv.messages, model=MODEL)
    with pytest.raises(InputError, match="exactly one of budget"):
        compress_conversation_sync(conv.messages, model=MODEL, budget=10, ratio=2)
    with pytest.raises(InputError, match="unknown strategy"):
        compress_conversation_sync(conv.messages, model=MODEL, budget=10, strategy="yolo")
    with pytest.raises(InputError, match="unknown strategy option"):
        resolve_strategy("balanced", {"keep_recnt_tokens": 5})
    with pytest.raises(InputError, match="provider/model"):
        compress_conversation_sync(conv.messages, model="gpt-4o", budget=10)
    bad = [{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "nope", "content": "r"}]
    with pytest.raises(InvalidConversationError, match="message 1"):
        compress_conversation_sync(bad, model=MODEL, budget=10)


@pytest.mark.parametrize(("ratio", "expected"), [(4, 0.25), (0.25, 0.25), (2, 0.5)])
def test_ratio_both_ways(conv, ratio, expected, no_keys):
    report = compress_conversation_sync(conv.messages, model=MODEL, ratio=ratio)
    assert report.budget == int(report.tokens_before * expected)
    assert report.tokens_after <= report.budget


def test_anthropic_trailing_whitespace_on_final_assistant_is_repaired(no_keys):
    msgs = [{"role": "user", "content": "x " * 50}, {"role": "assistant", "content": "partial answer   "}]
    report = compress_conversation_sync(msgs, model=MODEL, budget=10_000)
    assert report.messages[-1].content == "partial answer"
    assert any("trailing whitespace" in n for n in report.notes)


def test_messages_may_be_message_objects(conv, no_keys):
    report = compress_conversation_sync(as_messages(conv.messages), model=MODEL, ratio=2)
    assert all(isinstance(m, Message) for m in report.messages)
