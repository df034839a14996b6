"""The turn loop (guard/turn.py) against the emulator: one count and one window lookup per
attempt, a window learned from the provider used within the same turn, the provider's numbers
read as input (not input + output), never the same request twice, small windows fall back."""

from __future__ import annotations

import json

import pytest
from massgen_plugins.guard import ContextOverflowError, Session
from massgen_plugins.guard.limits import ModelLimits
from massgen_plugins.guard.turn import ModelFailure, Stop
from massgen_plugins.runlog import read_run
from massgen_plugins.types import ErrorKind

from .test_session import FAST_RETRY, tool_history

pytestmark = pytest.mark.plugins("openai")  # drives provider plugins end to end


def events(session: Session, type_: str) -> list[dict]:
    return [e for e in read_run(session._log.path).events if e["type"] == type_]


def chat_posts(emu) -> list:
    return [r for r in emu.requests if r.path.endswith("/chat/completions")]


class Spy:
    """Counts calls to a real ModelLimits method (the method still runs)."""

    def __init__(self, monkeypatch, name: str) -> None:
        self.calls = 0
        original = getattr(ModelLimits, name)

        def counted(limits, *args, **kwargs):
            self.calls += 1
            return original(limits, *args, **kwargs)

        monkeypatch.setattr(ModelLimits, name, counted)


async def test_one_count_and_one_window_lookup_per_compressed_attempt(emulator_env, tmp_path, monkeypatch):
    session = Session("openai/gpt-test-2k", memory=False, run_log=str(tmp_path / "run"), context_window=2048,
                      retry=FAST_RETRY)
    session.messages = tool_history(4)
    counts, windows = Spy(monkeypatch, "count"), Spy(monkeypatch, "window")
    await session.send("What failed?")
    attempts = events(session, "call_start")
    assert len(attempts) == 1 and events(session, "compression"), "one attempt, compressed before the call"
    assert (counts.calls, windows.calls) == (1, 1)


async def test_a_window_learned_from_the_provider_is_used_in_the_same_turn(emulator_env, tmp_path):
    # the configuration believes in 8k; the model has 2k: the first call is rejected, the turn recovers
    session = Session("openai/gpt-test-2k", memory=False, run_log=str(tmp_path / "run"), context_window=8192,
                      retry=FAST_RETRY)
    session.messages = tool_history(3)
    reply = await session.send("Summarise the state of the build.")
    assert reply.message.content
    assert session.limits.window("openai/gpt-test-2k") == 2048
    overflow = [e for e in events(session, "overflow") if e["mode"] == "reactive"]
    assert overflow and overflow[0]["limit"] == 2048
    compression = events(session, "compression")
    # sized from the provider's input count, not input + max_tokens: about 1,400 of our tokens fit
    assert compression and compression[-1]["budget"] > 1000, compression[-1]["budget"]
    assert not [e for e in events(session, "fallback")]


async def test_the_same_request_is_never_sent_twice_after_an_overflow(emulator_env, tmp_path):
    session = Session("openai/gpt-test-2k", memory=False, run_log=str(tmp_path / "run"), context_window=8192,
                      retry=FAST_RETRY)
    session.messages = tool_history(3)
    await session.send("Summarise the state of the build.")
    bodies = [json.dumps(r.body, sort_keys=True) for r in chat_posts(emulator_env)]
    assert len(bodies) == len(set(bodies)), "an identical request was resent"
    for event in events(session, "compression"):
        assert event["stages_tried"], "a compression that tried nothing"


async def test_a_window_below_512_falls_back_instead_of_crashing(emulator_env, tmp_path):
    # a stated window this small cannot host a summarizer: the turn moves to the fallback
    session = Session("openai/gpt-test-2k", fallbacks=["openai/gpt-4o-mini"], memory=False,
                      run_log=str(tmp_path / "run"), retry=FAST_RETRY, max_compressions_per_turn=2,
                      strategy={"name": "balanced", "stages": ["mask", "summarize"]})
    session.limits.learn_window("openai/gpt-test-2k", 300)
    session.messages = tool_history(2)
    reply = await session.send("Which steps passed?")
    assert reply.model == "openai/gpt-4o-mini"
    fallback = events(session, "fallback")
    assert fallback and fallback[0]["why"] == "overflow"


async def test_overflow_everywhere_still_ends_in_a_typed_error(emulator_env, tmp_path):
    session = Session("openai/gpt-test-2k", memory=False, run_log=str(tmp_path / "run"), retry=FAST_RETRY,
                      strategy={"name": "conservative", "stages": ["mask"]}, max_compressions_per_turn=1)
    with pytest.raises(ContextOverflowError) as caught:
        await session.send("x " * 3000)
    assert caught.value.limit == 2048 and session.messages == []


def test_a_failure_is_typed_by_error_kind_and_stop_reason():
    exhausted = ModelFailure(ErrorKind.SERVER, Stop.RETRIES_EXHAUSTED, "server: boom")
    assert exhausted.why == "retries_exhausted"
    assert ModelFailure(ErrorKind.OVERFLOW, Stop.TOO_LARGE, "x").why == "overflow"
    assert ModelFailure(ErrorKind.QUOTA, Stop.ERROR, "x").why == "quota"


@pytest.mark.parametrize(("counted", "requested", "sent", "stated", "expected"), [
    (2100, 4148, 2048, None, 2100),  # "you requested 4148 tokens (2100 in the messages, 2048 in the completion)"
    (10_000, 11_000, 1000, None, 11_000),  # the provider counted the input alone, a little higher than we did
    (10_000, 12_500, 2000, 12_500, 12_500),  # stated input wins
    (10_000, None, 2000, None, None),
])
def test_provider_input_reads_requested_as_input_or_input_plus_output(counted, requested, sent, stated, expected):
    assert ModelLimits.provider_input(counted, requested, sent, stated) == expected


async def test_a_real_window_smaller_than_the_registry_says_is_recovered_within_the_turn(emulator_env, tmp_path):
    # the registry's bundled data says gpt-4o-mini has 128k; this endpoint serves it with 3,000
    from massgen_plugins.testing.spec import EmulatedModel

    emulator_env.set_models("openai", [EmulatedModel("gpt-4o-mini", context_window=3000, max_output=16384)])
    session = Session("openai/gpt-4o-mini", memory=False, run_log=str(tmp_path / "run"), retry=FAST_RETRY)
    session.messages = tool_history(2)
    assert 1500 < session.count_tokens() < 2500
    reply = await session.send("Which steps passed?")
    assert reply.message.content
    statuses = [r.status for r in chat_posts(emulator_env)]
    assert statuses == [400, 200], statuses  # one rejection, then the same turn succeeds
    assert session.limits.window("openai/gpt-4o-mini") == 3000
    body = chat_posts(emulator_env)[-1].body
    assert body.get("max_completion_tokens", body.get("max_tokens")) <= 750  # the reserve follows the learned window
