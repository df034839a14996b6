"""Property-style tests: over seeded generated conversations (tool calls, parallel calls,
multi-part content, huge tool outputs, unfinished tool loops), every invariant holds for every
strategy and budget -- or the chain says clearly by how much it cannot fit."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest
from massgen_plugins.compression import CannotFitError, compress_conversation_sync
from massgen_plugins.compression.synthetic import generate_conversation
from massgen_plugins.tokens import counter_for

_spec = importlib.util.spec_from_file_location("invariant_checks", pathlib.Path(__file__).with_name("invariant_checks.py"))
checks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(checks)

MODELS = ("anthropic/claude-haiku-4-5", "openai/gpt-4o-mini", "gemini/gemini-2.5-flash")
STRATEGIES = ("conservative", "balanced", "aggressive")


def _conversation(seed: int):
    return generate_conversation(
        seed,
        turns=8 + seed % 25,
        tool_tokens=(20, 600),
        huge_every=4 if seed % 3 == 0 else 0,
        huge_tokens=2_500 + 250 * seed,
        parallel_share=0.4,
        multipart_share=0.3,
        end_in_tool_loop=seed % 4 == 1,
        facts=6,
    )


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_invariant_holds(seed, strategy, no_keys):
    conv = _conversation(seed)
    model = MODELS[seed % len(MODELS)]
    counter = counter_for(model)
    total = counter.with_margin(counter.count(conv.messages, conv.tools))
    for fraction in (0.6, 0.25, 0.08):
        budget = max(200, int(total * fraction))
        try:
            report = compress_conversation_sync(conv.messages, model=model, budget=budget, strategy=strategy,
                                                tools=conv.tools)
        except CannotFitError as exc:
            # only allowed when the protected part (system + tools + latest turn) is what is too big
            assert exc.over_by > 0 and exc.needed > budget
            assert f"{exc.over_by:,} more than the budget of {budget:,}" in str(exc)
            latest = max(i for i, m in enumerate(conv.messages) if m["role"] == "user")
            protected = counter.with_margin(
                counter.count([conv.messages[0], *conv.messages[latest:]], conv.tools))
            assert protected > budget * 0.5, "gave up although the latest turn is small"
            continue
        checks.assert_invariants(conv.messages, report, model, budget, conv.tools)
        assert report.tokens_before == total


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_latest_user_turn_alone_over_budget_is_a_clear_error(strategy, no_keys):
    conv = generate_conversation(7, turns=6, latest_user_tokens=3_000)
    with pytest.raises(CannotFitError) as info:
        compress_conversation_sync(conv.messages, model="openai/gpt-4o", budget=1_000, strategy=strategy,
                                   tools=conv.tools)
    err = info.value
    assert err.budget == 1_000 and err.over_by == err.needed - 1_000 > 1_500
    assert "latest user message alone need" in str(err) and f"{err.over_by:,} more than the budget" in str(err)


@pytest.mark.parametrize("seed", range(4))
def test_huge_tool_output_in_the_latest_turn_is_cut_not_dropped(seed, no_keys):
    conv = generate_conversation(seed, turns=5, end_in_tool_loop=True, huge_every=1, huge_tokens=12_000,
                                 tool_share=1.0)
    report = compress_conversation_sync(conv.messages, model="anthropic/claude-haiku-4-5", budget=6_000,
                                        tools=conv.tools)
    checks.assert_invariants(conv.messages, report, "anthropic/claude-haiku-4-5", 6_000, conv.tools)
    # the unfinished tool loop is still there: every call of the last assistant step has its result
    last_calls = [m for m in report.messages if m.role == "assistant" and m.tool_calls][-1]
    results = {m.tool_call_id for m in report.messages if m.role == "tool"}
    assert {c.id for c in last_calls.tool_calls} <= results
