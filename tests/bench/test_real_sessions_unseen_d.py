"""Hold-out D's converters on tiny synthetic samples of each format (no fetched data): InterCode-CTF
results, AutoCodeRover's chat and predictions, OpenHands' evaluation output (its event history with
the model responses), in tool-call and text-action form; and the pinned session D."""

from __future__ import annotations

import json
from typing import Any

import pytest
import real_sessions as rs
import real_sessions_unseen as unseen
import real_sessions_unseen_d as d
from massgen_plugins.compression.invariants import validate_conversation
from real_sessions import Fact, Source

INTERCODE_RESULTS = {
    "4": {"environment": "ic_ctf", "task_id": 4, "query": "Find the flag in the file 'strings'.",
          "turn_history": {"actions": ["ls", "strings strings | grep pico", "submit picoCTF{wrong_guess}",
                                       "submit picoCTF{5tr1ngs_w1n}"],
                           "observations": ["strings\n", "picoCTF{5tr1ngs_w1n}\n", "picoCTF{5tr1ngs_w1n}\n",
                                            "picoCTF{5tr1ngs_w1n}\n"],
                           "rewards": [0, 0, 0, 1], "valid_action": [True, True, True, True]},
          "summary": {"max_reward": 1, "max_reward_idx": 3, "turns_taken": 4, "turns_max": 10}},
    "5": {"environment": "ic_ctf", "task_id": 5, "query": "crackme.py",
          "turn_history": {"actions": ["cat crackme.py", "submit picoCTF{not_it}"],
                           "observations": ["print('hi')", ""], "rewards": [0, 0]},
          "summary": {"max_reward": 0}},
}


def intercode_source(root_commit: str, task: str) -> Source:
    return Source(f"intercode-{task}", "princeton-nlp/intercode", root_commit, "r.json", "intercode-ctf")


@pytest.mark.parametrize("text_actions", [False, True])
def test_intercode_run_takes_the_flag_of_the_rewarded_submission(source_repo, text_actions):
    root, commit = source_repo("princeton-nlp/intercode", {"r.json": INTERCODE_RESULTS})
    run = d.load_run(root, intercode_source(commit, "4"), text_actions=text_actions)

    assert run.facts == [Fact("answer", "picoCTF{5tr1ngs_w1n}", "intercode-4")]  # not the unrewarded guess
    assert run.messages[0] == {"role": "user", "content": "Find the flag in the file 'strings'."}
    if text_actions:
        assert [m["role"] for m in run.messages] == ["user"] + ["assistant", "user"] * 4
        assert run.messages[-2] == {"role": "assistant", "content": "submit picoCTF{5tr1ngs_w1n}"}
        assert run.messages[2] == {"role": "user", "content": "strings\n"}
    else:
        calls = [c for m in run.messages for c in m.get("tool_calls") or ()]
        assert [c["function"]["name"] for c in calls] == ["bash"] * 4
        assert json.loads(calls[-1]["function"]["arguments"]) == {"command": "submit picoCTF{5tr1ngs_w1n}"}
        results = [m for m in run.messages if m["role"] == "tool"]
        assert [m["tool_call_id"] for m in results] == [c["id"] for c in calls]
    validate_conversation(rs.concatenated_session([run]).messages, "openai")


def test_intercode_run_without_a_rewarded_submission_has_no_fact_and_an_unknown_task_is_a_clear_error(source_repo):
    root, commit = source_repo("princeton-nlp/intercode", {"r.json": INTERCODE_RESULTS})
    assert d.load_run(root, intercode_source(commit, "5")).facts == []
    with pytest.raises(rs.SourceMissing, match="no InterCode-CTF run '9'"):
        d.load_run(root, intercode_source(commit, "9"))


ACR_CONVERSATION = [
    {"role": "system", "content": "You are a software developer maintaining a large project."},
    {"role": "user", "content": "<issue>Uploaded files get mode 0o600.</issue>"},
    {"role": "user", "content": "you can use below search APIs: search_class(class_name: str) ..."},
    {"role": "assistant", "content": 'search_class("FileSystemStorage")'},
    {"role": "user", "content": 'Result of search_class("FileSystemStorage"):\n<file>pkg/storage.py</file>'},
    {"role": "user", "content": "Write a patch for the issue, based on the retrieved context."},
    {"role": "assistant", "content": "# modification 1\n```python\n<file>pkg/storage.py</file>\n"
                                     "<original>mode = None</original>\n<patched>mode = 0o644</patched>\n```"},
    {"role": "user", "content": "Extracted a patch."},
]
ACR_PREDICTIONS = [
    {"instance_id": "other__other-1", "model_patch": "diff --git a/x.py b/x.py\n"},
    {"instance_id": "pkg__pkg-7", "model_name_or_path": "gpt-4-0125-preview",
     "model_patch": "diff --git a/pkg/storage.py b/pkg/storage.py\n@@ -1 +1 @@\n-a\n+b\n"
                    "diff --git a/docs/settings.txt b/docs/settings.txt\n@@ -1 +1 @@\n-a\n+b\n"},
]


def test_autocoderover_run_is_its_chat_and_the_files_of_its_prediction(source_repo):
    path = "results/acr-run-1/applicable_patch/pkg__pkg-7_2024-04-06_13-19-51/debug_agent_write_patch_1.json"
    root, commit = source_repo("nus-apr/auto-code-rover", {path: ACR_CONVERSATION, d.ACR_PREDICTIONS: ACR_PREDICTIONS})
    source = d.acr("pkg__pkg-7_2024-04-06_13-19-51", 1)
    source = Source(source.name, source.repo, commit, source.path, source.kind)
    assert source.name == "acr-pkg__pkg-7" and source.path == path
    run = d.load_run(root, source)

    assert run.system == "You are a software developer maintaining a large project."
    assert [f.key for f in run.facts] == ["pkg/storage.py", "docs/settings.txt"]
    assert [m["role"] for m in run.messages] == ["user", "user", "assistant", "user", "user", "assistant", "user"]
    assert run.messages[5]["content"].startswith("# modification 1\n```python\n<file>pkg/storage.py</file>")
    assert d.load_run(root, source, text_actions=True).messages == run.messages  # text either way

    gone = Source("acr-pkg__pkg-8", source.repo, commit, path, source.kind)
    with pytest.raises(rs.SourceMissing, match="no prediction for pkg__pkg-8"):
        d.load_run(root, gone)


def response(rid: str, content: str, *calls: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    return {"id": rid, "choices": [{"message": {"role": "assistant", "content": content, "tool_calls": [
        {"index": i, "id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
        for i, (cid, name, args) in enumerate(calls)]}}]}


VIEW = ("toolu_01", "str_replace_editor", {"command": "view", "path": "/workspace/p/src/a.c"})
GREP = ("toolu_02", "execute_bash", {"command": "grep -n tuple /workspace/p/src/a.c"})
EDIT = ("toolu_03", "str_replace_editor", {"command": "str_replace", "path": "/workspace/p/src/a.c",
                                           "old_str": "x = 1;", "new_str": "x = 2;"})
FINISH = ("toolu_04", "finish", {"message": "Fixed the tuple match."})
R1 = response("r1", "Let me look at the parser.", VIEW, GREP)
R2 = response("r2", "", EDIT)
R3 = response("r3", "Done.", FINISH)


def meta(call: tuple[str, str, dict[str, Any]], resp: dict[str, Any]) -> dict[str, Any]:
    return {"function_name": call[1], "tool_call_id": call[0], "model_response": resp}


OPENHANDS_ROW = {
    "instance_id": "p__p-1",
    "instruction": "Fix the segfault.",
    "history": [
        {"id": 0, "source": "agent", "action": "system", "message": "You are OpenHands agent.",
         "args": {"content": "You are OpenHands agent.", "tools": []}},
        {"id": 1, "source": "user", "action": "message", "message": "Fix the segfault.", "args": {"content": "Fix the segfault."}},
        {"id": 2, "source": "user", "action": "recall", "message": "Retrieving content", "args": {"query": "Fix"}},
        {"id": 3, "source": "environment", "observation": "recall", "content": "Added workspace context", "cause": 2},
        {"id": 4, "source": "agent", "action": "read", "args": {"path": "/workspace/p/src/a.c"}, "tool_call_metadata": meta(VIEW, R1)},
        {"id": 5, "source": "agent", "action": "run", "args": {"command": GREP[2]["command"]}, "tool_call_metadata": meta(GREP, R1)},
        {"id": 6, "source": "agent", "observation": "read", "content": "1\tx = 1;", "cause": 4, "tool_call_metadata": meta(VIEW, R1)},
        {"id": 7, "source": "agent", "observation": "run", "content": "1:x = 1; // tuple", "cause": 5,
         "tool_call_metadata": meta(GREP, R1)},
        {"id": 8, "source": "agent", "action": "edit", "args": {"path": "/workspace/p/src/a.c"}, "tool_call_metadata": meta(EDIT, R2)},
        {"id": 9, "source": "agent", "observation": "edit", "content": "The file /workspace/p/src/a.c has been edited.",
         "cause": 8, "tool_call_metadata": meta(EDIT, R2)},
        {"id": 10, "source": "agent", "observation": "agent_state_changed", "content": "", "extras": {}},
        {"id": 11, "source": "agent", "observation": "error", "content": "Agent got stuck in a loop"},
        {"id": 12, "source": "agent", "action": "finish", "args": {"final_thought": "Fixed the tuple match."},
         "tool_call_metadata": meta(FINISH, R3)},
    ],
    "test_result": {"git_patch": "diff --git a/src/a.c b/src/a.c\n@@ -1 +1 @@\n-x = 1;\n+x = 2;\n"},
}


def openhands_repo(source_repo) -> tuple[str, Source]:
    other = {**OPENHANDS_ROW, "instance_id": "p__p-0", "test_result": {"git_patch": ""}}
    root, commit = source_repo("All-Hands-AI/OpenHands",
                               {d.OPENHANDS_MULTI_SWE: "\n".join(json.dumps(r) for r in (other, OPENHANDS_ROW)) + "\n"})
    return root, Source("openhands-p__p-1", "All-Hands-AI/OpenHands", commit, d.OPENHANDS_MULTI_SWE, "openhands-eval")


def test_openhands_eval_run_as_tool_calls_replays_the_model_responses(source_repo):
    root, source = openhands_repo(source_repo)
    run = d.load_run(root, source)

    assert run.system == "You are OpenHands agent."
    assert run.facts == [Fact("file", "src/a.c", "openhands-p__p-1")]
    assert [m["role"] for m in run.messages] == ["user", "assistant", "tool", "tool", "assistant", "tool", "user",
                                                 "assistant", "tool"]
    assert run.messages[0] == {"role": "user", "content": "Fix the segfault."}  # the recall bookkeeping is left out
    first = run.messages[1]
    assert first["content"] == "Let me look at the parser."
    assert [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in first["tool_calls"]] == [
        (VIEW[1], VIEW[2]), (GREP[1], GREP[2])]  # one message for the response's two calls
    assert [m["content"] for m in run.messages if m["role"] == "tool"][:3] == [
        "1\tx = 1;", "1:x = 1; // tuple", "The file /workspace/p/src/a.c has been edited."]
    assert run.messages[6] == {"role": "user", "content": "Agent got stuck in a loop"}
    assert json.loads(run.messages[7]["tool_calls"][0]["function"]["arguments"]) == FINISH[2]
    validate_conversation(rs.concatenated_session([run]).messages, "openai")


def test_openhands_eval_run_as_text_actions_is_what_openhands_sends_a_model_without_function_calling(source_repo):
    root, source = openhands_repo(source_repo)
    run = d.load_run(root, source, text_actions=True)

    assert not any(m.get("tool_calls") for m in run.messages)
    assert [m["role"] for m in run.messages] == ["user", "assistant", "user", "user", "assistant", "user", "user",
                                                 "assistant"]
    assert run.messages[1]["content"] == (
        "Let me look at the parser.\n\n<function=str_replace_editor>\n<parameter=command>view</parameter>\n"
        "<parameter=path>/workspace/p/src/a.c</parameter>\n</function>\n\n<function=execute_bash>\n"
        "<parameter=command>grep -n tuple /workspace/p/src/a.c</parameter>\n</function>")
    assert run.messages[2]["content"] == "EXECUTION RESULT of [str_replace_editor]:\n1\tx = 1;"
    assert run.messages[3]["content"] == "EXECUTION RESULT of [execute_bash]:\n1:x = 1; // tuple"
    assert "<parameter=old_str>x = 1;</parameter>" in run.messages[4]["content"]
    assert run.messages[-1]["content"].endswith("<parameter=message>Fixed the tuple match.</parameter>\n</function>")
    assert run.facts == [Fact("file", "src/a.c", "openhands-p__p-1")]
    validate_conversation(rs.concatenated_session([run]).messages, "openai")


def test_openhands_instance_not_in_the_output_is_a_clear_error(source_repo):
    root, source = openhands_repo(source_repo)
    with pytest.raises(rs.SourceMissing, match="no instance p__p-9"):
        d.load_run(root, Source("openhands-p__p-9", source.repo, source.commit, source.path, source.kind))


def test_hold_out_d_alternates_ctf_and_coding_runs_from_sources_no_earlier_session_uses():
    runs = unseen.UNSEEN_D
    assert len(runs) == 12 and len({s.name for s in runs}) == 12
    assert [s.kind for s in runs[::2]] == ["intercode-ctf"] * 6
    assert {s.kind for s in runs[1::2]} == {"autocoderover", "openhands-eval"}
    earlier = (*unseen.UNSEEN_A, *unseen.UNSEEN_B, *unseen.UNSEEN_C)
    assert not {(s.repo, s.path) for s in runs} & {(s.repo, s.path) for s in (*earlier, *rs.SOURCES)}
    instances = {s.name.split("-", 1)[1] for s in runs}
    assert not instances & {s.name.split("-", 1)[1] for s in earlier}
