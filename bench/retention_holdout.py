"""Retention hold-out: compression scored on real sessions from a source the chain was not tuned on.

The sessions are τ-bench's published GPT-4o airline-support trajectories
(github.com/sierra-research/tau-bench, ``historical_trajectories/gpt-4o-airline.json``; 200 runs of
a function-calling agent that books, cancels and changes reservations through tools). Runs of
trial 0 are concatenated, in task order, into one conversation of about 70k tokens that ends with
the user asking for every reservation the agent booked, cancelled or changed.

**Facts are taken mechanically** from each run's own outcome: every *successful* write the agent
made through a tool on an existing reservation -- ``cancel_reservation``,
``update_reservation_flights``, ``update_reservation_baggages``, ``update_reservation_passengers``
(the ``reservation_id`` argument). Bookings are left out: τ-bench's mock database gives every new
booking the same id (``HATHAT``), so it identifies nothing. A run is taken when its facts are new
(τ-bench poses some tasks twice for the same reservation) and the count stays within ``--facts``
(12); runs without a write are still added until the session reaches ``--tokens``. "Kept" = the fact's text is still somewhere in the compressed conversation (content,
tool-call arguments), as in ``bench/retention.py --real``.

Each method compresses the session to 1/4 and 1/8 of its size: this project's chain offline (no API
key: mask, extract, truncate) with its three named strategies, and keep-last truncation as the
baseline, in the same run. For every dropped fact it says where the fact was (run, position, kind)
and whether one ``expand(gist_id)`` of a gist shown in the result brings it back.

The trajectories are not in this repository (measured at tau-bench commit 59a200c). Fetch them,
then point ``--tau-json`` (or ``MASSGEN_BENCH_TAU_JSON``) at the file::

    git clone --filter=blob:none https://github.com/sierra-research/tau-bench /tmp/tau-bench
    python bench/retention_holdout.py --tau-json /tmp/tau-bench/historical_trajectories/gpt-4o-airline.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("TIKTOKEN_CACHE_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "tiktoken"))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from massgen_plugins.compression import CannotFitError
from massgen_plugins.compression.invariants import validate_conversation
from massgen_plugins.tokens import counter_for
from real_sessions import flat_text
from retention_real import Method, keep_last, ours

MODEL = "openai/gpt-4o"
RATIOS = (4, 8)
FINAL_QUESTION = ("List every reservation you cancelled or changed in this conversation, "
                  "with its reservation id.")
WRITES = {"cancel_reservation": "cancelled",
          "update_reservation_flights": "changed flights", "update_reservation_baggages": "changed baggage",
          "update_reservation_passengers": "changed passengers"}


@dataclass(frozen=True)
class Fact:
    key: str      # the reservation id
    kind: str     # booked / cancelled / changed ...
    task: int     # τ-bench task id of the run
    index: int    # position of the run's first message in the session


def _clean(message: dict[str, Any]) -> dict[str, Any]:
    """Chat Completions fields only (τ-bench tool results also carry ``name``)."""
    out = {k: v for k, v in message.items() if k in ("role", "content", "tool_calls", "tool_call_id")}
    if out["role"] == "assistant" and not out.get("tool_calls"):
        out.pop("tool_calls", None)
        out["content"] = out.get("content") or ""
    return out


def run_facts(traj: list[dict[str, Any]], task: int, index: int) -> list[Fact]:
    """The successful writes of one run: the tool call and the result that answered it."""
    results = {m.get("tool_call_id"): str(m.get("content", "")) for m in traj if m.get("role") == "tool"}
    facts: list[Fact] = []
    for m in traj:
        for call in m.get("tool_calls") or ():
            name = call["function"]["name"]
            if name not in WRITES:
                continue
            result = results.get(call["id"], "")
            if not result or result.startswith("Error"):
                continue
            try:
                key = json.loads(call["function"]["arguments"]).get("reservation_id")
            except (ValueError, AttributeError):
                continue
            if key and all(f.key != key for f in facts):
                facts.append(Fact(str(key), WRITES[name], task, index))
    return facts


def build_session(path: str, max_facts: int, tokens: int) -> tuple[list[dict[str, Any]], list[Fact], list[int]]:
    with open(path, encoding="utf-8") as handle:
        runs = sorted((r for r in json.load(handle) if r.get("trial") == 0), key=lambda r: r["task_id"])
    counter = counter_for(MODEL)
    messages = [_clean(runs[0]["traj"][0])]  # the airline policy heads the session once
    facts: list[Fact] = []
    tasks: list[int] = []
    for run in runs:
        body = [_clean(m) for m in run["traj"][1:]]
        found = run_facts(run["traj"], run["task_id"], len(messages))
        if len(facts) + len(found) > max_facts or any(f.key == g.key for f in found for g in facts):
            continue
        if not found and len(facts) < max_facts and counter.count(messages) > tokens * 0.6:
            continue  # keep room for runs with outcomes
        messages.extend(body)
        facts.extend(found)
        tasks.append(run["task_id"])
        if len(facts) >= max_facts and counter.count(messages) >= tokens:
            break
    messages.append({"role": "user", "content": FINAL_QUESTION})
    return messages, facts, tasks


def recoverable(out: list[dict[str, Any]], archive: list[Any], dropped: list[Fact]) -> list[Fact]:
    try:
        from massgen_plugins.compression.gists import GIST_RE, expand
    except ImportError:
        return []
    shown = {g for m in out for g in GIST_RE.findall(flat_text([m]))}
    texts = [flat_text([m.model_dump(mode="json") for m in expand(archive, g)]) for g in shown]
    return [f for f in dropped if any(f.key in t for t in texts)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tau-json", default=os.environ.get("MASSGEN_BENCH_TAU_JSON"),
                        help="τ-bench historical_trajectories/gpt-4o-airline.json")
    parser.add_argument("--facts", type=int, default=12)
    parser.add_argument("--tokens", type=int, default=70_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.tau_json or not os.path.exists(args.tau_json):
        print("error: --tau-json PATH (or MASSGEN_BENCH_TAU_JSON) must name τ-bench's gpt-4o-airline.json",
              file=sys.stderr)
        return 2
    messages, facts, tasks = build_session(args.tau_json, args.facts, args.tokens)
    counter = counter_for(MODEL)
    total = counter.count(messages)
    text_of = flat_text(messages)
    print(f"session: {len(tasks)} τ-bench airline runs (tasks {tasks}), {len(messages)} messages, {total:,} tokens, "
          f"{len(facts)} facts")
    for f in facts:
        print(f"  fact {f.key}: {f.kind} in task {f.task} (message {f.index}; appears {text_of.count(f.key)}x)")
    methods: list[tuple[str, Method]] = [("ours: balanced", ours("balanced")), ("ours: aggressive", ours("aggressive")),
               ("ours: conservative", ours("conservative")), ("keep-last", keep_last)]
    results: dict[str, Any] = {}
    print(f"\n{'method':22} " + " ".join(f"{r}x kept".rjust(10) for r in RATIOS) + "   valid+fits   dropped (recoverable by one expand)")
    for label, method in methods:
        cells, notes, ok = [], [], True
        for ratio in RATIOS:
            budget = total // ratio
            try:
                out, archive = method(messages, budget)
            except CannotFitError as exc:
                cells.append("cannot fit")
                notes.append(f"{ratio}x: {exc}")
                ok = False
                continue
            text = flat_text(out)
            dropped = [f for f in facts if f.key not in text]
            back = recoverable(out, archive, dropped)
            try:
                validate_conversation(out, "openai")
                valid = True
            except Exception:
                valid = False
            fits = counter.count(out) <= budget
            ok = ok and valid and fits
            cells.append(f"{len(facts) - len(dropped)}/{len(facts)}")
            notes.append(f"{ratio}x: " + (", ".join(f"{f.key}({f.kind}, task {f.task}, msg {f.index})"
                                               f"{'+' if f in back else ''}" for f in dropped) or "none"))
            results.setdefault(label, {})[ratio] = {"kept": len(facts) - len(dropped), "facts": len(facts),
                                                    "valid": valid, "fits": fits,
                                                    "dropped": [f.key for f in dropped],
                                                    "recoverable": [f.key for f in back]}
        print(f"{label:22} " + " ".join(c.rjust(10) for c in cells) + f"   {'yes' if ok else 'NO':10}   " + " | ".join(notes))
    print("\n'+' after a dropped fact: one expand(gist_id) of a gist shown in the result brings it back")
    print("bar: >= 11/12 facts at 4x and >= 9/12 at 8x, all invariants held, within budget")
    if args.json:
        print(json.dumps({"tokens": total, "tasks": tasks, "facts": [f.__dict__ for f in facts], "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
