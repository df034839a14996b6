"""Seeded synthetic agent conversations, for tests and benchmarks of compression stages.

:func:`generate_conversation` builds a realistic tool-using conversation in the Chat Completions
format -- user turns, assistant text, tool calls (some parallel, results in any order), multi-part
user content with images, large and huge tool outputs, an optional unfinished tool loop at the end
-- and can plant *facts* (user constraints, ids, decisions, numbers) at known places, so a test
can check what a compression kept. Plugin authors can use it to test their own stages.

Deterministic: the same arguments give the same conversation.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

_WORDS = (
    "the a of to and in is for on with that this it as be by from at are was we will can not or have an "
    "function module request response server client config value result error test file path build deploy "
    "update check return data user cache index query table column field record batch stream token window "
    "model agent tool call output input message state retry limit timeout handler service worker queue job "
    "schema version branch commit merge review patch release log metric trace event session memory store"
).split()

TOOLS: list[dict[str, Any]] = [
    {"type": "function", "function": {"name": n, "description": d, "parameters": {
        "type": "object", "properties": {"path": {"type": "string"}, "query": {"type": "string"}},
    }}}
    for n, d in (("read_file", "Read a file"), ("search", "Search the code base"), ("run_tests", "Run the tests"),
                 ("shell", "Run a shell command"))
]


@dataclass(frozen=True)
class Fact:
    """A planted fact: ``key`` is the exact text whose presence proves it was kept."""

    kind: str  # constraint | identifier | decision | number
    key: str
    sentence: str
    turn: int


@dataclass
class Synthetic:
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    facts: list[Fact] = field(default_factory=list)


class _Text:
    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        # a pool of sentences keeps generation fast even for 10M-token conversations
        self.pool = [self._sentence() for _ in range(800)]

    def _sentence(self) -> str:
        n = self.rnd.randint(6, 18)
        words = [self.rnd.choice(_WORDS) for _ in range(n)]
        return words[0].capitalize() + " " + " ".join(words[1:]) + "."

    def words(self, tokens: int, tag: str = "") -> str:
        """About ``tokens`` tokens of filler prose (``tag`` makes it unique)."""
        out = [tag] if tag else []
        size = 0
        pool = self.pool
        pick = self.rnd.randrange
        while size < tokens:
            s = pool[pick(len(pool))]
            out.append(s)
            size += len(s) // 4 + 1
        return " ".join(out)

    def log(self, tokens: int, tag: str) -> str:
        """About ``tokens`` tokens of tool-output-like lines."""
        lines = [tag]
        size = 0
        k = 0
        while size < tokens:
            k += 1
            line = f"{k:05d} {self.pool[self.rnd.randrange(len(self.pool))]}"
            lines.append(line)
            size += len(line) // 4 + 1
        return "\n".join(lines)


_DBS = ("PostgreSQL", "SQLite", "Redis", "ClickHouse", "DuckDB", "MySQL")
_AREAS = ("billing", "search", "auth", "ingest", "reports", "alerts", "exports", "scheduler")


def _fact(rnd: random.Random, kind: str, turn: int) -> Fact:
    area = rnd.choice(_AREAS)
    n = rnd.randint(10_000, 99_999)
    if kind == "constraint":
        key = f"/srv/{area}/legacy-{n}"
        return Fact(kind, key, f"Constraint: never modify anything under {key}, it is owned by another team.", turn)
    if kind == "identifier":
        key = f"{area[:3].upper()}-{n}"
        return Fact(kind, key, f"Created ticket {key} for the {area} migration.", turn)
    if kind == "decision":
        db = rnd.choice(_DBS)
        key = f"{db} {rnd.randint(11, 17)}.{rnd.randint(0, 9)} for {area}-{n}"
        return Fact(kind, key, f"Decision: we decided to use {key} because it keeps the schema simple.", turn)
    key = f"{n} requests per minute"
    return Fact("number", key, f"The {area} API must stay below {key} at peak.", turn)


def generate_conversation(
    seed: int,
    *,
    turns: int = 30,
    user_tokens: tuple[int, int] = (20, 120),
    tool_tokens: tuple[int, int] = (50, 2_000),
    assistant_tokens: tuple[int, int] = (20, 200),
    huge_every: int = 0,
    huge_tokens: int = 20_000,
    parallel_share: float = 0.3,
    multipart_share: float = 0.15,
    tool_share: float = 0.8,
    facts: int = 0,
    end_in_tool_loop: bool = False,
    latest_user_tokens: int | None = None,
    system_prompt: str = "You are a careful coding agent. Follow the user's constraints exactly.",
) -> Synthetic:
    """A seeded agent conversation (see the module doc). ``facts`` planted facts are spread over
    the turns (never in the last turn): constraints in user messages, identifiers and numbers
    in tool outputs, decisions in assistant messages."""
    rnd = random.Random(seed)
    text = _Text(rnd)
    kinds = ("constraint", "identifier", "decision", "number")
    plan: dict[int, list[Fact]] = {}
    planted: list[Fact] = []
    for k in range(facts):
        turn = rnd.randrange(max(1, turns - 1))
        f = _fact(rnd, kinds[k % 4], turn)
        plan.setdefault(turn, []).append(f)
        planted.append(f)
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}]
    call_no = 0
    for t in range(turns):
        last = t == turns - 1
        here = plan.get(t, [])
        size = latest_user_tokens if (last and latest_user_tokens) else rnd.randint(*user_tokens)
        body = text.words(size, f"[turn {t}]")
        for f in here:
            if f.kind in ("constraint", "number"):
                body += " " + f.sentence
        if rnd.random() < multipart_share and not last:
            content: Any = [{"type": "text", "text": body},
                            {"type": "image_url", "image_url": {"url": f"https://example.com/shot-{seed}-{t}.png",
                                                                "detail": rnd.choice(["low", "high"])}}]
        else:
            content = body
        messages.append({"role": "user", "content": content})
        if last and not end_in_tool_loop:
            break
        steps = rnd.randint(1, 3) if rnd.random() < tool_share else 0
        for s in range(steps):
            n_calls = rnd.randint(2, 4) if rnd.random() < parallel_share else 1
            calls = []
            for _ in range(n_calls):
                call_no += 1
                name = rnd.choice(TOOLS)["function"]["name"]
                args = {"path": f"src/{rnd.choice(_AREAS)}/mod_{rnd.randint(1, 99)}.py"} if name == "read_file" \
                    else {"query": text.words(6)}
                calls.append({"id": f"call_{seed}_{call_no}", "type": "function",
                              "function": {"name": name, "arguments": json.dumps(args)}})
            messages.append({"role": "assistant", "content": None, "tool_calls": calls})
            results = []
            for c in calls:
                huge = huge_every and rnd.randrange(huge_every) == 0
                out = text.log(huge_tokens if huge else rnd.randint(*tool_tokens), f"[{c['id']} output]")
                for f in here:
                    if f.kind == "identifier" and s == 0 and c is calls[0]:
                        out += "\n" + f.sentence
                results.append({"role": "tool", "tool_call_id": c["id"], "content": out})
            rnd.shuffle(results)
            messages.extend(results)
        if last:
            break
        reply = text.words(rnd.randint(*assistant_tokens), f"[reply {t}]")
        for f in here:
            if f.kind == "decision" or (f.kind == "identifier" and steps == 0):
                reply += " " + f.sentence  # (an identifier goes here when the turn used no tool)
        messages.append({"role": "assistant", "content": reply})
    return Synthetic(messages=messages, tools=list(TOOLS), facts=planted)


def kept_facts(facts: list[Fact], messages: list[Any]) -> list[Fact]:
    """The planted facts whose key still appears in ``messages`` (text, parts or tool calls)."""
    blob = json.dumps([m if isinstance(m, dict) else m.model_dump(mode="json") for m in messages],
                      ensure_ascii=False)
    return [f for f in facts if json.dumps(f.key, ensure_ascii=False)[1:-1] in blob]
