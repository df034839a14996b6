"""The official openai SDK against the gateway (which calls the emulator)."""

from __future__ import annotations

import json

import openai
import pytest

WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city.",
                                            "parameters": {"type": "object",
                                                           "properties": {"city": {"type": "string"}},
                                                           "required": ["city"]}}}


def client(gateway, key=None, **kw):
    return openai.OpenAI(base_url=gateway.url + "/v1", api_key=key or gateway.master, max_retries=0, **kw)


def test_chat_completion_with_usage(gateway, new_key):
    reply = client(gateway, new_key()).chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hello there gateway"}])
    assert reply.choices[0].message.content.startswith("emulated reply from gpt-4o-mini to: hello there gateway")
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0
    assert reply.model.endswith("gpt-4o-mini")
    kinds = [e["type"] for e in gateway.events()]
    assert kinds[0] == "run_start" and "call_end" in kinds


@pytest.mark.parametrize("path", ["fast", "guarded"])
def test_streaming_text_and_usage(gateway, path):
    headers = {"X-Session-Id": "streaming-usage"} if path == "guarded" else {}
    stream = client(gateway, default_headers=headers).chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "stream me a reply please"}],
        stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("emulated reply from gpt-4o-mini to: stream me a reply please")
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


@pytest.mark.parametrize("path", ["fast", "guarded"])
@pytest.mark.parametrize("stream", [False, True])
def test_tool_call_round_trip(gateway, stream, path):
    """Both paths: relayed as is (fast), and through the guard's session (X-Session-Id)."""
    headers = {"X-Session-Id": f"tools-{stream}"} if path == "guarded" else {}
    oa = client(gateway, default_headers=headers)
    messages = [{"role": "user", "content": 'weather? [[call get_weather {"city": "Paris"}]]'}]
    if stream:
        chunks = list(oa.chat.completions.create(model="openai/gpt-4o-mini", messages=messages, tools=[WEATHER],
                                                 stream=True))
        calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
        finish = [c.choices[0].finish_reason for c in chunks if c.choices][-1]
        call_id, name = calls[0].id, calls[0].function.name
        arguments = "".join(c.function.arguments or "" for c in calls)  # deltas carry pieces of the JSON
    else:
        reply = oa.chat.completions.create(model="openai/gpt-4o-mini", messages=messages, tools=[WEATHER])
        finish = reply.choices[0].finish_reason
        call = reply.choices[0].message.tool_calls[0]
        call_id, name, arguments = call.id, call.function.name, call.function.arguments
    assert finish == "tool_calls" and name == "get_weather" and json.loads(arguments) == {"city": "Paris"}
    messages += [{"role": "assistant", "content": None, "tool_calls": [
        {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}]},
        {"role": "tool", "tool_call_id": call_id, "content": "sunny, 21 C"}]
    final = oa.chat.completions.create(model="openai/gpt-4o-mini", messages=messages, tools=[WEATHER])
    assert "after tool get_weather" in final.choices[0].message.content


def test_missing_and_bad_keys_raise_authentication_error(gateway):
    with pytest.raises(openai.AuthenticationError) as bad:
        client(gateway, "sk-mgp-not-a-real-key-at-all").chat.completions.create(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert bad.value.status_code == 401 and "invalid or revoked" in str(bad.value)
    import httpx

    response = httpx.post(gateway.url + "/v1/chat/completions", json={"model": "openai/gpt-4o-mini",
                                                                      "messages": [{"role": "user", "content": "x"}]})
    assert response.status_code == 401 and "Authorization: Bearer" in response.json()["error"]["message"]


def test_rpm_limit_is_429_with_retry_after(gateway, new_key):
    oa = client(gateway, new_key(rpm=2))
    for _ in range(2):
        oa.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.RateLimitError) as limited:
        oa.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert 1 <= int(limited.value.response.headers["retry-after"]) <= 60
    assert limited.value.code == "rate_limit_exceeded"


def test_budget_exhausted_is_insufficient_quota_and_spend_is_recorded(gateway, new_key):
    key = new_key(name="budgeted", max_tokens=10)
    oa = client(gateway, key)
    oa.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "spend it"}])
    with pytest.raises(openai.RateLimitError) as over:
        oa.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "more"}])
    assert over.value.code == "insufficient_quota"
    record = gateway.gateway.store.find_keys("budgeted")[0]
    spend = gateway.gateway.store.spend(record.id)
    assert spend.requests == 1 and spend.tokens >= 10 and spend.cost_usd > 0  # gpt-4o-mini prices are known


def test_model_globs_restrict_a_key(gateway, new_key):
    oa = client(gateway, new_key(models="anthropic/*"))
    with pytest.raises(openai.PermissionDeniedError):
        oa.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])


def test_bad_requests_raise_bad_request_error(gateway):
    oa = client(gateway)
    with pytest.raises(openai.BadRequestError) as empty:
        oa.chat.completions.create(model="openai/gpt-4o-mini", messages=[])
    assert "messages" in str(empty.value)
    with pytest.raises(openai.NotFoundError) as unknown:
        oa.chat.completions.create(model="nosuch/model", messages=[{"role": "user", "content": "hi"}])
    assert "nosuch" in str(unknown.value)


def test_upstream_rate_limit_is_retried_by_the_guard(gateway, emu):
    from massgen_plugins.testing import Fault

    # the first 429 hands the request from the fast path to the guard, which retries the second
    emu.inject(Fault("rate_limit", provider="openai", times=2, retry_after=0.01))
    reply = client(gateway).chat.completions.create(model="openai/gpt-4o-mini",
                                                    messages=[{"role": "user", "content": "retry me"}])
    assert "retry me" in reply.choices[0].message.content
    assert [e["kind"] for e in gateway.events() if e["type"] == "retry"] == ["rate_limit"]


def test_persistent_upstream_failure_is_an_sdk_error(gateway, emu):
    from massgen_plugins.testing import Fault

    emu.inject(Fault("server_error", provider="openai", times=None))
    with pytest.raises(openai.InternalServerError) as failed:
        client(gateway).chat.completions.create(model="openai/gpt-4o-mini",
                                                messages=[{"role": "user", "content": "doomed"}])
    assert failed.value.status_code == 502
