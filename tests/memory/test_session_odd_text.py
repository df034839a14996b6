"""A provider reply or a user message with text no UTF-8 encoder accepts (a lone surrogate, valid
in JSON) must not break a session stored in SQLite: through the real openai SDK and the emulator."""

from __future__ import annotations

import pytest
from massgen_plugins import Session
from massgen_plugins.testing import Fault

pytestmark = pytest.mark.plugins("openai")  # drives provider plugins end to end

#: a chat completion whose content holds a lone surrogate, escaped as valid JSON allows
ODD_REPLY = ('{"id":"chatcmpl-odd","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,'
             '"message":{"role":"assistant","content":"odd \\ud800 char"},"finish_reason":"stop"}],'
             '"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}')


async def test_a_lone_surrogate_in_a_reply_does_not_break_the_session(emulator_env, tmp_path):
    store = f"sqlite:///{tmp_path / 'memory.db'}"
    emulator_env.inject(Fault(kind="custom", provider="openai", path="/chat/completions", status=200, body=ODD_REPLY,
                              headers={"content-type": "application/json"}))
    session = Session("openai/gpt-4o-mini", memory=store, run_log=False, session_id="odd")
    first = await session.send("hello")
    assert first.message.content == "odd \ufffd char"
    second = await session.send("and again")  # the history with the reply goes back to the provider
    assert second.message.content and session.turn == 2
    resumed = await Session.resume("odd", memory=store, run_log=False)
    assert [m.content for m in resumed.messages] == [m.content for m in session.messages]
    assert (await resumed.send("still there?")).message.content


async def test_a_lone_surrogate_from_the_user_is_replaced_before_the_call(emulator_env, tmp_path):
    session = Session("openai/gpt-4o-mini", memory=f"sqlite:///{tmp_path / 'memory.db'}", run_log=False)
    reply = await session.send("pasted \udc80 bytes")
    assert reply.message.content and session.messages[-2].content == "pasted \ufffd bytes"
    [call] = [r for r in emulator_env.requests if r.path.endswith("/chat/completions")]
    assert call.status == 200
