"""Native compaction through /responses/compact with the real openai SDK against the emulator,
and the round trip: the compacted conversation is accepted by the next /responses call."""

from __future__ import annotations

import massgen_plugins_openai as plugin
import pytest
from massgen_plugins.errors import MissingCredentialsError
from massgen_plugins.stages import stage_meta
from massgen_plugins.types import CompletionRequest, CompressionRequest, Message, ToolCall

SYSTEM = Message(role="system", content="You are the build agent. Keep ticket ids.")
LATEST = Message(role="user", content="Now deploy ticket T-4411 to staging.")


def _call(call_id: str, city: str) -> ToolCall:
    return ToolCall(id=call_id, function={"name": "get_weather", "arguments": f'{{"city": "{city}"}}'})


def _history() -> list[Message]:
    return [
        SYSTEM,
        Message(role="user", content="Ticket T-4410: the build fails on step 3. " * 30),
        Message(role="assistant", content="I looked at T-4410; step 3 needs cache key 77. " * 30),
        Message(role="user", content="Check the weather in Oslo for the offsite."),
        Message(role="assistant", content=None, tool_calls=[_call("call_a", "Oslo"), _call("call_b", "Bergen")]),
        Message(role="tool", tool_call_id="call_a", content="Oslo: -3C, snow " * 20),
        Message(role="tool", tool_call_id="call_b", content="Bergen: 4C, rain " * 20),
        Message(role="assistant", content="Oslo is snowy, Bergen rainy."),
        LATEST,
    ]


def _responses_calls(emu):
    return [r for r in emu.requests_for("openai") if r.path.endswith("/responses")]


def _parts(message: Message) -> list[dict]:
    return [p for p in message.content or [] if isinstance(p, dict)] if isinstance(message.content, list) else []


def _compaction_messages(messages: list[Message]) -> list[Message]:
    return [m for m in messages if any(p.get("type") == "compaction" for p in _parts(m))]


async def test_compact_keeps_system_and_latest_user_and_archives_the_rest(emulator_env):
    history = _history()
    result = await plugin.compress(CompressionRequest(model="openai/gpt-4o", messages=history, budget=500))
    assert result.stage == "native"
    assert result.messages[0] == SYSTEM and result.messages[-1] == LATEST
    [holder] = _compaction_messages(result.messages)
    [part] = _parts(holder)
    assert holder.role == "assistant" and part["id"] and part["encrypted_content"]
    # the endpoint hands user messages back verbatim: they are kept, everything else is archived
    kept_users = [m for m in result.messages[1:-1] if m.role == "user"]
    assert kept_users == [history[1], history[3]]
    archived = [a.message for a in result.archived if not a.kept]
    assert archived == [history[2], history[4], history[5], history[6], history[7]]
    # the whole range is archived in order, the verbatim-kept user messages flagged, so another
    # provider can get the conversation back exactly as it was
    assert [a.message for a in result.archived if a.kept] == kept_users
    assert [a.position for a in result.archived] == sorted(a.position for a in result.archived)
    assert {a.replaced_by for a in result.archived} == {part["id"]}
    assert all(a.stage == "native" and a.id for a in result.archived)
    assert result.tokens_after < result.tokens_before
    from massgen_plugins.compression.invariants import check_preserved, validate_conversation

    validate_conversation(result.messages, "openai/gpt-4o")
    check_preserved(history, result.messages)

    [sent] = emulator_env.requests_for("openai", "/responses/compact")
    body = sent.body
    assert body["model"] == "gpt-4o" and body["instructions"] == SYSTEM.content and "store" not in body
    types = [item.get("type", "message") for item in body["input"]]
    assert types == ["message", "message", "message", "function_call", "function_call",
                     "function_call_output", "function_call_output", "message"]
    calls = {i["call_id"] for i in body["input"] if i.get("type") == "function_call"}
    outputs = {i["call_id"] for i in body["input"] if i.get("type") == "function_call_output"}
    assert calls == outputs == {"call_a", "call_b"}
    assert LATEST.content not in str(body["input"])


async def test_compacted_conversation_is_accepted_by_the_next_responses_call(emulator_env, openai_settings):
    result = await plugin.compress(CompressionRequest(model="openai/gpt-4o", messages=_history(), budget=500))
    [part] = _parts(_compaction_messages(result.messages)[0])
    response = await plugin.complete(CompletionRequest(model="openai/gpt-4o", messages=result.messages),
                                     openai_settings)
    assert response.message.content
    [sent] = _responses_calls(emulator_env)
    assert sent.status == 200
    items = sent.body["input"]
    assert {"type": "compaction", "id": part["id"], "encrypted_content": part["encrypted_content"]} in items
    assert items[-1] == {"role": "user", "content": LATEST.content}
    assert sent.body["instructions"] == SYSTEM.content
    assert emulator_env.requests_for("openai", "/chat/completions") == []

    events = [e async for e in plugin.stream(
        CompletionRequest(model="openai/gpt-4o", messages=result.messages), openai_settings)]
    assert events[-1].type == "done"
    assert "".join(e.delta for e in events if e.type == "text") == events[-1].response.message.content
    assert len(_responses_calls(emulator_env)) == 2


async def test_tool_loop_after_the_latest_user_keeps_the_last_step(emulator_env):
    history = [
        SYSTEM,
        LATEST,
        Message(role="assistant", content=None, tool_calls=[_call("call_1", "Oslo")]),
        Message(role="tool", tool_call_id="call_1", content="Oslo: snow " * 50),
        Message(role="assistant", content=None, tool_calls=[_call("call_2", "Rome")]),
        Message(role="tool", tool_call_id="call_2", content="Rome: sun"),
    ]
    result = await plugin.compress(CompressionRequest(model="openai/gpt-4o", messages=history, budget=100))
    assert result.messages[0] == SYSTEM and result.messages[1] == LATEST
    assert result.messages[-2:] == history[-2:]
    assert len(_compaction_messages(result.messages)) == 1
    assert [a.message for a in result.archived if not a.kept] == history[2:4]
    from massgen_plugins.compression.invariants import check_preserved, validate_conversation

    validate_conversation(result.messages, "openai/gpt-4o")
    check_preserved(history, result.messages)
    # no tool result without its call
    seen_calls = set()
    for message in result.messages:
        seen_calls.update(c.id for c in message.tool_calls or [])
        if message.role == "tool":
            assert message.tool_call_id in seen_calls


async def test_does_not_apply_where_it_cannot_help(emulator_env):
    short = [SYSTEM, LATEST]
    assert await plugin.compress(CompressionRequest(model="openai/gpt-4o", messages=short, budget=10)) is None
    legacy = CompressionRequest(model="openai/gpt-4", messages=_history(), budget=10)  # no Responses API
    assert await plugin.compress(legacy) is None
    off = CompressionRequest(model="openai/gpt-4o", messages=_history(), budget=10,
                             options={"native_compaction": False})
    assert await plugin.compress(off) is None
    from massgen_plugins.manager import get_hooks  # other providers' conversations are never routed here

    assert "openai" not in {i.plugin_name for i in get_hooks().compress_stages("anthropic")}
    assert emulator_env.requests == []


async def test_missing_key_raises_for_the_chain_to_record(emulator_env, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(MissingCredentialsError, match="OPENAI_API_KEY"):
        await plugin.compress(CompressionRequest(model="openai/gpt-4o", messages=_history(), budget=10))
    assert emulator_env.requests == []


def test_declared_as_the_native_stage():
    assert stage_meta(plugin.compress, "massgen_plugins_openai") == ("native", 200)


async def test_the_compression_chain_runs_the_native_stage_and_the_host_sends_the_result(emulator_env):
    from massgen_plugins.compression.runner import compress_conversation
    from massgen_plugins.manager import get_hooks
    from massgen_plugins.providers import resolve_settings

    history = _history()
    report = await compress_conversation(history, model="openai/gpt-4o", ratio=0.7)
    assert report.fits and report.tokens_after < report.tokens_before
    native = [s for s in report.stages if s.name == "native"]
    assert native and native[0].status == "applied"
    [holder] = _compaction_messages(report.messages)
    part_id = _parts(holder)[0]["id"]
    assert {a.replaced_by for a in report.archive if a.stage == "native"} == {part_id}
    response = await get_hooks().complete(
        CompletionRequest(model="openai/gpt-4o", messages=report.messages), resolve_settings("openai"))
    assert response.message.content
    assert _responses_calls(emulator_env)[-1].status == 200


def _long_history(turns: int = 30) -> list[Message]:
    history = [SYSTEM]
    for k in range(turns):
        history.append(Message(role="user", content=f"Turn {k}: check build step {k}. " + "details " * 40))
        history.append(Message(role="assistant", content=f"Step {k} is fine; cache key {k}00. " * 12))
    return [*history, LATEST]


async def test_keeps_the_recent_region_and_compacts_only_what_the_target_needs(emulator_env):
    from massgen_plugins.tokens import count_conversation

    history = _long_history()
    total = count_conversation("openai/gpt-4o", history).tokens
    request = CompressionRequest(model="openai/gpt-4o", messages=history, budget=int(total * 0.8),
                                 options={"strategy": {"keep_recent_tokens": 2_000, "keep_recent_share": 0.5}})
    result = await plugin.compress(request)
    compacted = [a for a in result.archived if not a.kept]
    # 20 % over: the oldest turns' replies go (the endpoint keeps user messages, so about half of
    # the turns must go to free enough), not all 30 of them
    assert 0 < len(compacted) <= 15
    assert result.tokens_after <= request.budget
    # the recent region (>= 2,000 tokens of the newest turns) is verbatim, in order
    tail = count_conversation("openai/gpt-4o", result.messages[-12:]).tokens
    assert result.messages[-12:] == history[-12:] and tail >= 1_000
    [holder] = _compaction_messages(result.messages)
    assert result.messages.index(holder) < len(result.messages) - 12

    # a tighter budget compacts more -- into the recent region when the older turns cannot free
    # enough (the target wins); the latest user message stays last
    tight = await plugin.compress(CompressionRequest(model="openai/gpt-4o", messages=history, budget=int(total * 0.4),
                                                     options={"strategy": {"keep_recent_tokens": 2_000}}))
    assert len([a for a in tight.archived if not a.kept]) > len(compacted)
    assert tight.messages[-1] == history[-1]
