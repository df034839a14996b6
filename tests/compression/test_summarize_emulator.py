"""The model-backed stages against the provider emulator, through the real SDKs: summarize
(structured prompt, map-reduce, choice of summarizer, failures, retries) and OpenAI's native
compaction inside the chain."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest
from massgen_plugins.compression import compress_conversation_sync
from massgen_plugins.compression.conversation import message_id
from massgen_plugins.compression.summarize import SYSTEM_PROMPT
from massgen_plugins.compression.synthetic import generate_conversation, kept_facts
from massgen_plugins.testing import Fault

pytestmark = pytest.mark.plugins("openai", "anthropic")  # drives provider plugins end to end

_spec = importlib.util.spec_from_file_location("invariant_checks", pathlib.Path(__file__).with_name("invariant_checks.py"))
checks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(checks)

MODEL = "anthropic/claude-haiku-4-5"


@pytest.fixture
def conv():
    return generate_conversation(31, turns=24, tool_tokens=(100, 700), facts=8)


def _summary_requests(emu, path):
    return [r for r in emu.requests if r.path.endswith(path) and r.method == "POST"]


def test_summarize_runs_through_the_sdk_and_replaces_old_turns(emulator_env, conv):
    report = compress_conversation_sync(conv.messages, model=MODEL, ratio=4, tools=conv.tools,
                                        options={"stages": ["summarize", "truncate"]})
    run = next(s for s in report.stages if s.name == "summarize")
    assert run.status == "applied", run.reason
    checks.assert_invariants(conv.messages, report, MODEL, report.budget, conv.tools)
    summary = report.messages[1]
    assert summary.role == "user" and summary.content.startswith("[Summary of the earlier conversation")
    sid = message_id(summary)
    assert [a for a in report.archive if a.stage == "summarize"]
    assert all(a.replaced_by == sid for a in report.archive if a.stage == "summarize")
    calls = _summary_requests(emulator_env, "/v1/messages")
    assert calls and all(r.status == 200 for r in calls)
    body = calls[0].body
    system = body["system"] if isinstance(body["system"], str) else " ".join(p["text"] for p in body["system"])
    assert "## Instructions and constraints" in system and system.strip() == SYSTEM_PROMPT.strip()
    assert body["max_tokens"] <= report.strategy.summary_max_tokens
    # the summary itself came from the emulator (built from lines with numbers/ids)
    assert "turn" in summary.content
    # no planted fact was lost: what the summary dropped, the host's verbatim key lines carry
    assert kept_facts(conv.facts, report.messages) == conv.facts


def test_verbatim_key_lines_carry_what_a_summary_dropped():
    from massgen_plugins.compression.conversation import as_messages
    from massgen_plugins.compression.summarize import KEY_LINES_HEADER, add_key_lines

    msgs = as_messages([
        {"role": "user", "content": "Constraint: never touch /srv/billing/legacy-4242 at all. Also hello there."},
        {"role": "assistant", "content": "Created ticket BIL-777 and decided to use PostgreSQL 16.2 for it."},
        {"role": "user", "content": "thanks"},
    ])
    summary = "## Task\nMigrate billing. Ticket BIL-777 exists."
    out, kept = add_key_lines(summary, msgs, [0, 1, 2], 200, len)
    assert kept >= 1 and KEY_LINES_HEADER in out
    assert "/srv/billing/legacy-4242" in out            # dropped by the summary: added
    assert out.count("BIL-777") == 1 or "16.2" in out   # already covered ids are not repeated for nothing
    same, none = add_key_lines(summary, msgs, [0, 1, 2], 10, len)
    assert none == 0 and same == summary                # no room: unchanged


def test_map_reduce_when_the_text_exceeds_the_summarizer_window(emulator_env, conv):
    report = compress_conversation_sync(conv.messages, model=MODEL, ratio=4,
                                        options={"stages": ["summarize", "truncate"], "summarizer_window": 3_000,
                                                 "summary_max_tokens": 400})
    run = next(s for s in report.stages if s.name == "summarize")
    assert run.status == "applied", run.reason
    calls = _summary_requests(emulator_env, "/v1/messages")
    assert len(calls) >= 3  # several map calls + at least one reduce
    assert all(r.status == 200 for r in calls)  # none overflowed the summarizer
    reduce_calls = [r for r in calls if "Merge them into one summary" in str(r.body["messages"])]
    assert reduce_calls
    assert any("summarizer call(s)" in n for n in run.notes)


def test_a_different_summarizer_model(emulator_env, conv):
    report = compress_conversation_sync(conv.messages, model=MODEL, ratio=4,
                                        options={"stages": ["summarize", "truncate"],
                                                 "summarizer_model": "openai/gpt-4o-mini"})
    assert "summarize" in report.ran
    assert _summary_requests(emulator_env, "/chat/completions") or _summary_requests(emulator_env, "/responses")
    assert not _summary_requests(emulator_env, "/v1/messages")
    assert "openai/gpt-4o-mini" in report.messages[1].content


def test_a_down_summarizer_is_skipped_and_the_chain_still_fits(emulator_env, conv):
    emulator_env.inject(Fault(kind="server_error", provider="anthropic", times=None))
    report = compress_conversation_sync(conv.messages, model=MODEL, ratio=4)
    run = next(s for s in report.stages if s.name == "summarize")
    assert run.status == "skipped" and run.reason
    assert report.fits and "extract" in report.ran


def test_a_rate_limited_summarizer_retries_once(emulator_env, conv):
    emulator_env.inject(Fault(kind="rate_limit", provider="anthropic", times=1, retry_after=0.01))
    report = compress_conversation_sync(conv.messages, model=MODEL, ratio=4,
                                        options={"stages": ["summarize", "truncate"]})
    assert "summarize" in report.ran
    statuses = [r.status for r in _summary_requests(emulator_env, "/v1/messages")]
    assert statuses[0] == 429 and 200 in statuses


def test_native_compaction_in_the_chain_for_openai(emulator_env, conv):
    model = "openai/gpt-4o-mini"
    report = compress_conversation_sync(conv.messages, model=model, ratio=3, tools=conv.tools)
    native = next(s for s in report.stages if s.name == "native")
    assert native.status == "applied", native.reason
    assert _summary_requests(emulator_env, "/responses/compact")
    checks.assert_invariants(conv.messages, report, model, report.budget, conv.tools)
    parts = [p for m in report.messages if isinstance(m.content, list) for p in m.content if p.get("type") == "compaction"]
    assert parts and all(a.replaced_by for a in report.archive if a.stage == "native")


def test_native_is_not_used_for_other_providers_or_by_aggressive(emulator_env, conv):
    report = compress_conversation_sync(conv.messages, model=MODEL, ratio=3)
    assert not _summary_requests(emulator_env, "/responses/compact")
    aggressive = compress_conversation_sync(conv.messages, model="openai/gpt-4o-mini", ratio=3, strategy="aggressive")
    assert next(s for s in aggressive.stages if s.name == "native").status == "not-allowed"
    assert report.fits and aggressive.fits


def test_a_later_summarize_reads_what_a_compaction_item_stands_for(emulator_env):
    import json

    model = "openai/gpt-4o-mini"
    history = [{"role": "system", "content": "You are the release agent."}]
    for k in range(8):
        history.append({"role": "user", "content": f"Step {k}: look at the release notes again. " + "notes " * 60})
        history.append({"role": "assistant", "content": f"Step {k} done; the signing key is ZEBRA-77{k}1. " * 8})
    history.append({"role": "user", "content": "What is left to do?"})
    first = compress_conversation_sync(history, model=model, ratio=2, options={"stages": ["native"]})
    assert "native" in first.ran
    opaque = [m for m in first.messages if isinstance(m.content, list)]
    assert opaque and "ZEBRA-7701" not in json.dumps([m.model_dump(mode="json") for m in first.messages])
    grown = [*first.messages, {"role": "assistant", "content": "Only the changelog is left."},
             {"role": "user", "content": "Write it, then list every signing key you saw."}]
    seen = len(emulator_env.requests)
    again = compress_conversation_sync(grown, model=model, ratio=2, options={"stages": ["summarize"]},
                                       archive=first.archive)
    run = next(s for s in again.stages if s.name == "summarize")
    assert run.status == "applied", run.reason
    assert any("read through their archived originals" in note for note in run.notes)
    sent = json.dumps([r.body for r in emulator_env.requests[seen:]])
    # the summarizer read the compacted originals, not a placeholder
    assert "ZEBRA-7701" in sent and "[compacted context (opaque)]" not in sent
