"""The built-in stages one by one: what mask, extract and truncate keep, and their provenance."""

from __future__ import annotations

import pytest
from massgen_plugins.compression import compress_conversation_sync
from massgen_plugins.compression.conversation import message_id
from massgen_plugins.compression.synthetic import generate_conversation, kept_facts
from massgen_plugins.compression.truncate import _level

MODEL = "openai/gpt-4o"


def _by_id(report):
    return {message_id(m): m for m in report.messages}


def test_mask_replaces_old_large_results_with_stubs_that_name_the_archive(no_keys):
    conv = generate_conversation(21, turns=16, tool_tokens=(900, 1_200), facts=8)
    report = compress_conversation_sync(conv.messages, model=MODEL, ratio=1.6, options={"stages": ["mask"]})
    assert report.ran == ["mask"]
    stubs = [m for m in report.messages if m.role == "tool" and str(m.content).startswith("[tool result masked")]
    assert stubs
    outputs = _by_id(report)
    for record in report.archive:
        assert record.stage == "mask" and record.message.role == "tool"
        stub = outputs[record.replaced_by]
        assert record.id in stub.content and stub.tool_call_id == record.message.tool_call_id
    # masking goes oldest first: the newest tool results are untouched
    last_tool = [m for m in report.messages if m.role == "tool"][-1]
    assert not str(last_tool.content).startswith("[tool result masked")


def test_mask_stub_keeps_key_lines_of_the_output(no_keys):
    out = "\n".join(f"{k:05d} nothing to see here at all" for k in range(400)) + \
        "\nCreated ticket BIL-48213 for the billing migration.\n" + \
        "\n".join(f"{k:05d} more filler lines follow" for k in range(400))
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "look"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "shell", "arguments": "{\"cmd\": \"ls\"}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": out},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "and now? " * 5}]
    report = compress_conversation_sync(msgs, model=MODEL, budget=800, strategy="aggressive",
                                        options={"stages": ["mask"]})
    stub = report.messages[3].content
    assert "BIL-48213" in stub and "shell" in stub


def test_extract_keeps_constraints_decisions_and_identifiers(no_keys):
    conv = generate_conversation(5, turns=40, tool_tokens=(50, 300), facts=16, tool_share=0.5)
    report = compress_conversation_sync(conv.messages, model=MODEL, ratio=4, strategy="balanced",
                                        options={"stages": ["extract"]})
    assert report.ran == ["extract"]
    extract = report.messages[1]
    assert extract.role == "user" and extract.content.startswith("[Extract of the earlier conversation")
    assert all(a.replaced_by == message_id(extract) for a in report.archive)
    kept = kept_facts(conv.facts, report.messages)
    assert len(kept) >= 0.75 * len(conv.facts), [f.key for f in conv.facts if f not in kept]


def test_extract_is_deterministic(no_keys):
    conv = generate_conversation(6, turns=25, facts=6)
    a = compress_conversation_sync(conv.messages, model=MODEL, ratio=3, options={"stages": ["extract"]})
    b = compress_conversation_sync(conv.messages, model=MODEL, ratio=3, options={"stages": ["extract"]})
    assert [m.model_dump() for m in a.messages] == [m.model_dump() for m in b.messages]


def test_truncate_cuts_the_middle_and_keeps_head_and_tail(no_keys):
    big = "HEAD-MARKER " + ("filler words go here " * 3000) + " TAIL-MARKER"
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "first"},
            {"role": "assistant", "content": big}, {"role": "user", "content": "second question"}]
    report = compress_conversation_sync(msgs, model=MODEL, budget=1_500, options={"stages": ["truncate"]})
    cut = report.messages[2].content
    assert cut.startswith("HEAD-MARKER") and cut.endswith("TAIL-MARKER")
    assert "tokens cut from the middle" in cut and report.archive[0].id in cut
    assert report.messages[3].content == "second question"


def test_truncate_drops_oldest_whole_turns_when_cutting_is_not_enough(no_keys):
    conv = generate_conversation(8, turns=30, tool_tokens=(40, 120), parallel_share=0.6)
    report = compress_conversation_sync(conv.messages, model=MODEL, budget=1_200, options={"stages": ["truncate"]})
    note = report.messages[1]
    assert note.role == "user" and "were removed to fit the context window" in note.content
    assert {a.replaced_by for a in report.archive if a.message.role == "tool"} - {None}


@pytest.mark.parametrize(("sizes", "excess", "floor", "level"), [
    ([100, 50, 10], 60, 5, 45),      # cut 100->45 (55) and 50->45 (5)
    ([100, 50, 10], 10, 5, 90),
    ([100, 100], 300, 5, 5),         # cannot free enough: down to the floor
])
def test_water_level(sizes, excess, floor, level):
    got = _level(sizes, excess, floor)
    assert got == level
    if level > floor:
        assert sum(max(0, s - got) for s in sizes) >= excess
