"""The OpenAI Agents SDK (``openai-agents``) with a chat-completions model runs a tool loop through
the gateway, on the guarded path (``X-Session-Id``), its model settings reaching the provider."""

from __future__ import annotations

import pytest

agents = pytest.importorskip("agents", reason="openai-agents is in the gateway's test extra")


@pytest.mark.parametrize("stream", [False, True])
def test_agents_sdk_tool_loop_through_the_guarded_path(gateway, emu, stream):
    import asyncio

    from agents import Agent, ModelSettings, OpenAIChatCompletionsModel, Runner, function_tool, set_tracing_disabled
    from openai import AsyncOpenAI

    set_tracing_disabled(True)  # no trace export to a real service
    client = AsyncOpenAI(base_url=gateway.url + "/v1", api_key=gateway.master, max_retries=0,
                         default_headers={"X-Session-Id": f"agents-sdk-{stream}"})
    called: list[str] = []

    @function_tool
    def get_weather(city: str) -> str:
        """The weather of a city."""
        called.append(city)
        return f"{city}: sunny, 21 C"

    agent = Agent(name="weather", instructions="Use tools when asked.", tools=[get_weather],
                  model=OpenAIChatCompletionsModel(model="openai/gpt-4o-mini", openai_client=client),
                  model_settings=ModelSettings(temperature=0.25, top_p=0.8))
    prompt = 'weather please [[call get_weather {"city": "Lyon"}]]'

    async def run() -> str:
        if stream:
            result = Runner.run_streamed(agent, prompt)
            async for _ in result.stream_events():
                pass
            return str(result.final_output)
        return str((await Runner.run(agent, prompt)).final_output)

    output = asyncio.run(run())
    assert called == ["Lyon"]
    assert "after tool get_weather" in output
    sent = emu.requests_for("openai")
    assert len(sent) == 2  # the tool call, then the answer after the tool result
    assert all(r.body["temperature"] == 0.25 and r.body["top_p"] == 0.8 for r in sent)
    assert any(m.get("role") == "tool" for m in sent[-1].body["messages"])
    assert any(e["type"] == "call_start" and e.get("options") == ["temperature", "top_p"] for e in gateway.events())
