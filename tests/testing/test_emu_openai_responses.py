"""OpenAI Responses API, compaction and input-token counting through the real openai SDK."""

from __future__ import annotations

import json

import openai
import pytest
from massgen_plugins.testing import Fault

TOOLS = [{"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}]


def test_create_and_usage_matches_input_tokens_endpoint(openai_client):
    kwargs = dict(model="gpt-4o", input="tell me about the emulator", instructions="be brief", tools=TOOLS)
    response = openai_client.responses.create(**kwargs)
    assert response.status == "completed"
    assert response.output_text == "emulated reply from gpt-4o to: tell me about the emulator"
    counted = openai_client.responses.input_tokens.count(**kwargs)
    assert counted.object == "response.input_tokens"
    assert counted.input_tokens == response.usage.input_tokens > 0


def test_previous_response_id_chains_and_counts_history(openai_client):
    first = openai_client.responses.create(model="gpt-4o", input="remember order 4711")
    second = openai_client.responses.create(model="gpt-4o", input="and now?", previous_response_id=first.id)
    alone = openai_client.responses.create(model="gpt-4o", input="and now?")
    assert second.usage.input_tokens > alone.usage.input_tokens
    assert openai_client.responses.retrieve(first.id).id == first.id
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.responses.create(model="gpt-4o", input="x", previous_response_id="resp_missing")
    assert info.value.code == "previous_response_not_found"


def test_parallel_function_calls_json_and_stream_helper(openai_client):
    text = '[[call lookup {"q": "alpha"}]] [[call lookup {"q": "beta"}]]'
    response = openai_client.responses.create(model="gpt-4o", input=text, tools=TOOLS)
    assert [(o.type, json.loads(o.arguments)) for o in response.output] == [
        ("function_call", {"q": "alpha"}), ("function_call", {"q": "beta"})]
    with openai_client.responses.stream(model="gpt-4o", input=text, tools=TOOLS) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert "response.function_call_arguments.delta" in kinds and kinds[-1] == "response.completed"
    assert [json.loads(o.arguments) for o in final.output] == [{"q": "alpha"}, {"q": "beta"}]
    # answering the calls ends the loop with text
    outputs = [{"type": "function_call_output", "call_id": o.call_id, "output": "found it"} for o in response.output]
    follow = openai_client.responses.create(model="gpt-4o", tools=TOOLS, previous_response_id=response.id,
                                            input=outputs)
    assert follow.output_text.startswith("emulated reply from gpt-4o after tool lookup")


def test_text_stream_event_sequence(openai_client):
    with openai_client.responses.stream(model="gpt-4o", input="one two three four five six") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]
    assert kinds.count("response.output_text.delta") >= 2
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.completed"]
    assert final.output_text == "emulated reply from gpt-4o to: one two three four five six"


def test_overflow_json_and_in_stream(openai_client):
    big = "word " * 3000
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.responses.create(model="gpt-test-2k", input=big)
    assert (info.value.code, info.value.param) == ("context_length_exceeded", "input")
    assert "exceeds the context window" in info.value.body["message"]
    seen = []
    with pytest.raises(openai.APIError) as streamed:
        for event in openai_client.responses.create(model="gpt-test-2k", input=big, stream=True):
            seen.append(event.type)
    err = streamed.value
    assert not isinstance(err, openai.APIStatusError)  # raised mid-stream after HTTP 200: no status
    assert seen == ["response.created", "response.in_progress"]
    assert (err.code, err.type, err.param) == ("context_length_exceeded", "invalid_request_error", "input")
    assert str(err).startswith("Your input exceeds the context window")


def test_output_cap_on_responses(openai_client):
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.responses.create(model="gpt-4o", input="hi", max_output_tokens=50_000)
    assert info.value.code == "integer_above_max_value" and info.value.param == "max_output_tokens"


@pytest.mark.parametrize("form", ["flat", "failed"])
def test_unraised_in_stream_error_forms_are_yielded(emu, openai_client, form):
    emu.inject(Fault("stream_error", provider="openai", path="/responses", error_type="overflow", form=form))
    events = list(openai_client.responses.create(model="gpt-4o", input="one two three four", stream=True))
    assert events[-2].type == "response.output_text.delta"  # partial output came first
    last = events[-1]
    if form == "flat":
        assert last.type == "error" and last.code == "context_length_exceeded"
    else:
        assert last.type == "response.failed" and last.response.error.code == "context_length_exceeded"


def test_compact_round_trip(openai_client):
    history = [
        {"role": "user", "content": "Deploy service api-7 to region eu-2"},
        {"role": "assistant", "content": "Deployed api-7; build 1234 passed.\nAll good otherwise."},
        {"role": "user", "content": "Now roll back"},
    ]
    raw = openai_client.responses.with_raw_response.compact(model="gpt-4o", input=history).http_response.json()
    assert raw["object"] == "response.compaction"
    kinds = [item["type"] for item in raw["output"]]
    assert kinds == ["message", "message", "compaction"]
    assert [item["content"][0]["text"] for item in raw["output"][:2]] == [history[0]["content"], history[2]["content"]]
    assert raw["output"][-1]["encrypted_content"] and "api-7" not in raw["output"][-1]["encrypted_content"]
    assert raw["usage"]["input_tokens"] > 0
    # the compacted items feed the next call, which can see the summary
    follow = openai_client.responses.create(model="gpt-4o", instructions="Summarize what happened.",
                                            input=[*raw["output"], {"role": "user", "content": "status?"}])
    assert "build 1234 passed" in follow.output_text
    # and the compaction item costs far less than the text it replaced
    long_history = [*history[:1], {"role": "assistant", "content": "chatter " * 2000}, history[2]]
    compacted = openai_client.responses.with_raw_response.compact(
        model="gpt-4o", input=long_history).http_response.json()
    before = openai_client.responses.input_tokens.count(model="gpt-4o", input=long_history).input_tokens
    after = openai_client.responses.input_tokens.count(model="gpt-4o", input=compacted["output"]).input_tokens
    assert after < before / 10


def test_compact_typed_object(openai_client):
    compacted = openai_client.responses.compact(model="gpt-4o", input=[{"role": "user", "content": "hi"}])
    assert compacted.object == "response.compaction"
    assert compacted.output[-1].type == "compaction"
