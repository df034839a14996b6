"""Other clients: an agent framework running a tool loop (pydantic-ai), and curl."""

from __future__ import annotations

import json
import subprocess

import pytest


def test_pydantic_ai_agent_runs_a_tool_loop_through_the_gateway(gateway, emu):
    from pydantic_ai import Agent
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    model = OpenAIChatModel("openai/gpt-4o-mini",
                            provider=OpenAIProvider(base_url=gateway.url + "/v1", api_key=gateway.master))
    agent = Agent(model, instructions="Use tools when asked.")
    called: list[str] = []

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """The weather of a city."""
        called.append(city)
        return f"{city}: sunny, 21 C"

    result = agent.run_sync('weather please [[call get_weather {"city": "Lyon"}]]')
    assert called == ["Lyon"]
    assert "after tool get_weather" in result.output
    provider_calls = [e for e in gateway.events() if e["type"] == "call_end" and e["outcome"] == "ok"]
    assert len(provider_calls) == 2  # the tool call, then the answer after the tool result


def curl(*args: str) -> tuple[int, str]:
    done = subprocess.run(["curl", "-sS", "--max-time", "30", "-w", "\n%{http_code}", *args],
                          capture_output=True, text=True, timeout=60)
    body, _, status = done.stdout.rpartition("\n")
    return int(status), body


def test_curl_chat_completion_stream_and_errors(gateway):
    payload = json.dumps({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "curl says hi"}]})
    status, body = curl(gateway.url + "/v1/chat/completions", "-H", f"Authorization: Bearer {gateway.master}",
                        "-H", "content-type: application/json", "-d", payload)
    assert status == 200 and "curl says hi" in json.loads(body)["choices"][0]["message"]["content"]

    streamed = json.dumps({**json.loads(payload), "stream": True})
    status, body = curl("-N", gateway.url + "/v1/chat/completions", "-H", f"Authorization: Bearer {gateway.master}",
                        "-H", "content-type: application/json", "-d", streamed)
    lines = [line for line in body.splitlines() if line.startswith("data: ")]
    assert status == 200 and lines[-1] == "data: [DONE]"
    assert "curl says hi" in "".join(json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
                                     for line in lines[:-1] if json.loads(line[6:])["choices"])

    status, body = curl(gateway.url + "/v1/messages", "-H", f"x-api-key: {gateway.master}",
                        "-H", "anthropic-version: 2023-06-01", "-H", "content-type: application/json",
                        "-d", json.dumps({"model": "anthropic/claude-haiku-4-5", "max_tokens": 50,
                                          "messages": [{"role": "user", "content": "curl to claude"}]}))
    assert status == 200 and json.loads(body)["content"][0]["type"] == "text"

    status, body = curl(gateway.url + "/v1/chat/completions", "-H", f"Authorization: Bearer {gateway.master}",
                        "-d", "{not json")
    assert status == 400 and "not valid JSON" in json.loads(body)["error"]["message"]

    status, body = curl(gateway.url + "/health")
    assert status == 200 and json.loads(body)["status"] == "ok"


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_models_list_in_each_apis_shape(gateway, api):
    headers = ["-H", f"Authorization: Bearer {gateway.master}"]
    if api == "anthropic":
        headers += ["-H", "anthropic-version: 2023-06-01"]
    status, body = curl(gateway.url + "/v1/models", *headers)
    data = json.loads(body)["data"]
    ids = [m["id"] for m in data]
    assert status == 200 and "openai/gpt-4o-mini" in ids and all("/" in i for i in ids)
    assert all(m["type" if api == "anthropic" else "object"] == "model" for m in data)
