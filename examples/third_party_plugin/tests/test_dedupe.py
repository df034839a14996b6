"""Tests for the example plugin: call the hook implementation the way the host does."""

import massgen_plugins_dedupe as plugin
from massgen_plugins.stages import stage_meta
from massgen_plugins.types import CompressionRequest, Message

BIG = "line of a large file\n" * 50


def _conversation(second_result: str) -> list[Message]:
    call = lambda i: {"id": f"call_{i}", "type": "function", "function": {"name": "read", "arguments": "{}"}}  # noqa: E731
    return [
        Message(role="system", content="You are careful."),
        Message(role="user", content="Read the file twice."),
        Message(role="assistant", tool_calls=[call(1)]),
        Message(role="tool", tool_call_id="call_1", content=BIG),
        Message(role="assistant", tool_calls=[call(2)]),
        Message(role="tool", tool_call_id="call_2", content=second_result),
        Message(role="user", content="What changed?"),
    ]


def test_older_duplicate_is_stubbed_and_archived():
    request = CompressionRequest(model="openai/gpt-4o-mini", messages=_conversation(BIG), budget=100)
    result = plugin.compress(request)
    assert result is not None and result.stage == "dedupe"
    assert "identical to the later result call_2" in result.messages[3].content
    assert result.messages[5].content == BIG  # the latest copy is kept verbatim
    assert result.messages[3].tool_call_id == "call_1"  # the call/result pair stays intact
    assert [a.message.content for a in result.archived] == [BIG]


def test_no_duplicates_means_no_answer():
    request = CompressionRequest(model="openai/gpt-4o-mini", messages=_conversation(BIG + "changed"), budget=100)
    assert plugin.compress(request) is None


def test_declares_its_place_in_the_chain():
    assert stage_meta(plugin.compress, "dedupe") == ("dedupe", 150)
