"""The run log as the guarded Session writes it: two agents on one RunLog against the emulator
(reactive overflow + compression, a 429 retry, Anthropic 529s and a cross-provider fallback,
memory writes), with fake keys in the environment and passed in code. Every event must match the
schema, no key may appear anywhere in the run directory or the reports, and the analyzers must
see what happened."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from massgen_plugins.cli import cli
from massgen_plugins.guard import Session
from massgen_plugins.runlog.analysis import find_issues, summarize_run
from massgen_plugins.runlog.reader import read_run
from massgen_plugins.runlog.schema import validate_event
from massgen_plugins.runlog.writer import RunLog
from massgen_plugins.testing import Fault
from massgen_plugins.types import Message

ENV_KEY = "fake-openai-9f8e7d6c5b4a3"
CODE_KEY = "fake-anthropic-1a2b3c4d5e6f"
FAST_RETRY = {"base_delay": 0.01, "max_delay": 0.05, "max_attempts": 3}
BIG = "The build log says: step {i} compiled module_{i}.py with 0 errors and 3 warnings. " * 40


def tool_history(n: int) -> list[Message]:
    out = []
    for i in range(n):
        call = {"id": f"call_{i}", "type": "function", "function": {"name": "read_log", "arguments": json.dumps({"i": i})}}
        out += [Message(role="user", content=f"Check build step {i}."),
                Message(role="assistant", tool_calls=[call]),
                Message(role="tool", tool_call_id=f"call_{i}", content=BIG.format(i=i)),
                Message(role="assistant", content=f"Step {i} is fine.")]
    return out


@pytest.mark.plugins("openai")
async def test_a_guarded_team_run_is_logged_validated_redacted_and_analyzable(emulator_env, monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    emulator_env.inject(Fault(kind="rate_limit", provider="openai", model="gpt-4o-mini", times=1, retry_after=0.01))
    emulator_env.inject(Fault(kind="overloaded", provider="anthropic", times=None))
    run_dir = tmp_path / "run"
    store = f"sqlite:///{tmp_path / 'memory.db'}"
    log = RunLog.create(run_dir, title="integration", team="t1", secrets=[CODE_KEY],
                        agents=[{"id": "builder", "model": "openai/gpt-test-2k"},
                                {"id": "critic", "model": "anthropic/claude-haiku-4-5"}])

    builder = Session("openai/gpt-test-2k", agent="builder", team="t1", memory=store, run_log=log, retry=FAST_RETRY)
    builder.messages = tool_history(4)
    assert (await builder.send("Summarise the state of the build.")).message.content
    critic = Session("anthropic/claude-haiku-4-5", agent="critic", team="t1", memory=store, run_log=log,
                     fallbacks=["openai/gpt-4o-mini"], retry=FAST_RETRY, api_keys={"anthropic": CODE_KEY})
    reply = await critic.send(f"Review it. (debug: my key is {CODE_KEY})")
    assert reply.model == "openai/gpt-4o-mini"
    builder.close()
    critic.close()
    log.close()

    lines = (run_dir / "events.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    for event in events:
        assert validate_event(event)["type"] == event["type"]  # every emitted event is schema-valid
    assert [e["seq"] for e in events] == list(range(len(events)))
    kinds = {e["type"] for e in events}
    assert {"run_start", "call_start", "call_end", "overflow", "compression", "retry", "fallback",
            "memory_write", "run_end"} <= kinds, kinds

    for path in run_dir.rglob("*"):
        data = path.read_bytes()
        assert ENV_KEY.encode() not in data and CODE_KEY.encode() not in data, path.name

    run = read_run(run_dir)
    summary = summarize_run(run.events, run.meta, source=run.source, status=run.status)
    assert summary["run"]["status"] == "ok" and summary["run"]["agents"] == ["builder", "critic"]
    assert summary["overflows"]["reactive"] >= 1 and summary["compressions"]["total"] >= 1
    assert summary["retries"]["by_kind"].get("rate_limit") == 1
    assert summary["retries"]["by_kind"].get("overloaded", 0) >= 2
    assert [(f["from"], f["to"]) for f in summary["fallbacks"]] == [("anthropic/claude-haiku-4-5", "openai/gpt-4o-mini")]
    titles = [f["title"] for f in find_issues(summary, run.events)]
    assert any(t.startswith("fell back from anthropic/claude-haiku-4-5 to openai/gpt-4o-mini") for t in titles)

    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["logs", "analyze", str(run_dir), "--model", "openai/gpt-4o-mini", "--json",
                                      "--output", str(out / "a.md"), "--html", str(out / "a.html")])
    assert result.exit_code == 0, result.output
    assert ENV_KEY not in result.output and CODE_KEY not in result.output
    for path in out.iterdir():
        text = path.read_text()
        assert ENV_KEY not in text and CODE_KEY not in text
    sent = [json.dumps(r.body) for r in emulator_env.requests if r.body and "reliability engineer" in json.dumps(r.body)]
    assert sent and not [s for s in sent if ENV_KEY in s or CODE_KEY in s]  # nor in what the LLM saw
