"""Moving a conversation off the provider that compacted it natively."""

from __future__ import annotations

from massgen_plugins.guard.portable import expand, foreign_compactions
from massgen_plugins.types import ArchivedMessage, Message


def test_expansion_restores_the_original_order():
    call = {"id": "c1", "type": "function", "function": {"name": "read", "arguments": "{}"}}
    original = [Message(role="user", content="u1"), Message(role="assistant", tool_calls=[call]),
                Message(role="tool", tool_call_id="c1", content="big result"),
                Message(role="assistant", content="a1"), Message(role="user", content="u2"),
                Message(role="assistant", content="a2")]
    archive = [ArchivedMessage(id=f"m{i}", message=m, replaced_by="cmp_1", stage="native", position=i,
                               kept=m.role == "user") for i, m in enumerate(original)]
    item = Message(role="assistant", content=[{"type": "compaction", "id": "cmp_1", "encrypted_content": "x"}])
    compacted = [Message(role="system", content="s"), original[0], original[4], item,
                 Message(role="user", content="latest")]
    assert foreign_compactions(compacted, "anthropic") == [3] and foreign_compactions(compacted, "openai") == []
    expanded, replaced = expand(compacted, archive, "anthropic")
    assert replaced == 1
    assert [m.content for m in expanded] == ["s", "u1", None, "big result", "a1", "u2", "a2", "latest"]
