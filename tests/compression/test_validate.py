"""validate_conversation: each rule, with the reason it reports."""

from __future__ import annotations

import pytest
from massgen_plugins.compression import InvalidConversationError, validate_conversation
from massgen_plugins.compression.conversation import as_messages
from massgen_plugins.compression.errors import InvariantViolation
from massgen_plugins.compression.invariants import check_preserved


def call(cid, name="read_file"):
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": "{}"}}


GOOD = [
    {"role": "system", "content": "sys"},
    {"role": "user", "content": "go"},
    {"role": "assistant", "content": None, "tool_calls": [call("a"), call("b")]},
    {"role": "tool", "tool_call_id": "b", "content": "B"},
    {"role": "tool", "tool_call_id": "a", "content": "A"},
    {"role": "assistant", "content": "done"},
    {"role": "user", "content": "next"},
]


def test_a_valid_conversation_passes_for_every_provider():
    for provider in (None, "openai", "anthropic", "gemini/gemini-2.5-flash"):
        validate_conversation(GOOD, provider)


@pytest.mark.parametrize(("messages", "provider", "reason"), [
    ([], None, "empty"),
    ([{"role": "system", "content": "s"}], None, "no user message"),
    ([{"role": "assistant", "content": "hi"}, {"role": "user", "content": "x"}], None, "must come from the user"),
    ([{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "zz", "content": "r"}], None,
     "a result without its call"),
    ([{"role": "user", "content": "x"}, {"role": "assistant", "content": None, "tool_calls": [call("a")]},
      {"role": "user", "content": "y"}], None, "a call without its result"),
    ([{"role": "user", "content": "x"}, {"role": "assistant", "content": None, "tool_calls": [call("a")]}], None,
     "have no result"),
    ([{"role": "user", "content": "x"}, {"role": "assistant", "content": None, "tool_calls": [call("a")]},
      {"role": "tool", "tool_call_id": "a", "content": "r"}, {"role": "tool", "tool_call_id": "a", "content": "r"}],
     None, "a result without its call"),
    ([{"role": "user", "content": "x"}, {"role": "assistant", "content": "answer  \n"}], "anthropic",
     "ends with whitespace"),
    ([{"role": "user", "content": ""}, {"role": "assistant", "content": "a"}, {"role": "user", "content": "b"}],
     "anthropic", "empty content"),
    ([{"role": "user", "content": "x"},
      {"role": "assistant", "content": [{"type": "compaction", "id": "c1", "encrypted_content": "zz"}]},
      {"role": "user", "content": "y"}], "anthropic", "only understood by openai"),
])
def test_each_rule_names_its_reason(messages, provider, reason):
    with pytest.raises(InvalidConversationError, match=reason):
        validate_conversation(messages, provider)


def test_trailing_whitespace_and_compaction_parts_are_fine_for_openai():
    validate_conversation([{"role": "user", "content": "x"}, {"role": "assistant", "content": "answer  \n"}], "openai")
    validate_conversation([{"role": "user", "content": "x"},
                           {"role": "assistant", "content": [{"type": "compaction", "id": "c", "encrypted_content": "z"}]},
                           {"role": "user", "content": "y"}], "openai")


def test_budget_rule():
    with pytest.raises(InvalidConversationError, match="exceed the budget of 100 by 20"):
        validate_conversation(GOOD, "openai", budget=100, tokens=120)


def test_check_preserved():
    original = as_messages(GOOD)
    check_preserved(original, original)
    changed_system = as_messages([{"role": "system", "content": "other"}, *GOOD[1:]])
    with pytest.raises(InvariantViolation, match="system prompt"):
        check_preserved(original, changed_system)
    changed_user = as_messages([*GOOD[:-1], {"role": "user", "content": "next (edited)"}])
    with pytest.raises(InvariantViolation, match="latest user message"):
        check_preserved(original, changed_user)
