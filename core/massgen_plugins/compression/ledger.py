"""What a stretch of an agent's work changed and submitted, read mechanically from its actions.

An offline extract keeps a task's most informative lines, but the two things a later question is
most likely to ask of finished work -- *which files did you change?* and *what did you submit?* --
are often nowhere in one short line: SWE-agent's ``edit 12:14`` names no file (it edits the one
opened last), a ``sed -i`` hides the path among its arguments, a patch names its files only in the
``diff --git`` headers of a long output. The **ledger** reads them off the actions themselves:

* **tool calls**: a write-named tool (``edit``, ``create``, ``write_file``, ``apply_patch`` ...)
  with its path arguments, else the file opened last; an editor tool's ``create``/
  ``str_replace``/``insert`` sub-command; a ``submit``-named tool, or any tool given a ``flag``,
  ``answer`` or ``solution`` argument (``check_flag(flag=...)``); a shell tool's ``command``,
  read as shell (below); any other write-named tool changes a record, named by its key arguments
  (``cancel_reservation(reservation_id=GV1N64)``);
* **commands in an agent's text**, as text-acting agents such as SWE-agent and mini-swe-agent
  write them -- fenced shell blocks, ``Command: ... <END>`` blocks, a reply that is the command
  itself, a ``submit ANSWER`` or ``Answer: ...`` line, aider-style ``<<<<<<< SEARCH`` blocks under
  a file name (whatever their fence), AutoCodeRover's ``<file>PATH</file> <original>`` patch
  blocks, tool calls written as markup (OpenHands' ``<function=...>``, Cline's ``<write_to_file>``;
  read as tool calls), diffs: ``submit``, ``create``/``edit``/``insert`` of the open file, and any shell
  line that writes a file (:mod:`.shellwrites`: ``sed -i``, ``>`` redirections, ``tee``, ``cp``,
  ``mv``, ``rm`` ...; heredoc and edit bodies skipped);
* **outputs**: ``diff --git a/PATH`` and ``+++ b/PATH`` headers, ``*** Update File: PATH`` patch
  headers, an editor's "the file PATH has been edited" / "File created successfully at: PATH",
  aider's "Applied edit to PATH", and ``[File: PATH (N lines total)]`` (which file is open).

A dedicated write or submit tool whose result reports an error in its first line (a refused edit,
``Wrong flag!``) is recorded as such: a refused edit changed nothing and is dropped; a rejected
submission is kept, marked ``(rejected)``, since the next question may be about it.

Linear in the text of the tool calls, of the first ``2 * SCAN_CHARS`` characters of each reply
and of the first :data:`SCAN_CHARS` characters of each output.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..types import Message
from .conversation import message_text
from .shellwrites import changes
from .toolcalls import (
    WRITE_VERBS,
    ToolAction,
    key_arguments,
    one_line,
    plugin_actions,
    refused,
    text_tool_calls,
    tool_verb,
)

SCAN_CHARS = 32_768  # of an output, for diff headers and editor confirmations
MAX_ANSWER_CHARS = 160
MAX_PATHS = 24  # per ledger line; more are counted, not listed
_SUBMIT_VERBS = frozenset({"submit", "answer", "final_answer", "submit_answer", "submit_flag"})
_EDITOR_WRITES = frozenset({"create", "str_replace", "insert", "undo_edit", "write", "append", "overwrite"})
_SHELL_TOOLS = frozenset({"bash", "shell", "sh", "run", "execute_bash", "execute_command", "run_command",
                          "terminal", "cmd", "exec", "run_shell_command", "container.exec", "local_shell"})
_OPEN_VERBS = frozenset({"open", "view", "open_file", "view_file", "read_file", "goto"})
_TEXT_EDIT_VERBS = frozenset({"edit", "insert", "append"})  # SWE-agent's: they act on the open file
_SHELL_LANGS = frozenset({"", "bash", "sh", "shell", "console", "zsh", "terminal"})
_FENCE = re.compile(r"```([\w.-]*)[^\n]*\n(.*?)```", re.S)
_DIFF = re.compile(r"^(?:diff --git a/(\S+) b/|\+\+\+ b/(\S+)|\*\*\* (?:Update|Add|Delete) File: (\S+))", re.M)
_OPEN_FILE = re.compile(r"^\[File: ([^\s\]]+) \(\d+ lines total\)\]", re.M)
_EDITED = re.compile(
    r"(?:\bfile (\S+) (?:has been|was) (?:edited|created|written|updated|modified|overwritten)"
    r"|\bFile (?:created|written|updated) successfully at:? (\S+)|^> ?Applied edit to (\S+))", re.I | re.M)
_HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)['\"]?")
_END_OF = re.compile(r"^\s*end_of_\w+\s*$")
_ANSWER_KEYS = frozenset({"flag", "answer", "final_answer", "solution"})
_FILE_EDIT_VERBS = frozenset({"edit", "insert", "append", "replace", "write", "overwrite", "patch"})
_BARE_COMMANDS = frozenset(
    "submit create edit insert append open str_replace_editor sed perl tee touch cp mv rm cat echo printf git "
    "python python3 bash sh cd ls find grep".split())
_BARE_SUBMIT = re.compile(r"^\s*submit\s+('[^'\n]+'|\"[^\"\n]+\"|\S+)\s*$", re.M)
_COMMAND = re.compile(r"^Command:\s*\n?(.*?)(?:<END>|\Z)", re.S | re.M)
_ANSWER = re.compile(r"^(?:Answer|Final Answer|Flag)\s*:\s*(\S[^\n]{0,300})$", re.M | re.I)
# a file name, its fence (```, ```python, <source>python ...: any short line) or none, then the block
_SEARCH_BLOCK = re.compile(r"^([\w./~+@-]+\.\w+)[ \t]*\n(?:[^\n]{0,40}\n)?<<<<<<< SEARCH", re.M)
# AutoCodeRover's patch: "# modification 1" then <file>PATH</file> <original>...</original> <patched>...
_MODIFICATION = re.compile(r"<file>([^<\n]+)</file>\s*<original>")
_PATH = re.compile(r"[\w.~/+@-]*[\w~]")
_PATH_KEYS = ("path", "file", "filename", "file_name", "file_path", "filepath", "target_file", "dest", "destination",
              "new_path", "target")


def looks_like_path(value: str) -> bool:
    """A file path as an agent writes it: one word, with a directory or an extension; not an
    option, a URL or a device."""
    if not value or len(value) > 300 or value.startswith("-") or "://" in value or value.startswith("/dev/"):
        return False
    if not _PATH.fullmatch(value):
        return False
    last = value.rstrip("/").rsplit("/", 1)[-1]
    return "/" in value or ("." in last.strip(".") and not last.replace(".", "").isdigit())


@dataclass
class Ledger:
    """Files changed (path -> how: ``created``, ``edited``, ``deleted`` ...), answers submitted
    (``(answer, rejected)``) and records changed through a tool (``name(key=value)``), in the
    order they happened."""

    changed: dict[str, str] = field(default_factory=dict)
    submitted: list[tuple[str, bool]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # records changed through a tool: name(key args)

    def __bool__(self) -> bool:
        return bool(self.changed or self.submitted or self.actions)

    def act(self, action: str) -> None:
        if action not in self.actions:
            self.actions.append(action)

    def change(self, path: str, how: str = "edited") -> None:
        path = path.strip("'\"`,;:()[]")
        if not looks_like_path(path):
            return
        for known in list(self.changed):  # one file written two ways (/testbed/src/a.py, src/a.py)
            if known == path or known.endswith("/" + path.lstrip("./")):
                path = known
                break
            if path.endswith("/" + known.lstrip("./")):
                self.changed[path] = self.changed.pop(known)
                break
        before = self.changed.get(path)
        if how == "deleted" and before == "created":
            how = "created, then deleted"
        elif before and how != "deleted":
            how = before if before != "deleted" else "edited"
        self.changed[path] = how

    def submit(self, answer: str, rejected: bool = False) -> None:
        answer = answer.strip().strip("'\"").strip()
        if not answer or answer.lower() in ("none", "null"):
            return
        if len(answer) > MAX_ANSWER_CHARS:
            answer = answer[: MAX_ANSWER_CHARS - 3] + "..."
        self.submitted = [s for s in self.submitted if s[0] != answer] + [(answer, rejected)]

    def items(self) -> list[str]:
        """Every entry as a string: the paths, the actions, the answers."""
        return [*self.changed, *self.actions, *(a for a, _ in self.submitted)]

    def merge(self, other: Ledger) -> Ledger:
        """A new ledger: this one's entries, then ``other``'s."""
        out = Ledger(dict(self.changed), list(self.submitted), list(self.actions))
        for action in other.actions:
            out.act(action)
        for path, how in other.changed.items():
            out.change(path, how)
        for answer, rejected in other.submitted:
            out.submit(answer, rejected)
        return out

    def line(self) -> str:
        """The ledger as one line, answers first (what a cut keeps longest):
        ``submitted: 'x' (rejected), 'y' · changed: a.py, b.py (deleted) · did: cancel(id=7)``."""
        parts = []
        if self.submitted:
            parts.append("submitted: " + ", ".join(f"'{a}'" + (" (rejected)" if bad else "")
                                                    for a, bad in self.submitted))
        if self.changed:
            shown = [p if how in ("edited", "created") else f"{p} ({how})"
                     for p, how in list(self.changed.items())[:MAX_PATHS]]
            more = len(self.changed) - MAX_PATHS
            parts.append("changed: " + ", ".join(shown) + (f" and {more} more" if more > 0 else ""))
        if self.actions:
            shown = self.actions[:MAX_PATHS]
            more = len(self.actions) - MAX_PATHS
            parts.append("did: " + ", ".join(shown) + (f" and {more} more" if more > 0 else ""))
        return " · ".join(parts)


@dataclass
class _Pending:
    """A write or submission waiting for its result."""

    ledger: Ledger
    edits: list[tuple[str, str]]  # (path, created | edited)
    answer: str | None
    action: str | None = None


class _Reader:
    """Reads one conversation's actions in order, keeping which file is open."""

    def __init__(self, declared: dict[str, ToolAction] | None = None) -> None:
        self.declared = declared or {}
        self.open_file: str | None = None
        self.pending: dict[str, _Pending] = {}  # by tool call id
        self.text_pending: _Pending | None = None  # a text action's, settled by the next user turn

    # -- shell -----------------------------------------------------------------------------------
    def shell(self, script: str, ledger: Ledger) -> tuple[list[tuple[str, str]], str | None]:
        """Record what a shell script changes; returns ``(edited via editor commands, submission)``
        -- the ones a refusal in the next output would undo."""
        edits: list[tuple[str, str]] = []
        answer: str | None = None
        lines = script.replace("\r", "").split("\n")
        skip_until: str | None = None
        for raw in lines:
            line = raw.strip()
            if skip_until is not None:
                if (skip_until == "end_of" and _END_OF.match(line)) or line == skip_until:
                    skip_until = None
                continue
            if not line or line.startswith("#"):
                continue
            here = _HEREDOC.search(line)
            verb, _, rest = line.partition(" ")
            if verb == "submit":
                answer = rest.strip() or None
                continue
            if verb in _TEXT_EDIT_VERBS and (not rest or re.match(r"\d", rest)):
                if self.open_file:
                    edits.append((self.open_file, "edited"))
                skip_until = "end_of"
                continue
            if verb == "create" and rest and " " not in rest.strip():
                self.open_file = rest.strip().strip("'\"")
                edits.append((self.open_file, "created"))
                continue
            if verb == "open" and rest:
                self.open_file = rest.split()[0].strip("'\"")
                continue
            if verb in ("str_replace_editor", "file_editor", "edit_tool"):
                words = rest.split()
                if len(words) >= 2:
                    if words[0] in _EDITOR_WRITES:
                        edits.append((words[1], "created" if words[0] == "create" else "edited"))
                    elif words[0] == "view":
                        self.open_file = words[1]
                if here:
                    skip_until = here.group(1)
                continue
            for path, how in changes(line):
                ledger.change(path, how)
            if here:
                skip_until = here.group(1)
        return edits, answer

    # -- messages --------------------------------------------------------------------------------
    def call(self, name: str, arguments: str | dict[str, Any], call_id: str | None, ledger: Ledger,
             *, defer: bool = False) -> _Pending:
        """Read one tool call; its writes and answer wait for its result (by ``call_id``), are
        returned to the caller (``defer``: a call written in text, answered by the next user
        turn) or are recorded at once."""
        try:
            args: Any = arguments if isinstance(arguments, dict) else json.loads(arguments) if arguments else {}
        except ValueError:
            args = {"command": arguments}
        if not isinstance(args, dict):
            args = {"input": args}
        base = name.rsplit(".", 1)[-1].lower()
        verb = tool_verb(name)
        paths = [str(v) for k, v in args.items()
                 if isinstance(v, str) and (k.lower() in _PATH_KEYS or k.lower().endswith(("_path", "_file")))
                 and looks_like_path(v)]
        edits: list[tuple[str, str]] = []
        answer: str | None = None
        action: str | None = None
        sub = str(args.get("command") or "")
        declared = self.declared.get(name.lower())
        if declared is not None:
            edits, answer, action = self._declared(declared, name, args, ledger)
        elif sub in _EDITOR_WRITES and paths:
            edits.extend((p, "created" if sub == "create" else "edited") for p in paths)
        elif sub == "view" and paths:
            self.open_file = paths[0]
        elif base in _SUBMIT_VERBS or verb == "submit":
            values = [str(v) for v in args.values() if isinstance(v, str | int | float) and str(v).strip()]
            answer = " ".join(values) or None
        elif any(k.lower() in _ANSWER_KEYS and one_line(v) for k, v in args.items()):  # check_flag(flag=...)
            answer = " ".join(str(v) for k, v in args.items() if k.lower() in _ANSWER_KEYS and one_line(v))
        elif base in _SHELL_TOOLS or (sub and " " in sub.strip()):
            shell_edits, answer = self.shell(sub or str(args.get("cmd") or ""), ledger)
            edits.extend(shell_edits)
        elif base in _OPEN_VERBS:
            if paths:
                self.open_file = paths[0]
        elif verb in WRITE_VERBS:
            if verb in ("create", "write") and paths:
                self.open_file = paths[0]
            if paths:
                edits.extend((p, "created" if verb == "create" else "edited") for p in paths)
            elif verb in _FILE_EDIT_VERBS or "file" in base:  # SWE-agent's edit: the open file
                edits.extend([(self.open_file, "edited")] if self.open_file else [])
            else:  # a record changed through an API: update_reservation(reservation_id=...)
                action = f"{name}({key_arguments(args)})"
        for value in args.values():  # a patch given as an argument names its files in its headers
            if isinstance(value, str) and ("diff --git" in value or "*** " in value or "+++ b/" in value):
                self.output(value, ledger)
        record = _Pending(ledger, edits, answer, action)
        if call_id:
            self.pending[call_id] = record
        elif not defer:
            self.settle(record, "")
        return record

    def _declared(self, decl: ToolAction, name: str, args: dict[str, Any],
                  ledger: Ledger) -> tuple[list[tuple[str, str]], str | None, str | None]:
        """``(edits, answer, record action)`` of a call to a tool a plugin declared."""
        path = args.get(decl.path) if decl.path else None
        path = str(path) if isinstance(path, str) and looks_like_path(path) else None
        if decl.kind == "open":
            self.open_file = path or self.open_file
        elif decl.kind in ("edit", "create", "delete"):
            how = {"edit": "edited", "create": "created", "delete": "deleted"}[decl.kind]
            target = path or (self.open_file if decl.kind == "edit" else None)
            if decl.kind == "create" and path:
                self.open_file = path
            return ([(target, how)] if target else []), None, None
        elif decl.kind == "submit":
            values = [args.get(decl.argument)] if decl.argument else list(args.values())
            answer = " ".join(str(v) for v in values if one_line(v))
            return [], answer or None, None
        elif decl.kind == "shell":
            found, said = self.shell(str(args.get(decl.argument or "command") or ""), ledger)
            return found, said, None
        elif decl.kind == "record":
            return [], None, f"{name}({key_arguments(args)})"
        return [], None, None

    def settle(self, record: _Pending, result: str) -> None:
        """Record a write or a submission once its result is known: a refused write changed
        nothing; a rejected submission is marked so."""
        rejected = refused(result)
        if not rejected:
            for path, how in record.edits:
                record.ledger.change(path, how)
            if record.action:
                record.ledger.act(record.action)
        if record.answer is not None:
            record.ledger.submit(record.answer, rejected=rejected)

    def output(self, text: str, ledger: Ledger) -> None:
        text = text[:SCAN_CHARS]
        for m in _DIFF.finditer(text):
            path = next(g for g in m.groups() if g)
            if path != "/dev/null":
                ledger.change(path, "edited")
        for m in _EDITED.finditer(text):
            ledger.change(next(g for g in m.groups() if g), "edited")
        opened = _OPEN_FILE.findall(text)
        if opened:
            self.open_file = opened[-1]

    def text_actions(self, text: str, ledger: Ledger) -> None:
        """Commands in an agent's reply: fenced shell blocks, ``Command: ... <END>`` blocks, a
        reply that is a bare command (it starts with one: ``submit 'flag{...}'``, ``edit 3:4``),
        a ``submit ANSWER`` line, an ``Answer:``/``Final answer:`` line (a submission), edit
        blocks under a file name (``path`` then ``<<<<<<< SEARCH``) and diffs."""
        answer: str | None = None
        edits: list[tuple[str, str]] = []
        text = text[:SCAN_CHARS * 2]  # a reply's actions are in its first pages; the patterns stay linear
        for lang, body in _FENCE.findall(text):
            if lang.lower() in _SHELL_LANGS or "bash" in lang.lower() or "command" in lang.lower():
                found, said = self.shell(body, ledger)
                edits.extend(found)
                answer = said or answer
        for body in _COMMAND.findall(text):
            found, said = self.shell(body, ledger)
            edits.extend(found)
            answer = said or answer
        if "```" not in text and "Command:" not in text:
            first = text.lstrip().split(None, 1)[0] if text.strip() else ""
            if first in _BARE_COMMANDS:  # the reply is the command itself (``submit 'flag{...}'``)
                found, said = self.shell(text, ledger)
                edits.extend(found)
                answer = said or answer
            else:
                bare = _BARE_SUBMIT.findall(text)  # a line of its own: submit 'flag{...}'
                answer = bare[-1] if bare else answer
        answers = _ANSWER.findall(text)
        if answers:
            answer = answers[-1]
        for path in _SEARCH_BLOCK.findall(text):
            edits.append((path, "edited"))
        for path in _MODIFICATION.findall(text):
            edits.append((path.strip(), "edited"))
        action: str | None = None
        for name, args in text_tool_calls(text):
            record = self.call(name, args, None, ledger, defer=True)
            edits.extend(record.edits)
            answer = record.answer or answer
            action = record.action or action
        if "diff --git" in text or "+++ b/" in text or "*** Update File:" in text:
            self.output(text, ledger)
        if edits or answer is not None or action:
            self.text_pending = _Pending(ledger, edits, answer, action)


def ledgers(messages: Sequence[Message], spans: Sequence[tuple[int, int]],
            actions: Iterable[ToolAction] | None = None) -> list[Ledger]:
    """One :class:`Ledger` per ``[start, end)`` span of ``messages`` (consecutive, in order),
    read in one pass: which file is open carries from one span to the next. ``actions``: the
    tools declared by plugins (default: :func:`plugin_actions`); the first declaration of a
    name wins."""
    declared: dict[str, ToolAction] = {}
    for act in plugin_actions() if actions is None else actions:
        declared.setdefault(act.tool.lower(), act)
    reader = _Reader(declared)
    out: list[Ledger] = []
    for start, end in spans:
        ledger = Ledger()
        for i in range(start, end):
            m = messages[i]
            text = message_text(m)
            if m.role == "assistant":
                if reader.text_pending is not None:
                    reader.settle(reader.text_pending, "")
                    reader.text_pending = None
                for call in m.tool_calls or ():
                    fn = call.function or {}
                    reader.call(str(fn.get("name", "")), str(fn.get("arguments", "")), call.id, ledger)
                if not m.tool_calls and text:
                    reader.text_actions(text, ledger)
            elif m.role == "tool":
                record = reader.pending.pop(m.tool_call_id or "", None)
                if record is not None:
                    reader.settle(record, text)
                reader.output(text, ledger)
            elif m.role == "user" and text:
                if reader.text_pending is not None:
                    reader.settle(reader.text_pending, text)
                    reader.text_pending = None
                reader.output(text, ledger)
        if reader.text_pending is not None and reader.text_pending.ledger is ledger:
            reader.settle(reader.text_pending, "")
            reader.text_pending = None
        for record in [r for r in reader.pending.values() if r.ledger is ledger]:  # calls never answered
            reader.settle(record, "")
        reader.pending = {k: r for k, r in reader.pending.items() if r.ledger is not ledger}
        out.append(ledger)
    return out


def fit_line(line: str, tokens: int, count: Callable[[str], int]) -> str:
    """A ledger ``line`` cut at its end to about ``tokens`` (``count``: tokens of a text); the
    answers come first in it, so they are cut last."""
    size = count(line)
    if size <= tokens:
        return line
    return line[: max(0, int(len(line) * tokens / size) - 4)] + " ..."


def ledger_of(messages: Sequence[Message]) -> Ledger:
    """The ledger of a whole conversation."""
    return ledgers(messages, [(0, len(messages))])[0]
