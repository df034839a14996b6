"""Requests through the guard: compression of histories over the window, reuse of a compressed
prefix when the client resends it, persisted sessions with X-Session-Id."""

from __future__ import annotations

import json

import openai


def long_history(turns: int = 40, words: int = 400) -> list[dict]:
    messages: list[dict] = [{"role": "system", "content": "You are a careful build engineer."}]
    for i in range(turns):
        body = " ".join(f"step{i}-{j} compiled module m{j % 17} in {j % 9} seconds" for j in range(words // 8))
        messages.append({"role": "user", "content": f"log chunk {i}: {body}"})
        messages.append({"role": "assistant", "content": f"noted chunk {i}; build id B{i:04d} is green"})
    messages.append({"role": "user", "content": "which build id was green for chunk 3?"})
    return messages


def items(body: dict) -> list:
    """The conversation a provider request carried (Chat Completions or Responses)."""
    return body.get("messages") or body.get("input") or []


def client(gateway):
    return openai.OpenAI(base_url=gateway.url + "/v1", api_key=gateway.master, max_retries=0)


def test_history_over_the_window_is_answered_with_the_compression_logged(gateway, emu):
    history = long_history()
    oa = client(gateway)
    raw = oa.chat.completions.with_raw_response.create(model="openai/gpt-4o-mini-8k", messages=history,
                                                       max_tokens=256)
    reply = raw.parse()
    assert reply.choices[0].message.content  # answered, not a context_length_exceeded error
    events = gateway.events()
    compressions = [e for e in events if e["type"] == "compression"]
    assert compressions and compressions[0]["tokens_before"] > 8192 >= compressions[0]["tokens_after"]
    assert any(e["type"] == "overflow" for e in events)  # the window is learned from the provider's error
    sent = items(emu.requests[-1].body)
    assert len(sent) < len(history)
    assert raw.headers["x-massgen-reused-prefix"] == "0"

    # the client resends everything plus the reply and one new question: the compressed prefix is reused
    history += [{"role": "assistant", "content": reply.choices[0].message.content},
                {"role": "user", "content": "and for chunk 5?"}]
    again = oa.chat.completions.with_raw_response.create(model="openai/gpt-4o-mini-8k", messages=history,
                                                         max_tokens=256)
    assert again.headers["x-massgen-reused-prefix"] == str(len(history) - 1)
    assert len([e for e in gateway.events() if e["type"] == "compression"]) == len(compressions)
    assert any(e["type"] == "note" and "reusing a compressed prefix" in e["message"] for e in gateway.events())
    resent = items(emu.requests[-1].body)
    assert "and for chunk 5?" in json.dumps(resent[-1])
    assert len(resent) == len(sent) + 2


def test_streamed_history_over_the_window(gateway):
    chunks = list(client(gateway).chat.completions.create(
        model="openai/gpt-4o-mini-8k", messages=long_history(), max_tokens=256, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert any(e["type"] == "compression" for e in gateway.events())


def test_session_id_persists_the_conversation_and_continues_it(gateway, emu):
    oa = client(gateway)
    headers = {"X-Session-Id": "agent-7"}
    first = [{"role": "user", "content": "remember the code word: heliotrope"}]
    raw = oa.chat.completions.with_raw_response.create(model="openai/gpt-4o-mini", messages=first,
                                                       extra_headers=headers)
    assert raw.headers["x-massgen-session"] == "agent-7"
    reply = raw.parse().choices[0].message.content
    second = [*first, {"role": "assistant", "content": reply}, {"role": "user", "content": "what was it?"}]
    raw2 = oa.chat.completions.with_raw_response.create(model="openai/gpt-4o-mini", messages=second,
                                                        extra_headers=headers)
    assert raw2.headers["x-massgen-reused-prefix"] == "2"  # only the new question was sent to the session
    sent = emu.requests_for("openai", "/chat/completions")[-1].body
    assert [m["content"] for m in sent["messages"] if m["role"] == "user"] == [
        "remember the code word: heliotrope", "what was it?"]
    assert any(t["function"]["name"] == "recall" for t in sent.get("tools", []))
    stored = gateway.gateway.guard.memory.load_session("agent-7")
    assert stored is not None and stored.turn == 2

    # a client that rewrites its history starts a new generation of the session
    edited = [{"role": "user", "content": "forget that; new topic"}]
    raw3 = oa.chat.completions.with_raw_response.create(model="openai/gpt-4o-mini", messages=edited,
                                                        extra_headers=headers)
    assert raw3.headers["x-massgen-session"] == "agent-7~1"


def test_fallback_model_from_the_gateway_config(write_config, start_gateway, emu):
    from massgen_plugins.testing import Fault

    write_config('[gateway.aliases]\nsmart = "openai/gpt-4o-mini"\n\n'
                 '[gateway.models.smart]\nfallbacks = ["anthropic/claude-haiku-4-5"]\nretry = { max_attempts = 1 }\n')
    gateway = start_gateway()
    emu.inject(Fault("server_error", provider="openai", times=None))
    reply = client(gateway).chat.completions.create(model="smart", messages=[{"role": "user", "content": "hi"}])
    assert "claude-haiku-4-5" in reply.choices[0].message.content
    assert [(e["from_model"], e["to_model"]) for e in gateway.events() if e["type"] == "fallback"] == [
        ("openai/gpt-4o-mini", "anthropic/claude-haiku-4-5")]
    listed = [m.id for m in client(gateway).models.list()]
    assert "smart" in listed and "openai/gpt-4o-mini" in listed


def test_anthropic_client_over_an_openai_window_is_translated_and_compressed(write_config, start_gateway):
    import anthropic

    write_config('[gateway.aliases]\nsmall = "openai/gpt-4o-mini-8k"\n')
    gateway = start_gateway()
    history = [m for m in long_history() if m["role"] != "system"]
    ac = anthropic.Anthropic(base_url=gateway.url, api_key=gateway.master, max_retries=0)
    with ac.messages.stream(model="small", max_tokens=256, system="You are a careful build engineer.",
                            messages=history) as stream:
        text = "".join(stream.text_stream)
    assert text.startswith("emulated reply from gpt-4o-mini-8k")
    assert any(e["type"] == "compression" and e["tokens_before"] > 8192 for e in gateway.events())


def test_digests_survive_a_round_trip_through_either_api():
    from massgen_plugins.types import Message, ToolCall
    from massgen_plugins_gateway.prefix import chain

    sent = Message(role="assistant", content=None, tool_calls=[
        ToolCall(id="c1", function={"name": "f", "arguments": '{"b": 2,  "a": 1}'})])
    echoed = Message(role="assistant", content="", tool_calls=[
        ToolCall(id="c1", function={"name": "f", "arguments": '{"a":1,"b":2}'})])
    parts = Message(role="user", content=[{"type": "text", "text": "hi"}])
    assert chain([Message(role="user", content="hi"), sent]) == chain([parts, echoed])
    assert chain([Message(role="user", content="hi!")]) != chain([parts])
