"""Every fault kind, and fault scoping, observed through the real SDKs."""

from __future__ import annotations

import json
import threading

import anthropic
import httpx
import openai
import pytest
from massgen_plugins.testing import Fault

HI = [{"role": "user", "content": "hi there"}]


def chat(client, model="gpt-4o", **kwargs):
    return client.chat.completions.create(model=model, messages=HI, **kwargs)


def test_rate_limit_is_retried_by_the_sdk_after_retry_after(emu):
    fault = emu.inject(Fault("rate_limit", provider="openai", times=2, retry_after=0.01))
    client = openai.OpenAI(base_url=emu.base_url("openai"), api_key="k", max_retries=2, timeout=20)
    assert chat(client).choices[0].message.content
    assert fault.hits == 2 and fault.exhausted
    assert [r.headers["x-stainless-retry-count"] for r in emu.requests] == ["0", "1", "2"]
    assert [r.status for r in emu.requests] == [429, 429, 200]
    assert [r.fault for r in emu.requests] == ["rate_limit", "rate_limit", None]


def test_rate_limit_without_retry_after_header(emu, openai_client):
    emu.inject(Fault("rate_limit", provider="openai", retry_after=None))
    with pytest.raises(openai.RateLimitError) as info:
        chat(openai_client)
    assert "retry-after" not in info.value.response.headers and info.value.code == "rate_limit_exceeded"


def test_quota_is_429_insufficient_quota(emu, openai_client):
    emu.inject(Fault("quota", provider="openai"))
    with pytest.raises(openai.RateLimitError) as info:
        chat(openai_client)
    assert info.value.code == "insufficient_quota" and "retry-after" not in info.value.response.headers


@pytest.mark.parametrize(("kind", "status", "cls"), [
    ("server_error", 500, openai.InternalServerError),
    ("unavailable", 503, openai.InternalServerError),
    ("overloaded", 503, openai.InternalServerError),
    ("payload_too_large", 413, openai.APIStatusError),
])
def test_status_faults(emu, openai_client, kind, status, cls):
    emu.inject(Fault(kind, provider="openai"))
    with pytest.raises(cls) as info:
        chat(openai_client)
    assert info.value.status_code == status


def test_anthropic_overloaded_529(emu, anthropic_client):
    emu.inject(Fault("overloaded", provider="anthropic"))
    with pytest.raises(anthropic.OverloadedError):
        anthropic_client.messages.create(model="claude-tiny-8k", max_tokens=10, messages=HI)


def test_hang_past_client_timeout_does_not_block_others(emu):
    emu.inject(Fault("hang", provider="openai", model="gpt-4o-mini", seconds=30))
    slow = openai.OpenAI(base_url=emu.base_url("openai"), api_key="k", max_retries=0, timeout=1)
    fast = openai.OpenAI(base_url=emu.base_url("openai"), api_key="k", max_retries=0, timeout=180)  # a loaded CI box
    errors: list[BaseException] = []

    def hung() -> None:
        try:
            chat(slow, model="gpt-4o-mini")
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=hung)
    thread.start()
    while not emu.requests and thread.is_alive():  # the hanging request is in flight
        thread.join(timeout=0.01)
    assert chat(fast).choices[0].message.content  # served while the other request hangs
    thread.join(timeout=60)
    assert len(errors) == 1 and isinstance(errors[0], openai.APITimeoutError)
    assert emu.requests[0].fault == "hang" and emu.requests[1].status == 200


def test_hang_then_answers(emu, openai_client):
    emu.inject(Fault("hang", provider="openai", seconds=0.2))
    assert chat(openai_client).choices[0].message.content
    assert emu.requests[0].fault == "hang" and emu.requests[0].status == 200


def test_drop_closes_the_connection(emu, openai_client):
    emu.inject(Fault("drop", provider="openai"))
    with pytest.raises(openai.APIConnectionError):
        chat(openai_client)
    assert emu.requests[0].status is None and emu.requests[0].fault == "drop"
    assert chat(openai_client).choices[0].message.content  # the next request is served


def test_malformed_json(emu, openai_client, anthropic_client):
    emu.inject(Fault("malformed", provider="openai"))
    with pytest.raises(json.JSONDecodeError):  # the SDKs let the decoding failure through
        chat(openai_client)
    assert emu.requests[0].status == 200
    emu.inject(Fault("malformed", provider="anthropic"))
    with pytest.raises(json.JSONDecodeError):
        anthropic_client.messages.create(model="claude-tiny-8k", max_tokens=10, messages=HI)


def test_truncated_stream_ends_without_finish(emu, openai_client):
    emu.inject(Fault("truncated_stream", provider="openai"))
    chunks = list(chat(openai_client, stream=True))
    assert len(chunks) == 2  # role chunk + one content delta, then the body ends
    assert all(c.choices[0].finish_reason is None for c in chunks)


def test_truncated_stream_abrupt_raises(emu, openai_client):
    emu.inject(Fault("truncated_stream", provider="openai", abrupt=True))
    with pytest.raises(openai.APIConnectionError):
        list(chat(openai_client, stream=True))


def test_truncated_stream_anthropic_has_no_message_stop(emu, anthropic_client):
    emu.inject(Fault("truncated_stream", provider="anthropic", after_events=2))
    events = list(anthropic_client.messages.create(model="claude-tiny-8k", max_tokens=10, messages=HI, stream=True))
    assert [e.type for e in events] == ["message_start", "content_block_start"]


def test_stream_error_chat_completions(emu, openai_client):
    emu.inject(Fault("stream_error", provider="openai", error_type="server_error"))
    seen = []
    with pytest.raises(openai.APIError) as info:
        for chunk in chat(openai_client, stream=True):
            seen.append(chunk)
    assert len(seen) == 2 and "server had an error" in info.value.message


def test_stream_faults_skip_non_streaming_requests(emu, openai_client):
    fault = emu.inject(Fault("stream_error", provider="openai"))
    assert chat(openai_client).choices[0].message.content
    assert fault.hits == 0


def test_forced_overflow_and_output_cap(emu, openai_client):
    emu.inject(Fault("overflow", provider="openai"))
    with pytest.raises(openai.BadRequestError) as info:
        chat(openai_client)
    assert info.value.code == "context_length_exceeded"
    emu.inject(Fault("output_cap", provider="openai"))
    with pytest.raises(openai.BadRequestError) as cap:
        chat(openai_client)
    assert cap.value.code == "invalid_value"


def test_http200_error(emu, openai_client):
    emu.inject(Fault("http200_error", provider="openai"))
    raw = openai_client.chat.completions.with_raw_response.create(model="gpt-4o", messages=HI)
    assert raw.http_response.status_code == 200 and "error" in raw.http_response.json()


def test_custom_fault_sends_a_verbatim_body(emu, openai_client):
    body = {"error": {"message": "custom words", "type": "x", "param": None, "code": "y"}}
    emu.inject(Fault("custom", provider="openai", status=409, body=body, headers={"x-should-retry": "false"}))
    with pytest.raises(openai.ConflictError) as info:
        chat(openai_client)
    assert info.value.body == body["error"] and info.value.response.headers["x-should-retry"] == "false"


def test_scoping_by_model_path_and_request_number(emu, openai_client):
    emu.inject(Fault("server_error", provider="openai", model="gpt-4o-mini", times=None))
    assert chat(openai_client, model="gpt-4o").choices  # other model: untouched
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            chat(openai_client, model="gpt-4o-mini")
    emu.clear()
    emu.inject(Fault("server_error", provider="openai", path="/responses"))
    assert chat(openai_client).choices
    with pytest.raises(openai.InternalServerError):
        openai_client.responses.create(model="gpt-4o", input="x")
    emu.clear()
    fault = emu.inject(Fault("server_error", provider="openai", on_request=3))
    chat(openai_client)
    chat(openai_client)
    with pytest.raises(openai.InternalServerError):
        chat(openai_client)
    chat(openai_client)
    assert fault.hits == 1 and fault.seen == 3  # an exhausted fault stops counting
    assert emu.faults == []  # exhausted faults are no longer listed


def test_faults_are_scoped_by_provider(emu, openai_client, anthropic_client):
    emu.inject(Fault("server_error", provider="anthropic"))
    assert chat(openai_client).choices
    with pytest.raises(anthropic.InternalServerError):
        anthropic_client.messages.create(model="claude-tiny-8k", max_tokens=10, messages=HI)


def test_fault_validation():
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault("explode")
    with pytest.raises(ValueError, match="unknown provider"):
        Fault("drop", provider="nope")
    with pytest.raises(ValueError, match="error_type"):
        Fault("stream_error", error_type="weird")


def test_raw_http_keep_alive_and_unknown_paths(emu):
    with httpx.Client(timeout=10, headers={"Authorization": "Bearer k", "x-api-key": "k"}) as client:
        for _ in range(3):  # several requests over one kept-alive connection
            assert client.get(emu.base_url("openai") + "/models").status_code == 200
        assert client.get(emu.url + "/nowhere/x").status_code == 404
        assert client.get(emu.base_url("openai") + "/nothing").status_code == 404
        assert client.get(emu.base_url("anthropic") + "/v1/nothing").json()["type"] == "error"


def test_hang_mid_stream_after_partial_output(emu):
    emu.inject(Fault("hang", provider="openai", after_events=2, seconds=30))
    client = openai.OpenAI(base_url=emu.base_url("openai"), api_key="k", max_retries=0, timeout=1)
    seen = []
    with pytest.raises(openai.APITimeoutError):
        for chunk in chat(client, stream=True):
            seen.append(chunk.choices[0].delta)
    assert len(seen) == 2 and seen[0].role == "assistant" and seen[1].content
    assert emu.requests[0].status == 200 and emu.requests[0].fault == "hang"


def test_anthropic_sdk_lets_a_mid_stream_read_timeout_through(emu):
    """anthropic 2.11 does not wrap a read timeout inside a stream into APITimeoutError."""
    emu.inject(Fault("hang", provider="anthropic", after_events=2, seconds=30))
    client = anthropic.Anthropic(base_url=emu.base_url("anthropic"), api_key="k", max_retries=0, timeout=1)
    seen = []
    with pytest.raises(Exception) as info:
        for event in client.messages.create(model="claude-tiny-8k", max_tokens=10, messages=HI, stream=True):
            seen.append(event.type)
    assert "Timeout" in type(info.value).__name__
    assert seen == ["message_start", "content_block_start"]


def test_a_request_the_emulator_cannot_model_is_a_500_not_a_hangup(emu, anthropic_client):
    with pytest.raises(anthropic.InternalServerError) as info:
        anthropic_client.messages.create(model="claude-tiny-8k", max_tokens=10, messages=HI, system=5)
    assert info.value.body["error"]["type"] == "emulator_error"
    assert "could not handle POST /v1/messages" in info.value.body["error"]["message"]
