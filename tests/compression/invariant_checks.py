"""Shared assertions: every invariant of a compression result (imported by the tests)."""

from __future__ import annotations

import json

from massgen_plugins.compression.conversation import as_messages, canonical, head_end, latest_user_index, message_id
from massgen_plugins.compression.invariants import validate_conversation
from massgen_plugins.tokens import counter_for


def assert_invariants(original, report, model: str, budget: int, tools=None) -> None:
    original = as_messages(original)
    out = report.messages
    provider = model.split("/", 1)[0]
    # valid for the provider: pairing, role order, Anthropic rules
    validate_conversation(out, provider)
    # system prompt and latest user message verbatim
    h = head_end(original)
    assert [canonical(m) for m in out[:h]] == [canonical(m) for m in original[:h]]
    assert head_end(out) == h
    u0, u1 = latest_user_index(original), latest_user_index(out)
    assert canonical(out[u1]) == canonical(original[u0])
    # within budget after an independent recount (margin included)
    counter = counter_for(model)
    recount = counter.with_margin(counter.count(out, tools))
    assert recount <= budget, (recount, budget)
    assert report.tokens_after <= budget and report.fits
    # nothing is lost: every original message is kept verbatim or archived
    kept = {canonical(m) for m in out}
    archived = {canonical(a.message) for a in report.archive}
    missing = [i for i, m in enumerate(original) if canonical(m) not in kept and canonical(m) not in archived]
    assert not missing, f"messages {missing} were neither kept nor archived"
    # provenance: every replaced_by names a message of the output or of the archive
    known = {message_id(m) for m in out} | {a.id for a in report.archive}
    known |= {str(p.get("id")) for m in out if isinstance(m.content, list) for p in m.content if isinstance(p, dict)}
    for record in report.archive:
        assert record.replaced_by is None or record.replaced_by in known, record.replaced_by
    json.dumps(report.summary())  # the report is JSON-ready
