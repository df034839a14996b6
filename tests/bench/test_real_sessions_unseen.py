"""The unseen hold-out's converters on tiny synthetic samples of each format (no fetched data):
the NYU CTF baseline transcripts, Moatless Tools' two trajectory layouts, EnIGMA's solved filter,
SWE-agent 1.x trajectories and Gemini CLI chats (hold-out C), the sessions they make, and the
one-``recall`` measurement over a real SQLite store."""

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
    assert {s.repo for s in (*unseen.UNSEEN_A, *unseen.UNSEEN_B)} == {unseen.NYU_CTF[0], unseen.MOATLESS[0]}


def test_hold_out_c_comes_from_other_sources_and_alternates_ctf_and_coding():
    runs = unseen.UNSEEN_C
    assert [s.kind for s in runs] == ["gemini-cli", "swe-agent-1x", "aider", "aider"] * 3
    assert {s.repo for s in runs} == {unseen.GEMINI_CTF[0], unseen.SWE_AGENT_1X[0], unseen.AIDER[0]}
    assert not {s.repo for s in runs} & {s.repo for s in (*unseen.UNSEEN_A, *unseen.UNSEEN_B)}

    def challenge(source: Source) -> str:  # gemini-puffin -> puffin, swe1x-dask__dask-8685 -> dask8685
        return source.name.split("-", 1)[1].split("_")[-1].replace("-", "").lower()

    names = {challenge(s) for s in runs if s.kind != "aider"}
    assert len(names) == 6 and not names & {challenge(s) for s in (*unseen.UNSEEN_A, *unseen.UNSEEN_B)}
    assert len({s.name for s in runs}) == 12


def test_one_recall_over_a_real_sqlite_store_answers_like_the_guards_tool():
    import retention_unseen

    archive = [
        ArchivedMessage(id="m-1", message=Message(role="user", content="Here is the listing of the directory.")),
        ArchivedMessage(id="m-2", message=Message(role="assistant", content="I captured the flag flag{recall_me}.")),
    ]
    answer = retention_unseen.recall_answer(archive, rs.FINAL_QUESTION)

    assert answer.startswith("[archive ")
    assert "flag{recall_me}" in answer


def swe1x_traj() -> dict[str, Any]:
    """A SWE-agent 1.x trajectory as it logs them: parts and tool calls as Python literals."""
    view = [{"function": {"arguments": '{"command":"view","path":"/testbed/pkg/core.py"}',
                          "name": "str_replace_editor"}, "id": "call_v", "type": "function"}]
    edit = [{"function": {"arguments": json.dumps({"command": "str_replace", "path": "/testbed/pkg/core.py",
                                                   "old_str": "x = 1", "new_str": "x = 2"}),
                          "name": "str_replace_editor"}, "id": "call_e", "type": "function"}]
    submit = [{"function": {"arguments": "{}", "name": "submit"}, "id": "call_s", "type": "function"}]
    diff = ("diff --git a/pkg/core.py b/pkg/core.py\n--- a/pkg/core.py\n+++ b/pkg/core.py\n"
            "@@ -1 +1 @@\n-x = 1\n+x = 2\n"
            "diff --git a/pkg/util.py b/pkg/util.py\n@@ -1 +1 @@\n-a\n+b\n")
    return {
        "history": [
            {"role": "system", "content": "You are a helpful assistant that can interact with a computer.",
             "message_type": "system_prompt"},
            {"role": "user", "message_type": "observation",
             "content": str([{"type": "text", "text": "<pr_description>x should be 2</pr_description>"}])},
            {"role": "assistant", "content": "Let me look at the code.", "thought": "Let me look at the code.",
             "action": "str_replace_editor view /testbed/pkg/core.py", "tool_calls": str(view),
             "message_type": "action"},
            {"role": "tool", "content": str([{"type": "text", "text": "OBSERVATION:\n     1\tx = 1"}]),
             "tool_call_ids": "['call_v']", "message_type": "observation"},
            {"role": "assistant", "content": "", "thought": "",
             "action": "str_replace_editor str_replace /testbed/pkg/core.py   --old_str 'x = 1' --new_str 'x = 2'",
             "tool_calls": str(edit), "message_type": "action"},
            {"role": "tool", "content": "OBSERVATION:\nThe file /testbed/pkg/core.py has been edited.",
             "tool_call_ids": "['call_e']", "message_type": "observation"},
            {"role": "assistant", "content": "", "thought": "", "action": "submit", "tool_calls": str(submit),
             "message_type": "action"},
            {"role": "tool", "content": "OBSERVATION:\n" + diff, "tool_call_ids": "['call_s']",
             "message_type": "observation"},
        ],
        "info": {"exit_status": "submitted", "submission": diff},
    }


def test_swe_agent_1x_run_as_tool_calls_parses_logged_literals_and_takes_the_submitted_files(source_repo):
    root, commit = source_repo("christsakm/Trajectories", {"T/i/t/i.traj": swe1x_traj()})
    run = unseen.load_run(root, Source("swe1x-i", "christsakm/Trajectories", commit, "T/i/t/i.traj", "swe-agent-1x"))

    assert run.system == "You are a helpful assistant that can interact with a computer."
    assert [f.key for f in run.facts] == ["pkg/core.py", "pkg/util.py"]
    assert run.messages[0] == {"role": "user", "content": "<pr_description>x should be 2</pr_description>"}
    calls = [c for m in run.messages for c in m.get("tool_calls") or ()]
    assert [c["function"]["name"] for c in calls] == ["str_replace_editor", "str_replace_editor", "submit"]
    assert json.loads(calls[1]["function"]["arguments"])["path"] == "/testbed/pkg/core.py"
    results = [m for m in run.messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in results] == [c["id"] for c in calls]
    assert results[0]["content"] == "OBSERVATION:\n     1\tx = 1"  # the parts' text, not their literal
    assert run.messages[1]["content"] == "Let me look at the code."
    validate_conversation(rs.concatenated_session([run]).messages, "openai")


def test_swe_agent_1x_run_as_text_actions_puts_the_action_line_in_the_reply(source_repo):
    root, commit = source_repo("christsakm/Trajectories", {"T/i/t/i.traj": swe1x_traj()})
    run = unseen.load_run(root, Source("swe1x-i", "christsakm/Trajectories", commit, "T/i/t/i.traj", "swe-agent-1x"),
                          text_actions=True)

    assert [m["role"] for m in run.messages] == ["user", "assistant", "user", "assistant", "user", "assistant", "user"]
    assert not any(m.get("tool_calls") for m in run.messages)
    assert run.messages[1]["content"] == "Let me look at the code.\n\nstr_replace_editor view /testbed/pkg/core.py"
    assert run.messages[3]["content"].startswith("str_replace_editor str_replace /testbed/pkg/core.py")
    assert run.messages[-1]["content"].startswith("OBSERVATION:\ndiff --git a/pkg/core.py")
    assert [f.key for f in run.facts] == ["pkg/core.py", "pkg/util.py"]


GEMINI_CHAT = [
    {"role": "user", "parts": [{"text": "This is the Gemini CLI. We are setting up the context for our chat."}]},
    {"role": "user", "parts": [{"text": "Capture the flag (format: `csawctf{...}`)."}]},
    {"role": "model", "parts": [{"thoughtSignature": "CiQBjz1rXyed7tAw", "text": "Placeholder: csawctf{...}"},
                                {"functionCall": {"name": "run_shell_command", "args": {"command": "cat flag.txt"}}}]},
    {"role": "user", "parts": [{"functionResponse": {"id": "run_shell_command-1", "name": "run_shell_command",
                                                     "response": {"output": "Output: csawctf{local_test_flag}"}}}]},
    {"role": "model", "parts": [{"functionCall": {"name": "list_files", "args": {"directory": "/chal"}}},
                                {"functionCall": {"name": "checksec", "args": {"binary": "/chal/puffin"}}}]},
    {"role": "user", "parts": [
        {"functionResponse": {"id": "list_files-2", "name": "list_files", "response": {"error": "MCP tool error"}}},
        {"functionResponse": {"id": "checksec-3", "name": "checksec", "response": {"output": {"NX": True}}}}]},
    {"role": "model", "parts": [{"text": "I overflowed the buffer.", "thought": True},
                                {"text": "The flag is `csawctf{r3al_0ne}`."}]},
]


def test_gemini_cli_chat_becomes_tool_calls_and_takes_the_flag_of_its_closing_text(source_repo):
    root, commit = source_repo("wechicken456/CTF-agent", {"testing/pwn/p/chat.json": GEMINI_CHAT})
    run = unseen.load_run(root, Source("gemini-p", "wechicken456/CTF-agent", commit, "testing/pwn/p/chat.json",
                                       "gemini-cli"))

    assert run.facts == [Fact("answer", "csawctf{r3al_0ne}", "gemini-p")]  # not the local test flag, not a placeholder
    assert [m["role"] for m in run.messages] == ["user", "user", "assistant", "tool", "assistant", "tool", "tool",
                                                 "assistant"]
    assert "CiQBjz1rXyed7tAw" not in rs.flat_text(run.messages)
    assert "I overflowed the buffer." not in rs.flat_text(run.messages)  # a thought part is not said
    calls = [c for m in run.messages for c in m.get("tool_calls") or ()]
    assert [c["function"]["name"] for c in calls] == ["run_shell_command", "list_files", "checksec"]
    assert [m["content"] for m in run.messages if m["role"] == "tool"] == [
        "Output: csawctf{local_test_flag}", "MCP tool error", '{"NX": true}']
    assert run.messages[-1] == {"role": "assistant", "content": "The flag is `csawctf{r3al_0ne}`."}
    assert unseen.load_run(root, run.source, text_actions=True).messages == run.messages  # function calls both ways
    validate_conversation(rs.concatenated_session([run]).messages, "openai")


def test_gemini_cli_chat_that_reports_no_flag_has_no_fact(source_repo):
    chat = [*GEMINI_CHAT[:-1], {"role": "model", "parts": [{"text": "I could not solve it (format: csawctf{...})."}]}]
    root, commit = source_repo("wechicken456/CTF-agent", {"c.json": chat})
    run = unseen.load_run(root, Source("gemini-c", "wechicken456/CTF-agent", commit, "c.json", "gemini-cli"))
    assert run.facts == []


AIDER_HISTORY = """
# aider chat started at 2024-08-01 10:00:00

> /usr/bin/aider pkg/core.py
> Aider v0.47.2-dev
> Added pkg/core.py to the chat.

#### make x 2  

Here's the change:

pkg/core.py
```python
<<<<<<< SEARCH
x = 1
=======
x = 2
>>>>>>> REPLACE
```

> Tokens: 1,000 sent, 100 received.
> Applied edit to pkg/core.py
> Commit abc123 feat: x is 2

#### # Fix any errors below, if possible.  
####   
#### pkg/core.py:1:1: E999 broken  

Fixed in docs too:

docs/notes.md
<source>
<<<<<<< SEARCH
old
=======
new
>>>>>>> REPLACE
</source>

> Applied edit to docs/notes.md
> Applied edit to pkg/core.py
> Here are summaries of some files present in my git repository.
Do not propose changes to these files, treat them as *read-only*.

#### /ex  

# aider chat started at 2024-08-01 11:00:00

> /usr/bin/aider

#### hi  

Hello!
"""


def test_aider_session_keeps_the_conversation_and_takes_the_files_of_applied_edits(source_repo):
    root, commit = source_repo("Aider-AI/aider", {"tests/fixtures/chat-history.md": AIDER_HISTORY})
    source = Source("aider-2024-08-01T10:00:00", "Aider-AI/aider", commit, "tests/fixtures/chat-history.md", "aider")
    run = unseen.load_run(root, source)

    assert [f.key for f in run.facts] == ["pkg/core.py", "docs/notes.md"]
    assert [m["role"] for m in run.messages] == ["user", "assistant", "user", "assistant", "user"]
    assert run.messages[0] == {"role": "user", "content": "make x 2"}
    assert run.messages[1]["content"].startswith("Here's the change:\n\npkg/core.py\n```python\n<<<<<<< SEARCH")
    assert run.messages[2]["content"] == "# Fix any errors below, if possible.\n\npkg/core.py:1:1: E999 broken"
    assert run.messages[3]["content"].endswith("</source>")  # aider's own notices are no part of it
    text = rs.flat_text(run.messages)
    assert "Applied edit" not in text and "Tokens:" not in text and "read-only" not in text
    assert unseen.load_run(root, source, text_actions=True).messages == run.messages  # text either way
    assert [w for w, _ in unseen.aider_sessions(AIDER_HISTORY)] == ["2024-08-01 10:00:00", "2024-08-01 11:00:00"]
    validate_conversation(rs.concatenated_session([run]).messages, "openai")


def test_aider_session_that_is_not_in_the_history_is_a_clear_error(source_repo):
    root, commit = source_repo("Aider-AI/aider", {"h.md": AIDER_HISTORY})
    with pytest.raises(rs.SourceMissing, match="no aider session started at 2024-08-02 09:00:00"):
        unseen.load_run(root, Source("aider-2024-08-02T09:00:00", "Aider-AI/aider", commit, "h.md", "aider"))
