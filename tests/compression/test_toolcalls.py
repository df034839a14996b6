"""What a tool call is for, read from its name and arguments, and tool calls written as markup."""

from __future__ import annotations

import re

from massgen_plugins.compression.toolcalls import elements, is_write, text_tool_calls, tool_verb


def test_tool_names_in_any_case_style():
    assert [tool_verb(n) for n in ("updateReservation", "createfile", "tools.write-file", "editor", "settings",
                                   "MultiEdit", "file_write", "NotebookEdit", "file_search")] == \
        ["update", "create", "write", "editor", "settings", "edit", "write", "edit", "file"]
    assert is_write("submitFlag") and not is_write("get_user") and not is_write("setup")


def test_markup_elements_left_open():
    # an OpenHands call whose </function> the stop sequence ate runs to the end; a Cline tag never
    # closed is not a call; a closing tag is looked for only up to the next opening one
    reply = ("<write_to_file>\n<path>lost.py</path>\n<execute_command>\n<command>rm -f a.txt</command>\n"
             "</execute_command>\n<function=str_replace_editor>\n<parameter=command>create</parameter>\n"
             "<parameter=path>/w/new.py</parameter>\n")
    assert text_tool_calls(reply) == [
        ("str_replace_editor", {"command": "create", "path": "/w/new.py"}),
        ("execute_command", {"command": "rm -f a.txt"})]
    assert elements("<a>1<a>2</a>", re.compile(r"<(a)>"), lambda t: f"</{t}>") == [("a", "2")]
