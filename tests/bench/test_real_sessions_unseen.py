"""The unseen hold-out's converters on tiny synthetic samples of each format (no fetched data):
the NYU CTF baseline transcripts, Moatless Tools' two trajectory layouts, EnIGMA's solved filter,
the sessions they make, and the one-``recall`` measurement over a real SQLite store."""

from __future__ import annotations

import json
from typing import Any

import pytest
import real_sessions as rs
import real_sessions_unseen as unseen
from massgen_plugins.compression.invariants import validate_conversation
from massgen_plugins.types import ArchivedMessage, Message
from real_sessions import Fact, Source


def call(cid: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}


NYU_SAMPLE = {
    "messages": [
        ["t0", {"role": "system", "content": "You are a CTF player. The flag format is flag{...}."}],
        ["t1", {"role": "user", "content": "Solve the challenge 'tiny'."}],
        ["t1", {"role": "user", "content": "Solve the challenge 'tiny'."}],  # logged twice
        ["t2", {"text": "raw reply of the Anthropic backend", "type": "text"}],  # not a message
        ["t3", {"role": "assistant", "content": None,
                "tool_calls": [call("c1", "run_command", {"command": "cat flag.txt"})]}],
        ["t4", {"role": "tool", "name": "run_command", "tool_call_id": "c1",
                "content": json.dumps({"stdout": "flag{tiny_1}\n", "returncode": 0})}],
        ["t5", {"role": "assistant", "content": "A guess first.",
                "tool_calls": [call("c2", "check_flag", {"flag": "flag{wrong}"})]}],
        ["t6", {"role": "tool", "name": "check_flag", "tool_call_id": "c2", "content": '{"correct": false}'}],
        ["t7", {"role": "assistant", "content": None, "tool_calls": [call("c3", "check_flag", {"flag": "flag{tiny_1}"})]}],
        ["t8", {"role": "tool", "name": "check_flag", "tool_call_id": "c3", "content": '{"correct": true}'}],
        ["t9", {"role": "assistant", "content": "The flag is flag{tiny_1}."}],
    ],
    "challenge": {"name": "tiny", "flag": "flag{tiny_1}"},
    "solved": True,
}

MOATLESS_STEPS = {
    "name": "moatless",
    "input": {"problem_statement": "Usernames accept a trailing newline."},
    "steps": [
        {"name": "SearchLoop_Searching", "actions": [
            {"name": "search", "input": {"query": "username validator regex"},
             "output": {"message": "Found 2 code spans.", "file_context": [
                 {"file_path": "pkg/validators.py", "spans": [{"span_id": "ASCIIValidator"}, {"span_id": "imports"}]}]}},
        ]},
        {"name": "CodeLoop_CodeChange", "actions": [
            {"name": "search_replace", "input": {"file_path": "pkg/validators.py", "replacement_code": "regex = r'\\A\\w+\\Z'"},
             "output": {"diff": "--- pkg/validators.py\n+++ pkg/validators.py\n-regex = r'^\\w+$'\n+regex = r'\\A\\w+\\Z'\n",
                        "updated": True}},
        ]},
        {"name": "CodeLoop_Pending", "actions": [
            {"name": "finish", "input": {"reason": "Both validators now use \\A and \\Z."}},
        ]},
    ],
    "info": {"submission": "diff --git a/pkg/validators.py b/pkg/validators.py\n--- a/pkg/validators.py\n"
                           "+++ b/pkg/validators.py\n@@ -1 +1 @@\n-x\n+y\n"
                           "diff --git a/docs/changes.rst b/docs/changes.rst\n@@ -1 +1 @@\n-a\n+b\n"},
}

MOATLESS_TRANSITIONS = {
    "name": "AgenticLoop",
    "initial_message": "Fix the trailing-newline bug.",
    "transitions": [
        {"name": "SearchCode", "actions": [
            {"action": {"scratch_pad": "Look for the validators.", "search_requests": [{"file_pattern": "**/validators.py"}]},
             "output": {"ranked_spans": [{"file_path": "pkg/validators.py", "span_id": "ASCIIValidator", "rank": 0}]}},
        ]},
        {"name": "EditCode", "actions": [
            {"action": {"content": "<replace>\nregex = r'\\A\\w+\\Z'\n</replace>"},
             "output": {"message": "Applied the change to pkg/validators.py.", "diff": "--- pkg/validators.py\n+++ pkg/validators.py\n"}},
        ]},
        {"name": "PlanToCode", "actions": [
            {"action": {"scratch_pad": "Done.", "action": "finish", "finish": "The regex is fixed."},
             "output": {"message": "The issue is resolved: the regex is anchored with \\A and \\Z."}},
        ]},
        {"name": "Finished", "actions": []},
    ],
    "info": {"submission": "diff --git a/pkg/validators.py b/pkg/validators.py\n@@ -1 +1 @@\n-x\n+y\n"},
}


def enigma_traj(flag: str) -> dict[str, Any]:
    return {
        "history": [
            {"role": "system", "content": "SETTING: you solve CTF challenges.", "agent": "primary"},
            {"role": "user", "content": "A demonstration: submit 'flag{demo}'", "is_demo": True, "agent": "primary"},
            {"role": "user", "content": "We're solving the challenge 'collision course'.", "agent": "primary"},
            {"role": "assistant", "content": "DISCUSSION\nThe flag is in the file.\n```\ncat flag.txt\n```",
             "thought": "DISCUSSION\nThe flag is in the file.\n", "action": "cat flag.txt\n", "agent": "primary"},
            {"role": "user", "content": f"{flag}\n(Open file: n/a)", "agent": "primary"},
            {"role": "assistant", "content": f"DISCUSSION\nSubmit it.\n```\nsubmit '{flag}'\n```",
             "thought": "DISCUSSION\nSubmit it.\n", "action": f"submit '{flag}'\n", "agent": "primary"},
        ],
        "info": {"exit_status": "submitted", "submission": flag},
    }


ENIGMA_SUMMARY = {"metadata": {"agent": "EnIGMA"},
                  "results": {"2021f-cry-collision_course": True, "2019q-rev-beleaf": False}}


def test_nyu_baseline_run_keeps_each_message_once_and_takes_the_accepted_flag(source_repo):
    root, commit = source_repo("NYU-LLM-CTF/leaderboard_submissions", {"t/conversation.json": NYU_SAMPLE})
    source = Source("nyu-tiny", "NYU-LLM-CTF/leaderboard_submissions", commit, "t/conversation.json", "nyu-ctf")
    run = unseen.load_run(root, source)

    assert run.system.startswith("You are a CTF player.")
    assert run.facts == [Fact("answer", "flag{tiny_1}", "nyu-tiny")]  # the rejected guess is no fact
    roles = [m["role"] for m in run.messages]
    assert roles == ["user", "assistant", "tool", "assistant", "tool", "assistant", "tool", "assistant"]
    assert run.messages[0]["content"] == "Solve the challenge 'tiny'."
    calls = [c for m in run.messages for c in m.get("tool_calls") or ()]
    assert [c["function"]["name"] for c in calls] == ["run_command", "check_flag", "check_flag"]
    assert [m["tool_call_id"] for m in run.messages if m["role"] == "tool"] == [c["id"] for c in calls]
    session = rs.concatenated_session([run])
    validate_conversation(session.messages, "openai")
    assert rs.kept(session.facts, session.messages) == session.facts


def test_moatless_steps_layout_becomes_tool_calls_and_takes_the_files_of_the_final_diff(source_repo):
    root, commit = source_repo("aorwall/moatless-tools", {"e/trajs/pkg-1.json": MOATLESS_STEPS})
    run = unseen.load_run(root, Source("moatless-pkg-1", "aorwall/moatless-tools", commit, "e/trajs/pkg-1.json",
                                       "moatless"))

    assert [f.key for f in run.facts] == ["pkg/validators.py", "docs/changes.rst"]
    assert run.messages[0] == {"role": "user", "content": "Usernames accept a trailing newline."}
    names = [c["function"]["name"] for m in run.messages for c in m.get("tool_calls") or ()]
    assert names == ["search", "search_replace"]
    results = [m["content"] for m in run.messages if m["role"] == "tool"]
    assert results[0] == "Found 2 code spans.\npkg/validators.py: ASCIIValidator, imports"
    assert results[1].startswith("--- pkg/validators.py") and '{"updated": true}' in results[1]
    assert run.messages[-1] == {"role": "assistant", "content": "Both validators now use \\A and \\Z."}
    validate_conversation(rs.concatenated_session([run]).messages, "openai")


def test_moatless_transitions_layout_uses_the_scratch_pad_as_thought_and_finish_as_conclusion(source_repo):
    root, commit = source_repo("aorwall/moatless-tools", {"e/trajs/pkg-2.json": MOATLESS_TRANSITIONS})
    run = unseen.load_run(root, Source("moatless-pkg-2", "aorwall/moatless-tools", commit, "e/trajs/pkg-2.json",
                                       "moatless"))

    assert [f.key for f in run.facts] == ["pkg/validators.py"]
    assert run.messages[0]["content"] == "Fix the trailing-newline bug."
    first = run.messages[1]
    assert first["content"] == "Look for the validators."
    assert first["tool_calls"][0]["function"]["name"] == "SearchCode"
    assert json.loads(first["tool_calls"][0]["function"]["arguments"]) == {
        "search_requests": [{"file_pattern": "**/validators.py"}]}
    assert run.messages[2]["content"] == "pkg/validators.py: ASCIIValidator (rank 0)"
    assert run.messages[4]["content"].startswith("Applied the change to pkg/validators.py.")
    assert run.messages[-1] == {"role": "assistant",
                                "content": "Done.\n\nThe issue is resolved: the regex is anchored with \\A and \\Z."}
    validate_conversation(rs.concatenated_session([run]).messages, "openai")


def test_enigma_summary_names_match_trajectory_names():
    assert unseen.solved_enigma(ENIGMA_SUMMARY) == {"crypto_collisioncourse"}
    solved = Source("e", "r/r", "c", "transcripts/enigma_x/crypto_CollisionCourse.traj", "swe-agent")
    unsolved = Source("e", "r/r", "c", "transcripts/enigma_x/rev_beleaf.traj", "swe-agent")
    assert unseen.enigma_solved(solved, ENIGMA_SUMMARY)
    assert not unseen.enigma_solved(unsolved, ENIGMA_SUMMARY)


@pytest.mark.parametrize("text_actions", [False, True])
def test_enigma_run_counts_a_submission_only_when_the_challenge_was_solved(source_repo, text_actions):
    root, commit = source_repo("NYU-LLM-CTF/leaderboard_submissions", {
        "transcripts/enigma_x/summary.json": ENIGMA_SUMMARY,
        "transcripts/enigma_x/crypto_CollisionCourse.traj": enigma_traj("flag{d0nt_collide}"),
        "transcripts/enigma_x/rev_beleaf.traj": enigma_traj("flag{a_wrong_guess}"),
    })
    repo = "NYU-LLM-CTF/leaderboard_submissions"
    solved = unseen.load_run(root, Source("enigma-cc", repo, commit, "transcripts/enigma_x/crypto_CollisionCourse.traj",
                                          "swe-agent"), text_actions=text_actions)
    unsolved = unseen.load_run(root, Source("enigma-b", repo, commit, "transcripts/enigma_x/rev_beleaf.traj",
                                            "swe-agent"), text_actions=text_actions)

    assert solved.facts == [Fact("answer", "flag{d0nt_collide}", "enigma-cc")]
    assert unsolved.facts == []
    assert "flag{demo}" not in rs.flat_text(solved.messages)  # demonstrations are left out
    last = [m for m in solved.messages if m["role"] == "assistant"][-1]
    if text_actions:
        assert last["role"] == "assistant" and "submit 'flag{d0nt_collide}'" in last["content"]
    else:
        assert json.loads(last["tool_calls"][0]["function"]["arguments"]) == {"command": "submit 'flag{d0nt_collide}'"}


def test_unseen_session_concatenates_the_runs_and_ends_with_the_final_question(source_repo, monkeypatch):
    root, commit = source_repo("NYU-LLM-CTF/leaderboard_submissions", {"t/conversation.json": NYU_SAMPLE,
                                                                       "m/pkg-1.json": MOATLESS_STEPS})
    repo = "NYU-LLM-CTF/leaderboard_submissions"
    monkeypatch.setattr(unseen, "UNSEEN_A", (Source("nyu-tiny", repo, commit, "t/conversation.json", "nyu-ctf"),
                                             Source("moatless-pkg-1", repo, commit, "m/pkg-1.json", "moatless")))
    session = unseen.unseen_session(root, "A")

    assert session.name == "unseen A, tool calls"
    assert session.messages[0] == {"role": "system", "content": NYU_SAMPLE["messages"][0][1]["content"]}
    assert session.messages[-1] == {"role": "user", "content": rs.FINAL_QUESTION}
    assert [f.key for f in session.facts] == ["flag{tiny_1}", "pkg/validators.py", "docs/changes.rst"]
    validate_conversation(session.messages, "openai")


def test_the_pinned_sessions_are_disjoint_and_mix_ctf_and_coding_runs():
    for runs in (unseen.UNSEEN_A, unseen.UNSEEN_B):
        assert len(runs) == 12
        kinds = [s.kind for s in runs]
        assert kinds.count("moatless") == 6 and kinds.count("nyu-ctf") + kinds.count("swe-agent") == 6
    def challenge(source: Source) -> str:  # enigma-crypto_babycrypto, nyu-checker, moatless-django__django-12113
        return source.name.split("-", 1)[1].split("_")[-1].lower()

    a, b = {challenge(s) for s in unseen.UNSEEN_A}, {challenge(s) for s in unseen.UNSEEN_B}
    assert len(a) == len(b) == 12 and not a & b  # no challenge or SWE-bench instance twice
    assert {s.repo for s in unseen.SOURCES} == {unseen.NYU_CTF[0], unseen.MOATLESS[0]}


def test_one_recall_over_a_real_sqlite_store_answers_like_the_guards_tool():
    import retention_unseen

    archive = [
        ArchivedMessage(id="m-1", message=Message(role="user", content="Here is the listing of the directory.")),
        ArchivedMessage(id="m-2", message=Message(role="assistant", content="I captured the flag flag{recall_me}.")),
    ]
    answer = retention_unseen.recall_answer(archive, rs.FINAL_QUESTION)

    assert answer.startswith("[archive ")
    assert "flag{recall_me}" in answer
