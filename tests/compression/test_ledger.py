"""The ledger: which files a stretch of agent work changed, which records it changed and what it
submitted, read off the actions in every shape agents write them -- and carried by the extract,
the truncate note and the summarizer when the lines that said so are gone."""

from __future__ import annotations

import json

import pytest
from massgen_plugins.compression import compress_conversation_sync
from massgen_plugins.compression.conversation import as_messages
from massgen_plugins.compression.ledger import Ledger, ledger_of, ledgers, looks_like_path
from massgen_plugins.compression.summarize import OUTCOME_HEADER, add_outcome
from massgen_plugins.compression.toolcalls import ToolAction, key_arguments
from massgen_plugins.testing.hooks import register_functions
from massgen_plugins.tokens import counter_for


def _call(cid: str, name: str, **args) -> dict:
    return {"role": "assistant", "content": None, "tool_calls": [
        {"id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}]}


def _result(cid: str, text: str) -> dict:
    return {"role": "tool", "tool_call_id": cid, "content": text}


def _book(raw: list[dict]) -> Ledger:
    return ledger_of(as_messages(raw))


# -- text actions (SWE-agent, mini-swe-agent) ---------------------------------------------------

SWE_TEXT = [
    {"role": "user", "content": "Fix the TimeDelta rounding bug."},
    {"role": "assistant", "content": "Let's open the file.\n```\nopen src/marshmallow/fields.py 1474\n```"},
    {"role": "user", "content": "[File: /testbed/src/marshmallow/fields.py (1997 lines total)]\n1474: return int(x)"},
    {"role": "assistant", "content": "Fix the line.\n```\nedit 1475:1475\n        return int(round(x))\nend_of_edit\n```"},
    {"role": "user", "content": "Your proposed edit has introduced new syntax error(s). Please retry."},
    {"role": "assistant", "content": "Indent properly.\n```\nedit 1475:1475\n    return int(round(x))\nend_of_edit\n```"},
    {"role": "user", "content": "[File: /testbed/src/marshmallow/fields.py (1997 lines total)]\n1475: ok"},
    {"role": "assistant", "content": "Now a scratch file.\n```\ncreate reproduce.py\n```"},
    {"role": "user", "content": "[File: reproduce.py (1 lines total)]"},
    {"role": "assistant", "content": "Clean up.\n```\nrm reproduce.py\n```"},
    {"role": "user", "content": "Your command ran successfully and did not produce any output."},
]


def test_text_actions_edit_of_the_open_file_create_and_rm():
    book = _book(SWE_TEXT)
    assert book.changed == {"/testbed/src/marshmallow/fields.py": "edited", "reproduce.py": "created, then deleted"}
    assert "src/marshmallow/fields.py" in book.line() and "reproduce.py (created, then deleted)" in book.line()


def test_a_refused_edit_of_a_file_never_opened_changes_nothing():
    raw = [{"role": "user", "content": "go"},
           {"role": "assistant", "content": "```\nopen a/b.py\n```"},
           {"role": "user", "content": "[File: /w/a/b.py (3 lines total)]"},
           {"role": "assistant", "content": "```\nedit 1:1\nx\nend_of_edit\n```"},
           {"role": "user", "content": "Your proposed edit has introduced new syntax error(s)."}]
    assert not _book(raw)


def test_submissions_in_text_with_a_rejected_one_marked():
    raw = [{"role": "user", "content": "Capture the flag."},
           {"role": "assistant", "content": "Submit it.\n```\nsubmit 'flag{d|o9yx?_brnfj{}'\n```"},
           {"role": "user", "content": "Wrong flag!\n(Open file: n/a)"},
           {"role": "assistant", "content": "Try the hash.\n```\nsubmit '125379498'\n```"}]
    book = _book(raw)
    assert book.submitted == [("flag{d|o9yx?_brnfj{}", True), ("125379498", False)]
    # the answer is shown as written (no escaping), so it can be found and reused as is
    assert "'flag{d|o9yx?_brnfj{}' (rejected), '125379498'" in book.line()


def test_a_backslash_in_an_answer_is_not_doubled():
    raw = [{"role": "assistant", "content": "```\nsubmit 'flag{a\\tb}'\n```"}]
    assert "flag{a\\tb}" in _book(raw).line() and "\\\\" not in _book(raw).line()


def test_mini_swe_agent_sed_heredoc_and_final_diff():
    raw = [{"role": "user", "content": "Please solve this issue"},
           {"role": "assistant", "content": "```mswea_bash_command\nsed -i 's/a -> float/a -> float:/' tests/x.py\n```"},
           {"role": "user", "content": "<returncode>0</returncode>"},
           {"role": "assistant", "content": "```mswea_bash_command\ncat > docs/y.md << 'EOF'\n> not a file\nEOF\n```"},
           {"role": "user", "content": "<returncode>0</returncode>"},
           {"role": "assistant", "content": "```bash\necho DONE && git add -A && git diff --cached\n```"},
           {"role": "user", "content": "diff --git a/lib/z.py b/lib/z.py\n--- a/lib/z.py\n+++ b/lib/z.py\n@@ -1 +1 @@"}]
    assert list(_book(raw).changed) == ["tests/x.py", "docs/y.md", "lib/z.py"]


def test_command_blocks_answer_lines_search_blocks_and_diffs_in_text():
    raw = [{"role": "assistant", "content": "Reflection: ok\nCommand:\ncat << EOF > solve.py\nprint(1)\nEOF\n<END>"},
           {"role": "user", "content": "Observation: done"},
           {"role": "assistant", "content": "app/views.py\n```python\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n```"},
           {"role": "user", "content": "Applied edit to app/views.py"},
           {"role": "assistant", "content": "```diff\n--- a/lib/u.c\n+++ b/lib/u.c\n@@ -1 +1 @@\n```"},
           {"role": "assistant", "content": "I found it.\nAnswer: HTB{s0lv3d_1t}"}]
    book = _book(raw)
    assert list(book.changed) == ["solve.py", "app/views.py", "lib/u.c"]
    assert book.submitted == [("HTB{s0lv3d_1t}", False)]


def test_search_blocks_under_any_fence_and_applied_edit_notices():
    text = ("Here are the changes.\n\ndocs/post.md\n<source>\n<<<<<<< SEARCH\n```py\n=======\n```python\n"
            ">>>>>>> REPLACE\n</source>\n\nlib/plain.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n")
    raw = [{"role": "user", "content": "Fix the docs."}, {"role": "assistant", "content": text},
           {"role": "user", "content": "> Applied edit to docs/post.md\n> Applied edit to extra/other.py"}]
    assert list(_book(raw).changed) == ["docs/post.md", "lib/plain.py", "extra/other.py"]


def test_autocoderover_modification_blocks():
    reply = ("# modification 1\n```\n<file>astropy/modeling/separable.py</file>\n<original>    a = 1\n</original>\n"
             "<patched>    a = 2\n</patched>\n```\n# modification 2\n<file>astropy/io/x.py</file>\n<original>b</original>")
    assert list(_book([{"role": "assistant", "content": reply}]).changed) == [
        "astropy/modeling/separable.py", "astropy/io/x.py"]


def test_tool_calls_written_as_markup():
    openhands = ("Let me fix it.\n<function=str_replace_editor>\n<parameter=command>str_replace</parameter>\n"
                 "<parameter=path>/workspace/ponyc/src/libponyc/expr/match.c</parameter>\n"
                 "<parameter=old_str>a</parameter>\n<parameter=new_str>b</parameter>\n</function>")
    shell = "Clean up.\n<function=execute_bash>\n<parameter=command>rm -rf build/tmp.o</parameter>\n</function>"
    cline = ("<write_to_file>\n<path>src/app.ts</path>\n<content>\nexport {}\n</content>\n</write_to_file>\n"
             "<execute_command>\n<command>sed -i 's/a/b/' src/main.ts</command>\n</execute_command>")
    raw = [{"role": "user", "content": "Fix the match bug."},
           {"role": "assistant", "content": openhands},
           {"role": "user", "content": "EXECUTION RESULT of [str_replace_editor]:\nThe file "
                                       "/workspace/ponyc/src/libponyc/expr/match.c has been edited."},
           {"role": "assistant", "content": shell}, {"role": "user", "content": "EXECUTION RESULT of [execute_bash]:"},
           {"role": "assistant", "content": cline}, {"role": "user", "content": "[write_to_file] Result: ok"},
           {"role": "assistant", "content": "<function=str_replace_editor>\n<parameter=command>create</parameter>\n"
                                            "<parameter=path>/workspace/bad.c</parameter>\n</function>"},
           {"role": "user", "content": "ERROR: File already exists at: /workspace/bad.c"}]
    assert _book(raw).changed == {"/workspace/ponyc/src/libponyc/expr/match.c": "edited",
                                  "build/tmp.o": "deleted", "src/main.ts": "edited", "src/app.ts": "edited"}


def test_a_reply_that_is_the_command_itself():
    raw = [{"role": "user", "content": "We're currently solving the following CTF challenge."},
           {"role": "assistant", "content": "create solve.py"},
           {"role": "user", "content": "[File: /ctf/solve.py (1 lines total)]"},
           {"role": "assistant", "content": "edit 1:1\nprint('x')\nend_of_edit"},
           {"role": "user", "content": "[File: /ctf/solve.py (1 lines total)]\n1:print('x')"},
           {"role": "assistant", "content": "The flag is printed. Let's submit it:\nsubmit flag{b4r3_l1n3}"},
           {"role": "user", "content": "Submission successful"},
           {"role": "assistant", "content": "I will submit the form later when it works"}]
    book = _book(raw)
    assert book.changed == {"solve.py": "created"} or book.changed == {"/ctf/solve.py": "created"}
    assert book.submitted == [("flag{b4r3_l1n3}", False)]


def test_python_blocks_and_prose_are_not_read_as_commands():
    raw = [{"role": "assistant", "content": "I would run rm -rf build > out.txt maybe.\n```python\nx = 1 > 0\n```"}]
    assert not _book(raw)


# -- tool calls ---------------------------------------------------------------------------------

def test_tool_calls_open_file_edit_editor_subcommands_and_shell():
    raw = [{"role": "user", "content": "go"},
           _call("c1", "open", path="src/pkg/mod.py"), _result("c1", "[File: src/pkg/mod.py (10 lines total)]"),
           _call("c2", "edit", search="a", replace="b"), _result("c2", "Text replaced."),
           _call("c3", "str_replace_editor", command="create", path="/repo/new.py", file_text="x"),
           _result("c3", "File created successfully at: /repo/new.py"),
           _call("c4", "str_replace_editor", command="view", path="/repo/other.py"), _result("c4", "..."),
           _call("c5", "bash", command="mv old.cfg new.cfg && echo ok > /dev/null 2>&1"), _result("c5", "ok"),
           _call("c6", "execute_bash", command="python -c 'print(1 > 0)'"), _result("c6", "True")]
    book = _book(raw)
    assert book.changed == {"src/pkg/mod.py": "edited", "/repo/new.py": "created", "old.cfg": "deleted",
                            "new.cfg": "created"}


def test_claude_code_style_tools():
    raw = [{"role": "user", "content": "Rename the helper."},
           _call("t1", "Edit", file_path="/repo/src/util.py", old_string="a", new_string="b"),
           _result("t1", "The file /repo/src/util.py has been updated."),
           _call("t2", "MultiEdit", file_path="/repo/src/api.py", edits=[{"old_string": "a", "new_string": "b"}]),
           _result("t2", "Applied 1 edit to /repo/src/api.py"),
           _call("t3", "Write", file_path="/repo/NOTES.md", content="x"), _result("t3", "File created successfully"),
           _call("t4", "Read", file_path="/repo/README.md"), _result("t4", "..."),
           _call("t5", "Bash", command="git mv src/old.py src/new.py"), _result("t5", "")]
    assert _book(raw).changed == {"/repo/src/util.py": "edited", "/repo/src/api.py": "edited",
                                  "/repo/NOTES.md": "edited", "src/old.py": "deleted", "src/new.py": "created"}


def test_a_write_tool_whose_result_is_an_error_changed_nothing():
    raw = [_call("c1", "write_file", path="a/b.txt", content="x"), _result("c1", "Error: permission denied"),
           _call("c2", "update_reservation", reservation_id="ABC123", cabin="business"),
           _result("c2", "Error: not enough seats"),
           _call("c3", "update_reservation", reservation_id="ABC123", cabin="economy"), _result("c3", "{\"ok\": 1}")]
    book = _book(raw)
    assert book.changed == {} and book.actions == ["update_reservation(reservation_id=ABC123)"]


def test_records_changed_through_an_api_name_the_record():
    assert key_arguments({"reservation_id": "YAX4DR", "flights": [{"n": 1}] * 9, "payment_id": "credit_1"}) == \
        "reservation_id=YAX4DR, payment_id=credit_1"
    assert key_arguments({"text": "hello there", "priority": 3}) == "text=hello there"
    raw = [_call("c1", "cancel_reservation", reservation_id="GV1N64"), _result("c1", "cancelled"),
           _call("c2", "get_reservation_details", reservation_id="ZZ9"), _result("c2", "{}")]
    assert _book(raw).line() == "did: cancel_reservation(reservation_id=GV1N64)"


def test_submit_tools_and_patches_given_as_arguments():
    patch = "*** Begin Patch\n*** Update File: app/main.go\n@@\n-a\n+b\n*** Add File: app/new.go\n*** End Patch"
    raw = [_call("c1", "apply_patch", input=patch), _result("c1", "Done!"),
           _call("c2", "submit", answer="42"), _result("c2", "Correct")]
    book = _book(raw)
    assert list(book.changed) == ["app/main.go", "app/new.go"] and book.submitted == [("42", False)]


def test_a_tool_given_a_flag_or_an_answer_submits_it():
    raw = [_call("c1", "check_flag", flag="csawctf{n0p3}"), _result("c1", '{"correct": false}'),
           _call("c2", "check_flag", flag="csawctf{y3s}"), _result("c2", '{"correct": true}'),
           _call("c3", "grade", answer=42), _result("c3", "ok"),
           _call("c4", "check_flag", flag="flag{" + "0123456789abcdef" * 4 + "}"), _result("c4", "yes")]
    assert _book(raw).submitted == [("csawctf{n0p3}", True), ("csawctf{y3s}", False), ("42", False),
                                    ("flag{" + "0123456789abcdef" * 4 + "}", False)]


def test_one_file_written_two_ways_is_listed_once():
    book = Ledger()
    book.change("src/a.py")
    book.change("/testbed/src/a.py")
    book.change("./src/a.py")
    assert list(book.changed) == ["/testbed/src/a.py"]


def test_paths_and_not_paths():
    assert all(looks_like_path(p) for p in ("a.py", "src/x", "/workspace/todo-app/app.js", "~/.bashrc"))
    assert not any(looks_like_path(p) for p in ("-i", "1.5", "EOF", "https://x.io/a.py", "/dev/null", "a b.py"))


def test_ledgers_per_span_carry_the_open_file_across_spans():
    msgs = as_messages([{"role": "user", "content": "t1"},
                        _call("c1", "open", path="lib/q.py"), _result("c1", "ok"),
                        {"role": "user", "content": "t2"},
                        _call("c2", "edit", search="a", replace="b"), _result("c2", "Text replaced.")])
    first, second = ledgers(msgs, [(0, 3), (3, 6)])
    assert not first and second.changed == {"lib/q.py": "edited"}


# -- carried through compression ----------------------------------------------------------------

def _long_session(runs: int = 10) -> list[dict]:
    """Runs of a text-acting agent whose only mention of the changed file is SWE-agent's
    ``[File: ...]`` banner before an ``edit``, buried in long outputs."""
    out: list[dict] = [{"role": "system", "content": "You are a coding agent."}]
    filler = "\n".join(f"{n}: value = compute(value, {n * 7}) # unrelated line" for n in range(120))
    for k in range(runs):
        out += [
            {"role": "user", "content": f"Task {k}: fix issue #{1000 + k} in the parser."},
            {"role": "assistant", "content": f"Open it.\n```\nopen pkg{k}/parse_{k}.py\n```"},
            {"role": "user", "content": f"[File: /repo/pkg{k}/parse_{k}.py (400 lines total)]\n{filler}"},
            {"role": "assistant", "content": "Fix.\n```\nedit 10:10\n    return value\nend_of_edit\n```"},
            {"role": "user", "content": f"[File: /repo/pkg{k}/parse_{k}.py (400 lines total)]\n{filler}"},
            {"role": "assistant", "content": "Run the tests.\n```\npytest -q\n```"},
            {"role": "user", "content": f"{filler}\n3 passed"},
        ]
    out.append({"role": "user", "content": "Which files did you change?"})
    return out


def test_the_extract_keeps_each_tasks_outcome_at_8x():
    messages = _long_session()
    total = counter_for("openai/gpt-4o").count(messages)
    report = compress_conversation_sync(messages, model="openai/gpt-4o", budget=total // 8,
                                        options={"stages": ["extract", "truncate"]})
    text = "\n".join(str(m.content) for m in report.messages)
    assert report.tokens_after <= total // 8
    assert "outcome: changed:" in text
    kept = [k for k in range(10) if f"pkg{k}/parse_{k}.py" in text]
    assert len(kept) == 10, kept


def test_the_truncate_note_says_what_the_dropped_turns_changed():
    messages = _long_session(4)
    total = counter_for("openai/gpt-4o").count(messages)
    report = compress_conversation_sync(messages, model="openai/gpt-4o", budget=total // 30,
                                        options={"stages": ["truncate"]})  # small: whole turns go
    note = next(str(m.content) for m in report.messages if "were removed to fit" in str(m.content))
    assert "; outcome: changed: /repo/pkg0/parse_0.py" in note


def test_a_summary_that_lost_the_file_gets_the_outcome_appended():
    msgs = as_messages(SWE_TEXT)
    count = counter_for("openai/gpt-4o").text
    out = add_outcome("## Task\nFixed the rounding bug.", msgs, 200, count)
    assert OUTCOME_HEADER in out and "/testbed/src/marshmallow/fields.py" in out
    named = "Edited /testbed/src/marshmallow/fields.py; reproduce.py was created, then deleted."
    assert add_outcome(named, msgs, 200, count) == named      # everything named already: unchanged
    assert add_outcome("x", msgs, 10, count) == "x"            # no room: unchanged


def test_a_long_ledger_line_is_cut_at_its_end_so_the_answers_stay():
    from massgen_plugins.compression.ledger import fit_line

    book = Ledger()
    book.submit("flag{k33p_m3}")
    for n in range(40):
        book.change(f"src/module_{n}/file_{n}.py")
    count = counter_for("openai/gpt-4o").text
    cut = fit_line(book.line(), 30, count)
    assert cut.startswith("submitted: 'flag{k33p_m3}' · changed: src/module_0/") and cut.endswith(" ...")
    assert count(cut) <= 32 and "and 16 more" in book.line()
    assert fit_line("short", 30, count) == "short"


# -- tools declared by plugins (the tool_actions hook) ---------------------------------------------

def test_hook_tool_actions():
    from massgen_plugins.manager import Hooks, create_manager

    hooks = Hooks(create_manager())
    mine = ToolAction(tool="scribble", kind="edit", path="target")
    register_functions(hooks, "acme", tool_actions=lambda: [mine])
    register_functions(hooks, "nothing", tool_actions=lambda: None)
    register_functions(hooks, "wrong-type", tool_actions=lambda: [{"tool": "x"}])
    register_functions(hooks, "bad", tool_actions=lambda: 1 / 0)
    assert hooks.tool_actions() == (mine,)  # the broken and wrong ones are isolated


def test_declared_tools_steer_the_ledger():
    declared = [ToolAction(tool="Scribble", kind="edit", path="target"),
                ToolAction(tool="claim_prize", kind="submit", argument="token"),
                ToolAction(tool="update_view", kind="read"),
                ToolAction(tool="launch", kind="shell", argument="script"),
                ToolAction(tool="scribble", kind="read")]            # a later declaration of a name loses
    msgs = as_messages([{"role": "user", "content": "go"},
                        _call("c1", "scribble", target="notes/plan.md", text="x"), _result("c1", "ok"),
                        _call("c2", "claim_prize", token="PRIZE-42", note="thanks"), _result("c2", "ok"),
                        _call("c3", "update_view", view_id="v1"), _result("c3", "ok"),
                        _call("c4", "launch", script="rm -f old.log"), _result("c4", "ok")])
    book = ledgers(msgs, [(0, len(msgs))], declared)[0]
    assert book.changed == {"notes/plan.md": "edited", "old.log": "deleted"}
    assert book.submitted == [("PRIZE-42", False)] and book.actions == []
    undeclared = ledgers(msgs, [(0, len(msgs))], [])[0]     # without them: update_view looks like a write
    assert undeclared.actions == ["update_view(view_id=v1)"] and "notes/plan.md" not in undeclared.changed
    with pytest.raises(ValueError, match="kind must be one of"):
        ToolAction(tool="x", kind="writes")  # type: ignore[arg-type]


def test_a_plugin_on_the_live_host_reaches_the_extract():
    from massgen_plugins.manager import get_hooks, reset_host

    reset_host()
    try:
        hooks = get_hooks()
        register_functions(hooks, "acme-live", tool_actions=lambda: [ToolAction(tool="scribble", kind="edit", path="target")])
        hooks._tool_actions = None  # registered after the first collection
        book = ledger_of(as_messages([_call("c1", "scribble", target="docs/live.md"), _result("c1", "ok")]))
        assert book.changed == {"docs/live.md": "edited"}
    finally:
        reset_host()
