"""The archive tools of a guarded session: ``expand(gist_id)`` brings a gist's originals back
(answered by the guard, within the room left in the window), next to ``recall(query)``."""

from __future__ import annotations

import re

import pytest
from massgen_plugins import Session
from massgen_plugins.compression.gists import GIST_RE
from massgen_plugins.tokens import counter_for

pytestmark = pytest.mark.plugins("openai")  # drives provider plugins end to end

LOCAL = {"name": "balanced", "stages": ["mask", "extract", "truncate"], "keep_recent_tokens": 200}


async def _compressed_session(window_model: str) -> Session:
    session = Session(window_model, memory=False, run_log=False, recall_tool=True, strategy=LOCAL,
                      retry={"base_delay": 0.01})
    size = 220 if window_model.endswith("2k") else 600
    await session.send("Deploy service ledger-api; the rollback tag is RB-5521. " + "background detail " * size)
    await session.send("Now the billing cron: it must never run before 02:00 UTC. " + "more detail " * size)
    await session.send("And the search index rebuild uses shard map SM-9090. " + "even more detail " * size)
    await session.send("Then rotate the signing keys of the payments team. " + "further detail " * size)
    await session.send("Last, archive the Q3 reports to cold storage. " + "final detail " * size)
    return session


def _gist_ids(session: Session) -> list[str]:
    return [g for m in session.messages if m.role == "user" for g in GIST_RE.findall(m.text())]


async def test_expand_brings_back_a_gists_originals(emulator_env):
    session = await _compressed_session("openai/gpt-4o-mini-8k")
    gists = _gist_ids(session)
    assert gists, "the older turns were condensed into gists"
    assert any(a.model_extra.get("gist") == gists[0] for a in session._archive)
    reply = await session.send(f'What was the rollback tag? [[call expand {{"gist_id": "{gists[0]}"}}]]')
    assert reply.message.content
    [result] = [m for m in session.messages if m.role == "tool"][-1:]
    assert result.content.startswith(f"[expanded {gists[0]}") and "RB-5521" in result.content
    assert "ledger-api" in result.content  # the original turn, not only its key lines


async def test_expanding_an_unknown_gist_says_so(emulator_env):
    session = await _compressed_session("openai/gpt-4o-mini-8k")
    await session.send('[[call expand {"gist_id": "g-000000000000"}]]')
    assert "No gist 'g-000000000000'" in [m for m in session.messages if m.role == "tool"][-1].content


async def test_the_guard_budgets_for_the_expanded_text(emulator_env):
    session = await _compressed_session("openai/gpt-test-2k")
    gists = _gist_ids(session)
    assert gists
    await session.send(f'Show it all. [[call expand {{"gist_id": "{gists[0]}"}}]]')
    result = [m for m in session.messages if m.role == "tool"][-1].content
    # a 2k window cannot take the whole range back: the answer is cut to the room left, and says so
    assert "cut to fit the context window" in result
    assert counter_for("openai/gpt-test-2k").text(result) <= 2048 // 2
    assert re.search(r"recall\(query\)", result)
