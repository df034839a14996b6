"""Regenerate the sample run logs in this folder (deterministic: a pinned clock, no network).

    python examples/run_logs/generate.py

* ``run_20260110_150000_a1b2c3/`` -- a massgen-plugins run written through ``RunLog``: a team
  of three agents; the researcher on a 128k-window model compresses 6 times in 10 turns, one
  overflow is caught only reactively, the critic's provider answers 529 twice and it falls back,
  the writer is killed and resumed from memory.
* ``massgen/log_20260110_143052_123456/`` -- a MassGen log directory written from MassGen's
  documented layout (two attempts of turn 1: the first restarted after an error).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from massgen_plugins.runlog.writer import RunLog

HERE = Path(__file__).resolve().parent
START = 1768057200.0  # 2026-01-10T15:00:00Z


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


def ours(target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    clock = Clock()
    agents = [
        {"id": "researcher", "model": "openai/gpt-4o-mini", "role": "collects facts"},
        {"id": "critic", "model": "anthropic/claude-haiku-4-5", "role": "checks claims",
         "fallbacks": ["openai/gpt-4o-mini"]},
        {"id": "writer", "model": "gemini/gemini-2.5-flash", "role": "writes the answer"},
    ]
    log = RunLog.create(target, title="Compare three vector databases for a 50M-document corpus",
                        agents=agents, team="triage", clock=clock,
                        config={"strategy": "balanced", "max_compressions_per_turn": 2,
                                "memory": "sqlite:///memory.db"})
    call = 0

    def do_call(agent: str, model: str, tokens_in: int, tokens_out: int, latency: float, *, turn: int,
                attempt: int = 1, outcome: str = "ok", error_kind: str | None = None, stream: bool = False) -> None:
        nonlocal call
        call += 1
        cid = f"c{call:03d}"
        log.event("call_start", agent=agent, turn=turn, call_id=cid, model=model, attempt=attempt,
                  stream=stream, input_tokens=tokens_in, max_tokens=4096)
        clock.tick(latency / 1000)
        fields = {"usage": {"input_tokens": tokens_in if outcome == "ok" else 0,
                            "output_tokens": tokens_out if outcome == "ok" else 0}}
        if error_kind:
            fields["error_kind"] = error_kind
        log.event("call_end", agent=agent, turn=turn, call_id=cid, model=model, attempt=attempt, stream=stream,
                  outcome=outcome, latency_ms=latency, finish_reason="stop" if outcome == "ok" else None,
                  ttft_ms=round(latency * 0.18, 1) if stream else None, **fields)

    log.event("memory_read", agent="researcher", scope="team", query="vector database benchmarks", hits=3,
              ids=["m-101", "m-102", "m-117"], store="sqlite:///memory.db", duration_ms=2.4)
    compressions = 0
    # input tokens the researcher's conversation needs at the start of each turn
    needed = [124_300, 88_000, 119_500, 93_200, 121_800, 95_400, 108_900, 90_100, 118_700, 117_600]
    for turn in range(1, 11):
        clock.tick(0.4)
        context = needed[turn - 1]
        if turn == 7:
            # the local count said it fits; the provider disagreed
            do_call("researcher", "openai/gpt-4o-mini", context, 0, 310.0, turn=turn, outcome="overflow",
                    error_kind="context_overflow")
            log.event("overflow", agent="researcher", turn=turn, mode="reactive", model="openai/gpt-4o-mini",
                      limit=128_000, requested=131_950, counted=context, budget=96_000,
                      matched_by="structure:code")
        elif context > 115_000:
            log.event("overflow", agent="researcher", turn=turn, mode="proactive", model="openai/gpt-4o-mini",
                      limit=128_000, requested=context + 4096, counted=context, budget=96_000)
        if turn == 7 or context > 115_000:
            clock.tick(1.2)
            stage = "native" if compressions % 2 == 0 else "mask"
            after = 58_000 + turn * 900
            log.event("compression", agent="researcher", turn=turn, stage=stage, model="openai/gpt-4o-mini",
                      strategy="balanced", budget=96_000, tokens_before=context, tokens_after=after,
                      duration_ms=1180.0 if stage == "native" else 35.0,
                      archived_ids=[f"msg-{turn}-{i}" for i in range(4)],
                      stages_tried=["mask", "native"] if stage == "native" else ["mask"],
                      skipped=[{"stage": "mask", "reason": "no old tool results larger than 2k tokens"}]
                      if stage == "native" else [], fits=True)
            log.event("memory_write", agent="researcher", turn=turn, scope="session", kind="archive",
                      ids=[f"msg-{turn}-{i}" for i in range(4)], count=4, bytes=48_211, store="sqlite:///memory.db")
            context = after
            compressions += 1
        if turn == 4:
            do_call("researcher", "openai/gpt-4o-mini", context, 0, 95.0, turn=turn, outcome="error", error_kind="rate_limit")
            log.event("retry", agent="researcher", turn=turn, model="openai/gpt-4o-mini", attempt=1, kind="rate_limit",
                      reason="Rate limit reached for gpt-4o-mini on tokens per min (TPM): Limit 200000. "
                             "Please try again in 1.2s.", status=429, delay_s=1.2)
            clock.tick(1.2)
            do_call("researcher", "openai/gpt-4o-mini", context, 820, 2350.0, turn=turn, attempt=2)
        else:
            do_call("researcher", "openai/gpt-4o-mini", context, 700 + turn * 40, 1800.0 + turn * 120, turn=turn)
        log.event("tool_call", agent="researcher", turn=turn, tool="web_search", duration_ms=640.0 + turn * 10)
        # the critic reviews every other turn
        if turn % 2 == 0:
            if turn == 6:
                for attempt in (1, 2):
                    do_call("critic", "anthropic/claude-haiku-4-5", 21_000, 0, 180.0, turn=turn // 2, attempt=attempt,
                            outcome="error", error_kind="overloaded", stream=True)
                    log.event("retry", agent="critic", turn=turn // 2, model="anthropic/claude-haiku-4-5",
                              attempt=attempt, kind="overloaded", reason="Overloaded", status=529,
                              delay_s=0.5 * attempt)
                    clock.tick(0.5 * attempt)
                do_call("critic", "anthropic/claude-haiku-4-5", 21_000, 0, 175.0, turn=turn // 2, attempt=3,
                        outcome="error", error_kind="overloaded", stream=True)
                log.event("fallback", agent="critic", turn=turn // 2, from_model="anthropic/claude-haiku-4-5",
                          to_model="openai/gpt-4o-mini", why="overloaded",
                          detail="3 attempts answered 529 overloaded_error")
                do_call("critic", "openai/gpt-4o-mini", 20_400, 610, 1650.0, turn=turn // 2, stream=True)
            else:
                do_call("critic", "anthropic/claude-haiku-4-5", 18_000 + turn * 800, 540, 1400.0 + turn * 30,
                        turn=turn // 2, stream=True)
    # the writer: one call, killed, resumed from memory
    clock.tick(0.6)
    do_call("writer", "gemini/gemini-2.5-flash", 34_000, 0, 900.0, turn=1, outcome="cancelled", error_kind="killed")
    log.event("error", agent="writer", turn=1, kind="killed", message="writer process killed (SIGKILL) mid-call",
              model="gemini/gemini-2.5-flash", fatal=False)
    log.update_meta(note="writer killed and resumed")
    clock.tick(2.0)
    log.event("memory_read", agent="writer", scope="session", query="resume writer", hits=12, store="sqlite:///memory.db",
              duration_ms=3.1, data={"restored_messages": 12})
    log.event("note", agent="writer", message="writer resumed from memory: 12 messages restored")
    do_call("writer", "gemini/gemini-2.5-flash", 34_600, 1_950, 4200.0, turn=1, stream=True)
    log.event("memory_write", agent="writer", scope="team", kind="fact", ids=["m-130"], count=1,
              store="sqlite:///memory.db")
    clock.tick(0.2)
    log.close("ok")


def _write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2) + "\n" if not isinstance(data, str) else data
    path.write_text(text, encoding="utf-8")


def massgen(target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    t0 = 1768055452.5  # 2026-01-10T14:30:52.5Z

    def ts(offset: float) -> str:
        from datetime import datetime, timezone

        return datetime.fromtimestamp(t0 + offset, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")

    question = "What are the trade-offs between RAG and long-context models?"
    # attempt 1: agent_b errors out, orchestration restarts
    a1 = target / "turn_1" / "attempt_1"
    events1 = [
        {"timestamp": ts(0.0), "event_type": "round_start", "agent_id": "agent_a", "round_number": 1, "data": {}},
        {"timestamp": ts(0.1), "event_type": "round_start", "agent_id": "agent_b", "round_number": 1, "data": {}},
        {"timestamp": ts(1.0), "event_type": "text", "agent_id": "agent_a", "round_number": 1, "data": {"content": "Looking"}},
        {"timestamp": ts(2.0), "event_type": "tool_start", "agent_id": "agent_a", "round_number": 1,
         "data": {"tool_name": "search_web", "call_id": "t1"}},
        {"timestamp": ts(3.4), "event_type": "tool_complete", "agent_id": "agent_a", "round_number": 1,
         "data": {"tool_name": "search_web", "call_id": "t1", "success": True, "execution_time_ms": 1400}},
        {"timestamp": ts(9.0), "event_type": "error", "agent_id": "agent_b", "round_number": 1,
         "data": {"error_type": "context_length_exceeded",
                  "message": "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens."}},
        {"timestamp": ts(9.2), "event_type": "agent_restart", "agent_id": "agent_b", "round_number": 1,
         "data": {"reason": "context overflow after compression retry failed"}},
    ]
    _write(a1 / "events.jsonl", "".join(json.dumps(e) + "\n" for e in events1))
    _write(a1 / "metrics_events.json", {
        "meta": {"session_id": "sess_7f3a", "question": question},
        "tool_executions": [{"tool_name": "search_web", "agent_id": "agent_a", "round_number": 1, "timestamp": ts(2.0),
                             "execution_time_ms": 1400, "success": True, "input_chars": 48, "output_chars": 5200}],
        "round_completions": [
            {"agent_id": "agent_a", "round_number": 1, "outcome": "answer", "timestamp": ts(8.0), "duration_ms": 8000,
             "backend": "openai", "model": "gpt-4o-mini", "input_tokens": 18_400, "output_tokens": 950,
             "estimated_cost": 0.00333, "context_usage_pct": 14.4},
            {"agent_id": "agent_b", "round_number": 1, "outcome": "error", "timestamp": ts(9.0), "duration_ms": 8900,
             "backend": "claude", "model": "claude-haiku-4-5", "input_tokens": 0, "output_tokens": 0,
             "estimated_cost": 0.0, "context_usage_pct": 98.0},
        ],
    })
    _write(a1 / "compression_debug" / "compression_1768055459000_input.json",
           {"messages": [{"role": "user", "content": "x " * 2000}] * 6})
    _write(a1 / "compression_debug" / "compression_1768055459000_result.json",
           {"agent_id": "agent_b", "stage": "summarize", "duration_ms": 2100,
            "messages": [{"role": "user", "content": "summary " * 300}]})
    _write(a1 / "compression_debug" / "compression_1768055459000_retry_input.json",
           {"messages": [{"role": "user", "content": "x " * 1500}] * 6})

    a2 = target / "turn_1" / "attempt_2"
    base = 12.0
    events2 = [
        {"timestamp": ts(base), "event_type": "round_start", "agent_id": "agent_a", "round_number": 1, "data": {}},
        {"timestamp": ts(base + 0.1), "event_type": "round_start", "agent_id": "agent_b", "round_number": 1, "data": {}},
        {"timestamp": ts(base + 6.0), "event_type": "answer_submitted", "agent_id": "agent_a", "round_number": 1,
         "data": {"answer": "RAG wins on freshness and cost; long context on multi-hop recall."}},
        {"timestamp": ts(base + 9.5), "event_type": "answer_submitted", "agent_id": "agent_b", "round_number": 1,
         "data": {"answer": "Hybrid: retrieve then read long windows."}},
        {"timestamp": ts(base + 12.0), "event_type": "vote", "agent_id": "agent_a", "round_number": 2,
         "data": {"voted_for": "agent_b"}},
        {"timestamp": ts(base + 12.4), "event_type": "vote", "agent_id": "agent_b", "round_number": 2,
         "data": {"voted_for": "agent_b"}},
        {"timestamp": ts(base + 12.6), "event_type": "winner_selected", "agent_id": None, "round_number": 2,
         "data": {"winner": "agent_b"}},
        {"timestamp": ts(base + 16.0), "event_type": "final_answer", "agent_id": "agent_b", "round_number": 3,
         "data": {"answer": "Use a hybrid."}},
    ]
    # a crash while writing left a torn last line
    _write(a2 / "events.jsonl", "".join(json.dumps(e) + "\n" for e in events2) + '{"timestamp": "2026-01-10T14:31:')
    rounds = [
        ("agent_a", 1, "answer", 6.0, 6000, "openai", "gpt-4o-mini", 16_200, 880, 0.00296),
        ("agent_b", 1, "answer", 9.5, 9400, "claude", "claude-haiku-4-5", 41_000, 1_300, 0.0475),
        ("agent_a", 2, "vote", 12.0, 2400, "openai", "gpt-4o-mini", 19_800, 120, 0.00304),
        ("agent_b", 2, "vote", 12.4, 2900, "claude", "claude-haiku-4-5", 44_100, 140, 0.0448),
        ("agent_b", 3, "presentation", 16.0, 3600, "claude", "claude-haiku-4-5", 45_000, 1_100, 0.0505),
    ]
    _write(a2 / "metrics_events.json", {
        "meta": {"session_id": "sess_7f3a", "question": question},
        "tool_executions": [
            {"tool_name": "search_web", "agent_id": "agent_a", "round_number": 1, "timestamp": ts(base + 1.0),
             "execution_time_ms": 1200, "success": True},
            {"tool_name": "read_file", "agent_id": "agent_b", "round_number": 1, "timestamp": ts(base + 2.0),
             "execution_time_ms": 40, "success": False, "error": "file not found: notes.md"},
        ],
        "round_completions": [
            {"agent_id": a, "round_number": r, "outcome": o, "timestamp": ts(base + t), "duration_ms": d,
             "backend": b, "model": m, "input_tokens": i, "output_tokens": out, "estimated_cost": c}
            for a, r, o, t, d, b, m, i, out, c in rounds
        ],
    })
    _write(a2 / "metrics_summary.json", {
        "meta": {"question": question, "num_agents": 2, "winner": "agent_b", "session_id": "sess_7f3a"},
        "totals": {"estimated_cost": 0.14883, "agent_cost": 0.14883, "subagent_cost": 0.0,
                   "input_tokens": 166_100, "output_tokens": 3_540, "reasoning_tokens": 0},
        "tools": {"total_calls": 2, "total_failures": 1,
                  "by_tool": {"search_web": {"call_count": 1, "success_count": 1, "failure_count": 0,
                                             "total_execution_time_ms": 1200, "avg_execution_time_ms": 1200},
                              "read_file": {"call_count": 1, "success_count": 0, "failure_count": 1,
                                            "total_execution_time_ms": 40, "avg_execution_time_ms": 40}}},
        "rounds": {"total_rounds": 5, "by_outcome": {"answer": 2, "vote": 2, "presentation": 1, "post_evaluation": 0,
                                                     "restarted": 1, "error": 1, "timeout": 0},
                   "avg_context_usage_pct": 61.5},
        "api_timing": {"total_calls": 5, "avg_ttft_ms": 820.0,
                       "by_backend": {"openai": {"calls": 2, "avg_ttft_ms": 610.0},
                                      "claude": {"calls": 3, "avg_ttft_ms": 960.0}}},
        "agents": {"agent_a": {"backend": "openai", "model": "gpt-4o-mini", "input_tokens": 36_000,
                               "output_tokens": 1_000, "estimated_cost": 0.006},
                   "agent_b": {"backend": "claude", "model": "claude-haiku-4-5", "input_tokens": 130_100,
                               "output_tokens": 2_540, "estimated_cost": 0.14283}},
        "subagents": {},
    })
    _write(a2 / "status.json", {
        "status": "completed", "session_id": "sess_7f3a", "turn": 1, "attempt": 2,
        "agents": [
            {"agent_id": "agent_a", "backend": "openai", "model": "gpt-4o-mini", "status": "done",
             "reliability": {"enforcement_attempts": 0, "buffer_loss_events": 0}},
            {"agent_id": "agent_b", "backend": "claude", "model": "claude-haiku-4-5", "status": "done",
             "reliability": {"enforcement_attempts": 2, "buffer_loss_events": 1}},
        ],
    })
    _write(a2 / "final" / "agent_b" / "answer.txt", "Use a hybrid: retrieve, then read long windows.\n")


if __name__ == "__main__":
    import os

    os.getpid = lambda: 4242  # type: ignore[assignment]  # a stable pid in the samples' run_start/meta
    ours(HERE / "run_20260110_150000_a1b2c3")
    massgen(HERE / "massgen" / "log_20260110_143052_123456")
    print("sample run logs written under", HERE)
