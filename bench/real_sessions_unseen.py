"""Unseen real sessions: hold-outs built like :mod:`real_sessions` from sources it was not tuned on.

The chain's offline extraction was tuned on :mod:`real_sessions` (SWE-agent's own demonstrations,
OpenHands' test trajectories, mini-swe-agent's test run) and on tau-bench. This module builds two
further sessions, **unseen A** and **unseen B**, from other public repositories, to measure how
the chain generalises. Both were measured before anything was tuned on them; A's misses were
then read (and the formats behind them handled), B only ever by its totals -- the closest to an
untouched check.
A third, **unseen C**, comes from other agent formats again (below).

Sources (each pinned by repository, commit and path; nothing fetched is committed):

* **NYU CTF leaderboard** (``NYU-LLM-CTF/leaderboard_submissions``): the transcripts behind the
  NYU CTF Bench leaderboard --

  * **EnIGMA** (``transcripts/enigma_*/<category>_<name>.traj``): SWE-agent-format trajectories
    of the EnIGMA agent (GPT-4o and Claude 3.5 Sonnet) on CSAW challenges; each ends with
    ``submit '<flag>'``. Runs are taken when the submission's ``summary.json`` marks the challenge
    solved, so the fact is a flag the agent really captured;
  * **NYU baseline agent** (``transcripts/baseline_gpt4/.../conversation.*.json``): GPT-4's
    function-calling runs (``run_command``, ``createfile``, ``decompile_function``,
    ``check_flag`` ...); the fact is the flag of the ``check_flag`` call answered
    ``{"correct": true}``.

* **Moatless Tools** (``aorwall/moatless-tools``, ``evaluations/<run>/trajs/<instance>.json``):
  its SWE-bench Lite runs (GPT-4o, Claude 3.5 Sonnet): ``search``, ``identify``,
  ``request_for_change``, ``search_replace``, ``finish``; the facts are the files of the run's
  final diff (``info.submission``).

**Task facts are taken mechanically** from each run's own outcome, as in :mod:`real_sessions`:
the flag submitted (EnIGMA ``info.submission``), the flag ``check_flag`` accepted (NYU baseline),
the files of the final diff (Moatless). Every message is converted; nothing is chosen by hand.

**Which runs** (pinned in :data:`UNSEEN_A` and :data:`UNSEEN_B`) was decided by a rule fixed
before anything was compressed: runs with an outcome (a solved flag, a non-empty diff) of
3,000-12,000 tokens each (a real multi-step run, never most of a session), in alphabetical order
within each source, CTF and coding runs alternating. A: EnIGMA GPT-4o runs 1, 3, 5, 7, 9, the
first NYU-baseline challenge (its first solved attempt) not already in A, Moatless GPT-4o runs
1, 5, 9, 13, 17, 21. B, among the challenges and instances not in A: EnIGMA Claude 3.5 Sonnet runs
1, 3, 5, 7, 9, the next NYU-baseline challenge, Moatless Claude 3.5 Sonnet runs 1, 37, 73, 109,
145, 181. A and B share no run, challenge or SWE-bench instance.

Both sessions come in tool-call form and in text-action form: EnIGMA's runs can be given as its
model saw them (the command in the assistant's text, the output as the next user turn); the NYU
baseline and Moatless runs are function-calling agents, so they stay tool calls in both forms
(as OpenHands' runs do in :mod:`real_sessions`).

**Unseen C** was added after A and B had been looked at, from three further agent formats, and
measured on the code of the day without changing anything:

* **Gemini CLI CTF chats** (``wechicken456/CTF-agent``, ``testing/<category>/<challenge>/*.json``):
  a Gemini model (the log does not name it) driving MCP tools (``run_shell_command``,
  ``read_file``, ``write_file``, ``checksec``, ``run_python_script`` ...) on CSAW challenges,
  logged as the Gemini API's ``contents``; the fact is the flag its closing text reports
  (:func:`_gemini_cli`);
* **SWE-agent 1.x** (``christsakm/Trajectories``, ``TODO/<instance>/<trace>/<instance>.traj``):
  SWE-bench runs of GPT-5, Kimi K2, Qwen3-Coder and Claude Sonnet 4 with the
  ``str_replace_editor`` / ``bash`` / ``submit`` tools; the facts are the files of
  ``info.submission`` (:func:`_swe_agent_1x`);
* **aider** (``Aider-AI/aider``, ``tests/fixtures/chat-history.md``: its author's own
  ``.aider.chat.history.md``, 1,133 sessions, mostly Claude 3.5 Sonnet, also GPT-4o(-mini),
  DeepSeek Coder and others): the reply edits files with ``<<<<<<< SEARCH`` / ``>>>>>>> REPLACE``
  blocks; the facts are the files of the session's ``> Applied edit to`` notices (:func:`_aider`).

Its rule, fixed before anything was compressed: Gemini and SWE-agent runs with an outcome of
2,000-16,000 tokens (tool-call form), one per challenge or SWE-bench instance (the first by path),
no challenge or instance of A or B, alphabetical within each source; that leaves three CTF chats
(gotta-crack-them-all, too-much-in-common, puffin; ``target_practice`` is in A) and three
SWE-agent runs (all Kimi K2's: every other run of those instances is longer). These agents' runs
are two to three times as long as A's and B's, so six short aider sessions complete the dozen:
among the 42 sessions with an applied edit and 2,000-4,000 tokens, six spread evenly in file
order (number ``1 + round(i * 41 / 5)`` for i = 0..5: the 1st, 9th, 17th, 26th, 34th and 42nd).
Each CTF chat is followed by a SWE-agent run and two aider sessions.
The fetch snapshot of ``christsakm/Trajectories`` lacks its largest files (the runs longer than
every one it holds, 0.5-3.9 MB); the rule was applied to the files it holds. The SWE-agent runs
come in text-action form too (the reply, then its ``action`` line); the Gemini chats are function
calling and the aider sessions text in both forms.

**Unseen D** (InterCode-CTF GPT-4 runs, AutoCodeRover's GPT-4 SWE-bench Lite run, OpenHands
CodeAct's Multi-SWE-bench evaluation output) is described, converted and chosen in
:mod:`real_sessions_unseen_d`; :data:`UNSEEN_D` pins its runs.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import real_sessions as rs
import real_sessions_unseen_d as unseen_d
from real_sessions import Fact, Run, Source, _Builder, _diff_files, _slug

NYU_CTF = ("NYU-LLM-CTF/leaderboard_submissions", "dd5234783390c75b9f291efabf24612c05db69e5")
MOATLESS = ("aorwall/moatless-tools", "d70085d56745575c78f97ce55fbaaccdebe03c93")
SWE_AGENT_1X = ("christsakm/Trajectories", "b4703a740b521546d50ce07c6679197889b51f9a")
GEMINI_CTF = ("wechicken456/CTF-agent", "754f2ea1833970ffe4641af1af68775290599b34")
AIDER = ("Aider-AI/aider", "5dc9490bb35f9729ef2c95d00a19ccd30c26339c")

_ENIGMA_GPT4O = "transcripts/enigma_gpt4o/"
_ENIGMA_CLAUDE = "transcripts/enigma_claude3.5_sonnet/"
_BASELINE = "transcripts/baseline_gpt4/"
_MOATLESS_GPT4O = "evaluations/20240609_moatless_gpt4o/trajs/"
_MOATLESS_CLAUDE = "evaluations/20240623_moatless_claude-3.5-sonnet/trajs/"


def _enigma(name: str, where: str) -> Source:
    return Source(f"enigma-{name}", *NYU_CTF, where + name + ".traj", "swe-agent")


def _baseline(name: str, path: str) -> Source:
    return Source(f"nyu-{name}", *NYU_CTF, _BASELINE + path, "nyu-ctf")


def _moatless(instance: str, where: str) -> Source:
    return Source(f"moatless-{instance}", *MOATLESS, where + instance + ".json", "moatless")


_CHECKER = "2021/CSAW-Quals/rev/checker/conversation.gpt-4-0125-preview.1.json"
_1BLACK0WHITE = "2023/CSAW-Quals/forensics/1black0white/conversation.gpt-4-0125-preview.1.json"

# A: CTF and coding runs alternating; EnIGMA GPT-4o, the NYU baseline, Moatless GPT-4o
UNSEEN_A: tuple[Source, ...] = (
    _enigma("crypto_babycrypto", _ENIGMA_GPT4O), _moatless("django__django-12113", _MOATLESS_GPT4O),
    _enigma("misc_Showdown", _ENIGMA_GPT4O), _moatless("django__django-14580", _MOATLESS_GPT4O),
    _enigma("pwn_targetpractice", _ENIGMA_GPT4O), _moatless("matplotlib__matplotlib-26020", _MOATLESS_GPT4O),
    _enigma("rev_babymult", _ENIGMA_GPT4O), _moatless("pytest-dev__pytest-11143", _MOATLESS_GPT4O),
    _enigma("rev_rap", _ENIGMA_GPT4O), _moatless("scikit-learn__scikit-learn-13142", _MOATLESS_GPT4O),
    _baseline("checker", _CHECKER), _moatless("sympy__sympy-11897", _MOATLESS_GPT4O),
)
# B: other challenges and instances; EnIGMA Claude 3.5 Sonnet, the NYU baseline, Moatless Claude 3.5 Sonnet
UNSEEN_B: tuple[Source, ...] = (
    _enigma("crypto_SuperCurve", _ENIGMA_CLAUDE), _moatless("astropy__astropy-14995", _MOATLESS_CLAUDE),
    _enigma("forensics_LazyLeaks", _ENIGMA_CLAUDE), _moatless("django__django-13220", _MOATLESS_CLAUDE),
    _enigma("pwn_PasswordChecker", _ENIGMA_CLAUDE), _moatless("django__django-16816", _MOATLESS_CLAUDE),
    _enigma("pwn_pilot", _ENIGMA_CLAUDE), _moatless("pylint-dev__pylint-7114", _MOATLESS_CLAUDE),
    _enigma("pwn_roppity", _ENIGMA_CLAUDE), _moatless("sphinx-doc__sphinx-8801", _MOATLESS_CLAUDE),
    _baseline("1black0white", _1BLACK0WHITE), _moatless("sympy__sympy-18532", _MOATLESS_CLAUDE),
)


def _swe1x(instance: str, trace: str) -> Source:
    return Source(f"swe1x-{instance}", *SWE_AGENT_1X, f"TODO/{instance}/{trace}/{instance}.traj", "swe-agent-1x")


def _gemini(name: str, path: str) -> Source:
    return Source(f"gemini-{name}", *GEMINI_CTF, "testing/" + path, "gemini-cli")


def _aider_session(started: str) -> Source:
    return Source(f"aider-{started.replace(' ', 'T')}", *AIDER, "tests/fixtures/chat-history.md", "aider")


_KIMI = "trace_02_kimi-k2-instruct-0905"
# C: other agents and formats; Gemini CLI CTF chats, SWE-agent 1.x (str_replace_editor) SWE-bench runs,
# aider sessions (SEARCH/REPLACE blocks in the reply)
UNSEEN_C: tuple[Source, ...] = (
    _gemini("gotta-crack-them-all", "crypto/gotta-crack-them-all/gemini_chat.json"),
    _swe1x("dask__dask-8685", _KIMI),
    _aider_session("2024-08-06 09:06:27"), _aider_session("2024-08-09 18:37:24"),
    _gemini("too-much-in-common", "crypto/too-much-in-common/crypto_too-much-in-common.json"),
    _swe1x("getmoto__moto-5862", _KIMI),
    _aider_session("2024-08-12 15:03:27"), _aider_session("2024-08-14 16:41:33"),
    _gemini("puffin", "pwn/puffin/pwn_puffin.json"),
    _swe1x("python__mypy-10430", _KIMI),
    _aider_session("2024-08-20 13:24:42"), _aider_session("2024-08-22 08:18:06"),
)
# D: InterCode-CTF (GPT-4) runs, AutoCodeRover (GPT-4) SWE-bench Lite runs, OpenHands CodeAct
# Multi-SWE-bench runs (Llama 4 Maverick); CTF and coding runs alternating
UNSEEN_D: tuple[Source, ...] = (
    unseen_d.intercode("6"), unseen_d.acr("astropy__astropy-12907_2024-04-06_13-51-50", 1),
    unseen_d.intercode("11"), unseen_d.openhands_eval("ponylang__ponyc-4593"),
    unseen_d.intercode("31"), unseen_d.acr("django__django-17051_2024-04-06_13-47-14", 1),
    unseen_d.intercode("37"), unseen_d.acr("scikit-learn__scikit-learn-25500_2024-04-06_13-16-38", 1),
    unseen_d.intercode("75"), unseen_d.openhands_eval("ponylang__ponyc-4588"),
    unseen_d.intercode("96"), unseen_d.acr("sympy__sympy-24213_2024-04-06_13-28-55", 1),
)
SOURCES: tuple[Source, ...] = (*UNSEEN_A, *UNSEEN_B, *UNSEEN_C, *UNSEEN_D)


# -- conversion ------------------------------------------------------------------------------------

def _nyu_ctf(source: Source, data: dict[str, Any]) -> Run:
    """A run of the NYU CTF baseline agent: ``messages`` is a list of ``[timestamp, message]``
    pairs of Chat Completions messages (an entry without a role -- a backend's raw reply -- is
    skipped, and a message logged twice in a row is kept once). The fact: the flag of every
    ``check_flag`` call answered ``{"correct": true}``."""
    b = _Builder(_slug(source.name))
    system = ""
    checked: dict[str, str] = {}  # check_flag call id -> flag
    flags: list[str] = []
    last: tuple[str, str] | None = None
    for entry in data.get("messages", []):
        m = entry[1] if isinstance(entry, list) and len(entry) == 2 else entry
        role = m.get("role") if isinstance(m, dict) else None
        if role is None:
            continue
        content = m.get("content")
        text = content if isinstance(content, str) else ("" if content is None else json.dumps(content))
        key = (role, text + json.dumps(m.get("tool_calls")))
        if key == last:  # the same message logged twice in a row
            continue
        last = key
        if role == "system":
            system = system or text
        elif role == "user":
            b.user(text)
        elif role == "assistant":
            calls = []
            for call in m.get("tool_calls") or ():
                fn = call.get("function") or {}
                args = _json_args(fn.get("arguments"))
                name = str(fn.get("name") or "run_command")
                if name == "check_flag" and isinstance(args.get("flag"), str):
                    checked[str(call.get("id"))] = args["flag"]
                calls.append((name, args))
            b.assistant(text, calls)
        elif role == "tool":
            b.observation(text)
            flag = checked.get(str(m.get("tool_call_id")))
            if flag and _correct(text) and flag not in flags:
                flags.append(flag)
    return Run(source, system, b.done(), [Fact("answer", f, source.name) for f in flags])


def _moatless_run(source: Source, data: dict[str, Any]) -> Run:
    """A Moatless Tools run: the problem statement is the task; every action is a tool call
    (named after the action, or after the state that made it in the newer ``transitions`` logs,
    whose ``scratch_pad`` is the assistant's thought) with its output as the result; ``finish``
    is the closing assistant message. The facts: the files of the final diff (``info.submission``)."""
    b = _Builder(_slug(source.name))
    b.user(str((data.get("input") or {}).get("problem_statement") or data.get("initial_message") or ""))
    for step in data.get("steps") or ():  # older logs: steps of named actions with input and output
        for action in step.get("actions") or ():
            name = str(action.get("name") or "action")
            args = action.get("input") if isinstance(action.get("input"), dict) else {}
            if name in ("finish", "reject"):
                b.assistant(str(args.get("reason") or args.get("message") or name))
                continue
            b.assistant("", [(name, args)])
            b.observation(_render_output(action.get("output")))
    for transition in data.get("transitions") or ():  # newer logs: states whose actions carry a scratch pad
        for action in transition.get("actions") or ():
            args = dict(action.get("action") or {}) if isinstance(action.get("action"), dict) else {}
            thought = str(args.pop("scratch_pad", "") or "").strip()
            output = action.get("output")
            if args.get("finish") or args.get("reject"):
                said = output.get("message") if isinstance(output, dict) else None
                b.assistant("\n\n".join(x for x in (thought, str(said or args.get("finish") or args.get("reject"))) if x))
                continue
            b.assistant(thought, [(str(transition.get("name") or "action"), args)])
            b.observation(_render_output(output))
    submission = str((data.get("info") or {}).get("submission") or "")
    return Run(source, "", b.done(), [Fact("file", f, source.name) for f in _diff_files(submission)])


def _render_output(output: Any) -> str:
    """A Moatless action's output as the text its agent loop shows: the message, the code it
    returned, the diff it applied, an error, and the files and spans a search found."""
    if not isinstance(output, dict):
        return "" if output is None else str(output)
    parts: list[str] = []
    for key in ("message", "response", "diff", "error"):
        value = output.get(key)
        if value:
            parts.append(str(value))
    for ctx in output.get("file_context") or ():
        if isinstance(ctx, dict):
            spans = ", ".join(str(s.get("span_id")) for s in ctx.get("spans") or () if isinstance(s, dict))
            parts.append(f"{ctx.get('file_path')}: {spans}")
    for span in output.get("ranked_spans") or ():
        if isinstance(span, dict):
            parts.append(f"{span.get('file_path')}: {span.get('span_id')} (rank {span.get('rank')})")
    shown = ("message", "response", "diff", "error", "file_context", "ranked_spans")
    rest = {k: v for k, v in output.items() if k not in shown and v not in (None, "", [], {})}
    if rest:
        parts.append(json.dumps(rest))
    return "\n".join(parts)


def _json_args(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {"raw": str(raw)}
    return value if isinstance(value, dict) else {"raw": value}


def _correct(text: str) -> bool:
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, dict) and value.get("correct") is True


# -- hold-out C: SWE-agent 1.x trajectories and Gemini CLI CTF chats ---------------------------------

def _parts_text(content: Any) -> str:
    """A SWE-agent 1.x message's text: its ``content`` is a string, or a list of ``{"type": "text",
    "text": ...}`` parts -- often logged as that list's Python literal."""
    if isinstance(content, str) and content.startswith("[{"):
        parts = rs._literal(content)
        content = parts if parts and all(isinstance(p, dict) and "type" in p for p in parts) else content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def _swe_agent_1x(source: Source, data: dict[str, Any], text_actions: bool = False) -> Run:
    """A SWE-agent 1.x run: ``history`` holds Chat Completions-like messages whose ``content`` and
    ``tool_calls`` are often Python literals (:func:`_parts_text`); its tools are
    ``str_replace_editor`` (``view``/``create``/``str_replace``/``insert``/``undo_edit`` with a
    ``path``), ``bash`` and ``submit``. Tool-call form: the calls as logged, each result answering
    its call. Text-action form, as SWE-agent's text-parsing agents write it: the reply, then its
    ``action`` line (``str_replace_editor str_replace /testbed/x.py --old_str ... --new_str ...``),
    the observation as the next user turn. The facts: the files of ``info.submission``."""
    b = _Builder(_slug(source.name))
    system = ""
    for m in data.get("history") or ():
        role, text = m.get("role"), _parts_text(m.get("content"))
        if role == "system":
            system = system or text
        elif role == "assistant":
            said = (text or str(m.get("thought") or "")).strip()
            if text_actions:
                b.assistant("\n\n".join(x for x in (said, str(m.get("action") or "").strip()) if x))
                continue
            calls = []
            for call in rs._literal(m.get("tool_calls")):
                fn = call.get("function") or {}
                calls.append((str(fn.get("name") or "bash"), _json_args(fn.get("arguments"))))
            b.assistant(said, calls)
        elif role == "tool":
            b.observation(text)
        else:
            b.user(text)
    submission = str((data.get("info") or {}).get("submission") or "")
    return Run(source, system, b.done(), [Fact("file", f, source.name) for f in _diff_files(submission)])


_FLAG = re.compile(r"\b[A-Za-z][A-Za-z0-9_]*\{[^{}\s`%]+\}")


def _gemini_cli(source: Source, data: list[dict[str, Any]]) -> Run:
    """A Gemini CLI chat: the Gemini API's ``contents`` (``user`` and ``model`` turns of ``text``,
    ``functionCall`` and ``functionResponse`` parts; ``thoughtSignature`` blobs are dropped). Each
    call becomes a tool call answered by its response (its ``output``, else its ``error``); a
    function-calling agent, so the same in both forms. The fact: the flag the run's closing text
    reports -- the last flag-shaped string (``name{...}``, placeholders such as ``{...}`` excepted)
    of the last model text that has one."""
    b = _Builder(_slug(source.name))
    flag = ""
    for turn in data:
        parts = [p for p in turn.get("parts") or () if isinstance(p, dict)]
        if turn.get("role") == "model":
            said = "\n".join(str(p["text"]) for p in parts if "text" in p and not p.get("thought")).strip()
            calls = [(str(p["functionCall"].get("name")), dict(p["functionCall"].get("args") or {}))
                     for p in parts if isinstance(p.get("functionCall"), dict)]
            found = [f for f in _FLAG.findall(said) if not f.endswith("{...}")]
            flag = found[-1] if found else flag
            b.assistant(said, calls)
            continue
        for p in parts:
            if isinstance(p.get("functionResponse"), dict):
                response = p["functionResponse"].get("response") or {}
                out = response.get("output", response.get("error")) if isinstance(response, dict) else response
                b.observation(out if isinstance(out, str) else json.dumps(out))
            elif "text" in p:
                b.user(str(p["text"]))
    return Run(source, "", b.done(), [Fact("answer", flag, source.name)] if flag else [])


_AIDER_START = "# aider chat started at "
_APPLIED = re.compile(r"^> Applied edit to (\S+?)\s*$", re.M)


def aider_sessions(history: str) -> list[tuple[str, str]]:
    """An aider ``.aider.chat.history.md`` split into its sessions: ``(start time, text)`` per
    ``# aider chat started at <time>`` header, in file order."""
    out: list[tuple[str, str]] = []
    for chunk in history.split("\n" + _AIDER_START)[1:]:
        started, _, body = chunk.partition("\n")
        out.append((started.strip(), body))
    return out


def _aider(source: Source, history: str) -> Run:
    """One aider session (the one whose start time ends the source's name, ``aider-<time>``) as
    the model saw it: ``#### `` lines are the user's turn (typed requests, and lint or test
    output aider sends back), the other lines the model's reply (prose and ``<<<<<<< SEARCH`` /
    ``>>>>>>> REPLACE`` blocks under the file's name, or whole files); aider's own console notices
    (``> `` lines: commits, token costs, "Applied edit to ...") and whatever comes before the
    first request are not part of the conversation and are left out. Text only, so the same in both
    forms. The facts: the files of the session's ``> Applied edit to PATH`` notices."""
    started = source.name.removeprefix("aider-").replace("T", " ")
    body = next((text for when, text in aider_sessions(history) if when == started), None)
    if body is None:
        raise rs.SourceMissing(f"{source.repo}: no aider session started at {started} in {source.path}")
    b = _Builder(_slug(source.name))
    said: list[str] = []
    asked: list[str] = []
    notice = False
    for line in body.splitlines():
        if line.startswith("####"):
            if said:
                b.assistant("\n".join(said).strip())
                said = []
            asked.append(line[4:].removeprefix(" ").rstrip())
            notice = False
        elif line == ">" or line.startswith("> "):  # not ``>>>>>>> REPLACE``
            notice = True  # a console notice; its unprefixed continuation lines go with it
        elif notice and line.strip():
            continue
        else:
            notice = False
            if asked:
                b.user("\n".join(asked).strip())
                asked = []
            if b.messages:
                said.append(line)
    if said:
        b.assistant("\n".join(said).strip())
    if asked:
        b.user("\n".join(asked).strip())
    files = list(dict.fromkeys(_APPLIED.findall(body)))
    return Run(source, "", b.done(), [Fact("file", f, source.name) for f in files])


# -- EnIGMA runs that solved their challenge -------------------------------------------------------

_CATEGORY = {"cry": "crypto", "for": "forensics", "msc": "misc", "pwn": "pwn", "rev": "rev", "web": "web"}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", name.lower())


def solved_enigma(summary: dict[str, Any]) -> set[str]:
    """``<category>_<normalised name>`` of every challenge an EnIGMA ``summary.json`` marks solved
    (its keys look like ``2021f-cry-collision_course``; the trajectories ``crypto_CollisionCourse``)."""
    out = set()
    for key, ok in (summary.get("results") or {}).items():
        parts = key.split("-", 2)
        if ok and len(parts) == 3:
            out.add(f"{_CATEGORY.get(parts[1], parts[1])}_{_norm(parts[2])}")
    return out


def enigma_solved(source: Source, summary: dict[str, Any]) -> bool:
    category, _, name = source.path.rsplit("/", 1)[-1][: -len(".traj")].partition("_")
    return f"{category}_{_norm(name)}" in solved_enigma(summary)


# -- loading ---------------------------------------------------------------------------------------

def load_run(root: str, source: Source, *, text_actions: bool = False) -> Run:
    """One run converted to Chat Completions messages (see :func:`real_sessions.load_run`)."""
    if source.kind == "aider":
        return _aider(source, rs.read_source(root, source))
    if source.kind in unseen_d.KINDS:
        return unseen_d.load_run(root, source, text_actions=text_actions)
    if source.kind in ("nyu-ctf", "moatless", "swe-agent-1x", "gemini-cli"):
        data = json.loads(rs.read_source(root, source))
        if source.kind == "swe-agent-1x":
            return _swe_agent_1x(source, data, text_actions)
        return {"nyu-ctf": _nyu_ctf, "moatless": _moatless_run, "gemini-cli": _gemini_cli}[source.kind](source, data)
    run = rs.load_run(root, source, text_actions=text_actions)
    if source.path.startswith("transcripts/enigma_"):
        summary = json.loads(rs.read_source(root, Source("summary", source.repo, source.commit,
                                                         source.path.rsplit("/", 1)[0] + "/summary.json", "json")))
        if not enigma_solved(source, summary):
            run.facts = []  # submitted, but not the challenge's flag: nothing was captured
    return run


def unseen_session(root: str, which: str, *, text_actions: bool = False) -> rs.RealSession:
    """Unseen session ``"A"``, ``"B"``, ``"C"`` or ``"D"``: its runs one after the other in one
    conversation, ending with :data:`real_sessions.FINAL_QUESTION`."""
    runs = {"A": UNSEEN_A, "B": UNSEEN_B, "C": UNSEEN_C, "D": UNSEEN_D}[which]
    session = rs.concatenated_session([load_run(root, s, text_actions=text_actions) for s in runs])
    session.name = f"unseen {which}, " + ("text actions" if text_actions else "tool calls")
    return session


def list_files(root: str, repo: str, commit: str, folder: str) -> list[str]:
    """The files under ``folder`` of ``repo`` at ``commit`` (what the runs are chosen from)."""
    where = rs.repo_dir(root, repo)
    out = subprocess.run(["git", "-C", where, "ls-tree", "-r", "--name-only", f"{commit}:{folder}"],
                         check=True, capture_output=True, text=True).stdout
    return [folder + line for line in out.splitlines() if line]
