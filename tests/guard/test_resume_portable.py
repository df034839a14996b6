"""After a resume, moving a natively compacted conversation to another provider rebuilds the
compacted range exactly once and in order: the archive's ``position`` and ``kept`` flags survive
the store (real openai and anthropic SDKs against the emulator, a real SQLite store)."""

from __future__ import annotations

import pytest
from massgen_plugins.guard import Session
from massgen_plugins.guard.portable import expand
from massgen_plugins.testing import Fault

pytestmark = pytest.mark.plugins("openai", "anthropic")  # drives provider plugins end to end

FILLER = "The payment service module {i} validates card numbers, retries declined charges and logs audit rows. "
FAST_RETRY = {"base_delay": 0.01, "max_delay": 0.05, "max_attempts": 2}


def _text(content) -> str:
    if isinstance(content, str):
        return content
    return " ".join(p.get("text", "") for p in content if isinstance(p, dict))


async def test_resume_keeps_archive_positions_for_a_cross_provider_fallback(emulator_env, tmp_path):
    store = f"sqlite:///{tmp_path / 'memory.db'}"
    session = Session("openai/gpt-4o-mini-8k", fallbacks=["anthropic/claude-3-5-haiku-20241022"], memory=store, run_log=False,
                      session_id="port", proactive=False, retry=FAST_RETRY,
                      strategy={"name": "balanced", "stages": ["native", "summarize", "extract", "truncate"]})
    sent = []
    for i in range(40):
        sent.append(f"Read module {i}. " + FILLER.format(i=i) * 12)
        await session.send(sent[-1])
        if any(e.stage == "native" for e in session._archive):
            break
    native = [e for e in session._archive if e.stage == "native"]
    assert native and any(getattr(e, "kept", False) for e in native), "a native compaction kept user messages"
    session.close()

    resumed = await Session.resume("port", memory=store, run_log=False)
    restored = {e.id: e for e in resumed._archive}
    for entry in native:
        assert restored[entry.id].model_extra == entry.model_extra  # position, kept, tokens...

    # what the guard rebuilds for another provider: the compacted range put back exactly once
    rebuilt, replaced = expand(resumed.messages, resumed._archive, "anthropic")
    assert replaced == 1
    users = [m.text() for m in rebuilt if m.role == "user" and m.text().startswith("Read module")]
    assert users == sent, "the rebuilt conversation must hold every user message once, in the order sent"

    emulator_env.inject(Fault(kind="server_error", provider="openai", times=None))
    reply = await resumed.send("Give me your three most important findings so far.")
    assert reply.model.startswith("anthropic/")
    [body] = [r.body for r in emulator_env.requests if r.provider == "anthropic" and r.status == 200][-1:]
    users = [_text(m["content"]) for m in body["messages"] if m["role"] == "user"]
    originals = [u for u in users if u.startswith("Read module")]
    assert len(originals) == len(set(originals)), "a user message was duplicated"
    assert originals == [s for s in sent if s in originals], "user messages were reordered"
    assert users[-1].endswith("Give me your three most important findings so far.")
