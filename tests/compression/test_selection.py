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


def _support_run(n: int, ref: str) -> list[dict]:
    """One customer-support chat (each user turn a new unit): look-ups, a change made through a
    tool in the middle, then several courtesy turns -- the change is never the last call."""
    def call(cid: str, name: str, args: dict) -> dict:
        return {"id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}

    msgs: list[dict] = [{"role": "user", "content": f"Hi, I am customer_{n:03d} and I need to change my flight."}]
    for k in range(8):
        msgs += [{"role": "assistant", "content": None,
                  "tool_calls": [call(f"s{n}_{k}", "get_reservation_details", {"reservation_id": f"Q{n}X{k}Z"})]},
                 {"role": "tool", "tool_call_id": f"s{n}_{k}",
                  "content": json.dumps({"reservation_id": f"Q{n}X{k}Z", "cabin": "economy", "price": 100 + k})},
                 {"role": "assistant", "content": f"I found reservation Q{n}X{k}Z. Is that the one?"},
                 {"role": "user", "content": "No, please check the next one."}]
    msgs += [{"role": "assistant", "content": None,
              "tool_calls": [call(f"s{n}_w", "update_reservation_flights", {"reservation_id": ref, "cabin": "economy"})]},
             {"role": "tool", "tool_call_id": f"s{n}_w", "content": json.dumps({"reservation_id": ref, "status": "ok"})}]
    for k in range(3):
        msgs += [{"role": "assistant", "content": "Is there anything else I can help you with today? Safe travels!"},
                 {"role": "user", "content": f"Thank you so much, that is all {k}."},
                 {"role": "assistant", "content": None,
                  "tool_calls": [call(f"s{n}_t{k}", "think", {"thought": "The customer is satisfied."})]},
                 {"role": "tool", "tool_call_id": f"s{n}_t{k}", "content": ""}]
    msgs.append({"role": "assistant", "content": "You're welcome, have a great day!"})
    return msgs


def test_a_state_changing_call_in_the_middle_of_a_task_survives():
    refs = [f"R{k}K7W{k}" for k in range(10)]
    msgs: list[dict] = [{"role": "system", "content": "You are an airline support agent."}]
    for k, ref in enumerate(refs):
        msgs += _support_run(k, ref)
    msgs.append({"role": "user", "content": "List every reservation you changed."})
    report = compress_conversation_sync(msgs, model=MODEL, ratio=4, options={"stages": ["mask", "extract"]})
    assert report.fits
    text = json.dumps([m.model_dump(mode="json") for m in report.messages])
    assert [r for r in refs if r in text] == refs


def _refused_then_done(n: int, ref: str) -> list[dict]:
    """A support chat where the change is refused three times (a long list of flights each time,
    an ``Error: ...`` result) before it goes through."""
    def call(cid: str, args: dict) -> dict:
        return {"id": cid, "type": "function",
                "function": {"name": "update_reservation_flights", "arguments": json.dumps(args)}}

    msgs: list[dict] = [{"role": "user", "content": f"Hi, I am customer_{n:03d}; please move my reservation."}]
    for k in range(4):
        flights = [{"flight_number": f"HAT{n}{k}{j}", "date": f"2024-05-{10 + j}"} for j in range(4)]
        msgs += [{"role": "assistant", "content": None,
                  "tool_calls": [call(f"w{n}_{k}", {"reservation_id": ref, "cabin": "economy", "flights": flights})]},
                 {"role": "tool", "tool_call_id": f"w{n}_{k}",
                  "content": (f"Error: not enough seats on flight HAT{n}{k}0" if k < 3
                              else json.dumps({"reservation_id": ref, "status": "ok"}))}]
        if k < 3:
            msgs += [{"role": "assistant", "content": f"That flight is full. Shall I try HAT{n}{k + 1}0 instead?"},
                     {"role": "user", "content": "Yes, try that one."}]
    for k in range(3):
        msgs += [{"role": "assistant", "content": "Is there anything else I can help you with today? Safe travels!"},
                 {"role": "user", "content": f"Thank you so much, that is all {k}. Your service was {'great ' * 20}"}]
    msgs.append({"role": "assistant", "content": "You're welcome, have a great day!"})
    return msgs



def test_a_refused_write_does_not_take_the_room_of_the_write_that_went_through():
    msgs: list[dict] = [{"role": "system", "content": "You are an airline support agent."}]
    for k in range(12):
        msgs += _refused_then_done(k, f"R{k}K7W{k}")
    msgs.append({"role": "user", "content": "List every reservation you changed."})
    report = compress_conversation_sync(msgs, model=MODEL, ratio=4, options={"stages": ["mask", "extract"]})
    assert report.fits
    extract = next(str(m.content) for m in report.messages if "[Extract of the earlier" in str(m.content))
    done = [k for k in range(12) if f'"flight_number": "HAT{k}30"' in extract]  # the attempt that went through
    refused = [k for k in range(12) for j in range(3) if f'"flight_number": "HAT{k}{j}0"' in extract]
    assert len(done) >= 4, (done, refused)  # a quarter of the room holds about five of these calls
    assert len(refused) < len(done)


def test_a_task_worded_like_the_first_starts_a_new_one_even_after_a_wordy_output():
    # the output before the second task is a long text dump that shares most of its vocabulary
    book = " ".join(f"the {w} challenge flag file number crypto server report" for w in
                    "sea ship storm harbour captain island anchor lantern".split())
    text_steps = [
        {"role": "user", "content": "We are currently solving the following challenge: Flash, in /srv/flash."},
        {"role": "assistant", "content": "strings flash.bin"},
        {"role": "user", "content": f"{book}\nflag{{b3l0w}}\n(Current directory: /srv/flash)"},
        {"role": "assistant", "content": "submit flag{b3l0w}"},
        {"role": "user", "content": "We are currently solving the following challenge: Katy, a crypto server; "
                                    "report the number it gives."},
        {"role": "assistant", "content": "nc crypto.chal 4242"},
        {"role": "user", "content": "number: 125379498\n(Current directory: /srv/katy)"},
        {"role": "assistant", "content": "submit 125379498"},
    ]
    msgs = as_messages(text_steps)
    units = turn_units(msgs)
    stats = SessionStats.of(msgs)
    assert [(t.start, t.end) for t in segments_of(msgs, units, stats)] == [(0, 4), (4, 8)]
    lines = {line.text: line.bonus for seg in segment_lines(msgs, units, stats) for line in seg.lines}
    assert lines["assistant: submit flag{b3l0w}"] == CONCLUSION_BONUS


def test_a_line_with_an_identifier_beats_plain_prose_of_the_same_price():
    from massgen_plugins.compression.selection import Segment, choose, make_line

    prose = "Remember the quokka never whistles"
    marked = "Then I saved quokka_conf/settings.yaml"
    docs = [terms(prose), terms(marked), {"filler"}, {"filler"}]
    stats = SessionStats(docs, [0, 1, 2, 3])
    segment = Segment(0, 2, [make_line(0, 0, f"assistant: {prose}", prose, 0.0, 0),
                             make_line(1, 0, f"tool: {marked}", marked, 0.0, 1)])
    # the prose's words are as rare and more numerous: by information alone it would win
    assert stats.line_weight(segment.lines[0].terms, 0) > stats.line_weight(segment.lines[1].terms, 1)
    chosen = choose([segment], stats, room=9, count=lambda text: 6)  # the same price; room for one
    assert [line.text for line in chosen] == [f"tool: {marked}"]
