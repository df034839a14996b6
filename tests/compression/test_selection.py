"""What the offline extract keeps: statistics over the session itself (rare identifiers weigh
most), the latest user turn steering, each task's outcome kept first, tasks found in sessions
whose command outputs come back as user turns."""

from __future__ import annotations

import json

from massgen_plugins.compression import compress_conversation_sync
from massgen_plugins.compression.conversation import as_messages, turn_units
from massgen_plugins.compression.relevance import SessionStats, stem, terms
from massgen_plugins.compression.selection import CONCLUSION_BONUS, segment_lines, segments_of

MODEL = "openai/gpt-4o"


def _call(cid: str, command: str) -> dict:
    return {"id": cid, "type": "function", "function": {"name": "bash", "arguments": json.dumps({"command": command})}}


def _task(n: int, flag: str, noise: int = 30) -> list[dict]:
    """One tool-calling run: a task, many noisy steps, the flag found, then submitted."""
    msgs = [{"role": "user", "content": f"Challenge {n}: recover the secret from the service on port 40{n:02d}."}]
    for k in range(noise):
        msgs.append({"role": "assistant", "content": f"Trying approach {k} on challenge {n}.",
                     "tool_calls": [_call(f"c{n}_{k}", f"python solve_{n}.py --attempt {k}")]})
        msgs.append({"role": "tool", "tool_call_id": f"c{n}_{k}",
                     "content": "\n".join(f"line {j}: nothing interesting in block {k}.{j} of the output"
                                          for j in range(12))})
    msgs.append({"role": "assistant", "content": "Found it.", "tool_calls": [_call(f"c{n}_x", f"cat out_{n}.txt")]})
    msgs.append({"role": "tool", "tool_call_id": f"c{n}_x", "content": f"the secret is {flag}"})
    msgs.append({"role": "assistant", "content": "Submitting.", "tool_calls": [_call(f"c{n}_s", f"submit {flag}")]})
    msgs.append({"role": "tool", "tool_call_id": f"c{n}_s", "content": "Correct!"})
    return msgs


def _session(n: int = 8) -> tuple[list[dict], list[str]]:
    flags = [f"flag{{r3al_{n}_{k:02d}_x9}}" for k in range(n)]
    msgs = [{"role": "system", "content": "You solve CTF challenges. Flags look like flag{...}."}]
    for k, flag in enumerate(flags):
        msgs.extend(_task(k, flag))
    msgs.append({"role": "user", "content": "List every flag you captured."})
    return msgs, flags


def test_terms_keep_identifiers_whole_and_stem_plain_words():
    found = terms("Changed src/marshmallow/fields.py; submitted flag{b3l0w_th3_r4dar} and files.")
    assert "src/marshmallow/fields.py" in found and "flag{b3l0w_th3_r4dar}" in found
    assert {stem("fields"), "flag", "marshmallow"} <= found  # pieces of compound words answer to plain words
    assert stem("changed") == stem("changes") == stem("change") and stem("files") == stem("file")


def test_rare_identifiers_weigh_more_than_everyday_words():
    msgs = as_messages([{"role": "user", "content": f"the build step {k} ran fine"} for k in range(40)]
                       + [{"role": "user", "content": "the key is ZEBRA-7701"},
                          {"role": "user", "content": "again ZEBRA-7701 and the build"}])
    stats = SessionStats.of(msgs)
    group = stats.group(len(msgs) - 1)
    assert stats.weight("zebra-7701", group) > 5 * stats.weight("the", group)
    assert stats.weight("zebra-7701", group) > stats.weight("build", group)


def test_each_tasks_submission_survives_8x():
    msgs, flags = _session()
    report = compress_conversation_sync(msgs, model=MODEL, ratio=8, options={"stages": ["mask", "extract"]})
    assert report.fits
    text = json.dumps([m.model_dump(mode="json") for m in report.messages])
    kept = [f for f in flags if f in text]
    assert kept == flags


def test_the_latest_user_turn_steers_what_is_kept():
    msgs, _ = _session(4)
    # two equally rare lines in the first task; the question asks about one of them
    msgs[1]["content"] += " Note: the port knock sequence is 7-3-9. The vault code is 5521."
    ask_port = [*msgs[:-1], {"role": "user", "content": "Which port knock sequence did we use?"}]
    ask_vault = [*msgs[:-1], {"role": "user", "content": "Which vault code did we use?"}]

    def kept(conv: list[dict], needle: str) -> bool:
        report = compress_conversation_sync(conv, model=MODEL, budget=700, options={"stages": ["mask", "extract"]})
        return needle in report.messages[1].text()

    assert kept(ask_port, "7-3-9") and kept(ask_vault, "5521")


def test_tasks_are_found_when_outputs_come_back_as_user_turns():
    text_steps = [
        {"role": "user", "content": "Solve challenge Rock in /srv/ctf/rock: find the flag."},
        {"role": "assistant", "content": "ls"},
        {"role": "user", "content": "rock solve.py\n(Current directory: /srv/ctf/rock)"},
        {"role": "assistant", "content": "python solve.py"},
        {"role": "user", "content": "flag{r0ck}\n(Current directory: /srv/ctf/rock)"},
        {"role": "assistant", "content": "submit flag{r0ck}"},
        {"role": "user", "content": "Solve challenge Katy on crypto.chal:4242 and report the number."},
        {"role": "assistant", "content": "nc crypto.chal 4242"},
    ]
    msgs = as_messages(text_steps)
    units = turn_units(msgs)
    stats = SessionStats.of(msgs)
    tasks = segments_of(msgs, units, stats)
    assert [(t.start, t.end) for t in tasks] == [(0, 6), (6, 8)]
    lines = {line.text: line.bonus for seg in segment_lines(msgs, units, stats) for line in seg.lines}
    # the task's outcome is its last action, not every action of it
    assert lines["assistant: submit flag{r0ck}"] == CONCLUSION_BONUS
    assert lines["assistant: python solve.py"] < CONCLUSION_BONUS
