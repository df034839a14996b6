"""Per-call request options: validated, carried to every provider call of the turn, never to the
summarizer's, and named (without values) in the run log."""

from __future__ import annotations

import pytest
from massgen_plugins.errors import InputError
from massgen_plugins.guard import RequestOptions, Session
from massgen_plugins.runlog import read_run

from .test_session import tool_history
from .test_summarizer_access import MODEL, SUMMARIZE_ONLY, summarizer_posts

pytestmark = pytest.mark.plugins("anthropic", "openai")  # drives provider plugins end to end


@pytest.mark.parametrize(("options", "field"), [
    ({"temprature": 0.5}, "temprature"),
    ({"temperature": 3}, "temperature"),
    ({"top_p": "high"}, "top_p"),
    ({"tool_choice": {"type": "function"}}, "tool_choice"),
    ({"response_format": {"type": "yaml"}}, "response_format"),
    ("temperature=1", "options"),
])
def test_unknown_or_invalid_options_name_the_field(options, field):
    with pytest.raises(InputError, match=field):
        RequestOptions.parse(options)


async def test_bad_options_fail_before_any_call(emulator_env, tmp_path):
    session = Session("openai/gpt-4o-mini", memory=False, run_log=str(tmp_path / "run"))
    with pytest.raises(InputError, match="seeds"):
        await session.send("hi", options={"seeds": 1})
    with pytest.raises(InputError, match="stop"):
        async for _ in session.stream("hi", options={"stop": 5}):
            pass
    assert not emulator_env.requests and session.messages == []


@pytest.mark.parametrize("stream", [False, True])
async def test_options_reach_the_provider_and_the_log_names_them(emulator_env, tmp_path, stream):
    session = Session("openai/gpt-4o-mini", memory=False, run_log=str(tmp_path / "run"))
    options = {"temperature": 0.1, "seed": 5, "stop": ["SECRET-STOP"], "response_format": {"type": "json_object"}}
    if stream:
        async for _ in session.stream("hi", options=options):
            pass
    else:
        await session.send("hi", options=options)
    body = emulator_env.requests[-1].body
    assert body["temperature"] == 0.1 and body["seed"] == 5 and body["stop"] == ["SECRET-STOP"]
    assert body["response_format"] == {"type": "json_object"}
    start = next(e for e in read_run(tmp_path / "run").events if e["type"] == "call_start")
    assert start["options"] == ["response_format", "seed", "stop", "temperature"]
    assert "SECRET-STOP" not in (tmp_path / "run" / "events.jsonl").read_text()
    await session.send("again")  # options are per call: the next turn has none
    assert "seed" not in emulator_env.requests[-1].body


async def test_anthropic_shapes_and_the_summarizer_does_not_inherit(emulator_env, tmp_path):
    session = Session(MODEL, memory=False, run_log=str(tmp_path / "run"), context_window=3000,
                      strategy=SUMMARIZE_ONLY, retry={"base_delay": 0.01})
    session.messages = tool_history(4)
    await session.send("What failed?", options={"temperature": 0.4, "top_k": 5, "stop": "DONE",
                                                "tool_choice": "none", "metadata": {"user_id": "u1"}})
    summaries = summarizer_posts(emulator_env)
    assert summaries, "the summarizer was never called"
    for post in summaries:
        assert not {"temperature", "top_k", "stop_sequences", "metadata"} & set(post.body)
    turn = [r for r in emulator_env.requests if r.path.endswith("/v1/messages") and r not in summaries][-1].body
    assert turn["temperature"] == 0.4 and turn["top_k"] == 5 and turn["stop_sequences"] == ["DONE"]
    assert turn["metadata"] == {"user_id": "u1"}
