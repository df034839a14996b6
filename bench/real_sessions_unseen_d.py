"""Unseen hold-out D: three more agent formats, converted like :mod:`real_sessions_unseen`'s.

Part of :mod:`real_sessions_unseen` (its session ``"D"``). D was built after A, B and C, from
agents and log formats none of them has, and measured on the code of the day without changing
anything:

* **InterCode-CTF** (``princeton-nlp/intercode``, ``data/results/ctf/ic_ctf_multiturn_gpt-4_10_turns.json``):
  the InterCode paper's GPT-4 runs on picoCTF challenges, up to ten turns each; the log keeps
  the task (``query``) and, per turn, the action the model wrote (a shell command, or
  ``submit <flag>``), its observation and its reward. The fact: the flag of the ``submit``
  action that earned reward 1 (:func:`intercode_ctf`);
* **AutoCodeRover** (``nus-apr/auto-code-rover``, ``results/acr-run-1/applicable_patch/<instance>_<time>/``):
  its SWE-bench Lite run with GPT-4 (``gpt-4-0125-preview``): a plain chat in which the model
  writes its search API calls (``search_class("FileSystemStorage")``) in its reply, the results
  come back as user turns, and the patch is written as ``# modification N`` blocks of
  ``<file>PATH</file>``, ``<original>`` and ``<patched>`` code. The run is the instance's last
  ``debug_agent_write_patch_N.json`` (the whole conversation, retrieval then patch); the facts: the
  files of that instance's ``model_patch`` in ``results/acr-run-1/predictions_for_swebench.json``
  (:func:`autocoderover`);
* **OpenHands CodeAct SWE-bench evaluation output** (``All-Hands-AI/OpenHands``,
  ``evaluation/benchmarks/multi_swe_bench/examples/output.jsonl``: the example output of its
  Multi-SWE-bench harness, CodeActAgent on Llama 4 Maverick): one JSON line per instance whose
  ``history`` is OpenHands' event stream; each agent action carries the model response it came
  from (``tool_call_metadata.model_response``), with function calls ``execute_bash``,
  ``str_replace_editor``, ``think`` and ``finish``. The facts: the files of
  ``test_result.git_patch`` (:func:`openhands_eval`).

Tool-call and text-action forms: InterCode's actions become ``bash`` calls (``{"command":
action}``), as :mod:`real_sessions` does for SWE-agent's text actions, or stay the model's reply
with the observation as the next user turn; OpenHands' calls become, in text form, what OpenHands
itself sends a model without function calling (``openhands/llm/fn_call_converter.py``:
``<function=str_replace_editor>`` / ``<parameter=path>...</parameter>`` in the reply, the result
as a user turn ``EXECUTION RESULT of [str_replace_editor]:``); AutoCodeRover's chat is text in
both forms.
"""

from __future__ import annotations

import json
import re
from typing import Any

import real_sessions as rs
from real_sessions import Fact, Run, Source, _Builder, _diff_files, _slug

INTERCODE = ("princeton-nlp/intercode", "c3e46d827cfc9d4c704ec078f7abf9f41e3191d8")
AUTOCODEROVER = ("nus-apr/auto-code-rover", "3536ac292e3062ffb3f6e98457958e2b803228d6")
OPENHANDS_EVAL = ("All-Hands-AI/OpenHands", "156d0686c46aafb0fa9d291da6421fb6f64dddc0")

INTERCODE_CTF_RUNS = "data/results/ctf/ic_ctf_multiturn_gpt-4_10_turns.json"
ACR_RUN = "results/acr-run-1/"
ACR_PREDICTIONS = ACR_RUN + "predictions_for_swebench.json"
OPENHANDS_MULTI_SWE = "evaluation/benchmarks/multi_swe_bench/examples/output.jsonl"


def intercode(task: str) -> Source:
    """InterCode-CTF run ``task`` (its key in the results file)."""
    return Source(f"intercode-{task}", *INTERCODE, INTERCODE_CTF_RUNS, "intercode-ctf")


def acr(run_dir: str, attempt: int) -> Source:
    """AutoCodeRover's run in ``applicable_patch/<run_dir>``: its ``debug_agent_write_patch_<attempt>.json``."""
    instance = run_dir.rsplit("_", 2)[0]
    return Source(f"acr-{instance}", *AUTOCODEROVER,
                  f"{ACR_RUN}applicable_patch/{run_dir}/debug_agent_write_patch_{attempt}.json", "autocoderover")


def openhands_eval(instance: str) -> Source:
    return Source(f"openhands-{instance}", *OPENHANDS_EVAL, OPENHANDS_MULTI_SWE, "openhands-eval")


# -- InterCode-CTF -----------------------------------------------------------------------------------

def intercode_ctf(source: Source, results: dict[str, Any], text_actions: bool = False) -> Run:
    """One InterCode-CTF run: the task (``query``) as the user's turn, then each turn's action --
    a ``bash`` call, or in text form the model's reply -- and its observation. The fact: the flag
    of the ``submit`` action whose reward is 1 (none if no submission was rewarded)."""
    task = source.name.removeprefix("intercode-")
    entry = results.get(task)
    if not isinstance(entry, dict):
        raise rs.SourceMissing(f"{source.repo}: no InterCode-CTF run {task!r} in {source.path}")
    turns = entry.get("turn_history") or {}
    b = _Builder(_slug(source.name))
    b.user(str(entry.get("query") or ""))
    flags: list[str] = []
    rewards = list(turns.get("rewards") or ())
    for i, (action, observation) in enumerate(zip(turns.get("actions") or (), turns.get("observations") or (),
                                                  strict=False)):
        action = str(action)
        if text_actions:
            b.assistant(action)
            b.user(str(observation) or "(no output)")
        else:
            b.assistant("", [("bash", {"command": action})])
            b.observation(str(observation))
        submitted = re.match(r"\s*submit\s+(.+?)\s*$", action, re.S)
        if submitted and i < len(rewards) and rewards[i] == 1 and submitted.group(1) not in flags:
            flags.append(submitted.group(1))
    return Run(source, "", b.done(), [Fact("answer", f, source.name) for f in flags])


# -- AutoCodeRover -----------------------------------------------------------------------------------

def autocoderover(source: Source, conversation: list[dict[str, Any]], predictions: list[dict[str, Any]]) -> Run:
    """An AutoCodeRover run: its chat as logged (the system prompt; user turns with the issue,
    the API description and the search results; the model's replies with its API calls and its
    ``# modification`` blocks) -- text in both forms. The facts: the files of the instance's
    ``model_patch`` among the run's predictions."""
    instance = source.name.removeprefix("acr-")
    b = _Builder(_slug(source.name))
    system = ""
    for m in conversation:
        role, text = m.get("role"), str(m.get("content") or "")
        if role == "system":
            system = system or text
        elif role == "assistant":
            b.assistant(text)
        else:
            b.user(text)
    patch = next((str(p.get("model_patch") or "") for p in predictions if p.get("instance_id") == instance), None)
    if patch is None:
        raise rs.SourceMissing(f"{source.repo}: no prediction for {instance} in {ACR_PREDICTIONS}")
    return Run(source, system, b.done(), [Fact("file", f, source.name) for f in _diff_files(patch)])


# -- OpenHands evaluation output ---------------------------------------------------------------------

_SKIPPED_OBSERVATIONS = frozenset({"agent_state_changed", "null", "recall"})


def call_as_text(name: str, args: dict[str, Any]) -> str:
    """A function call as OpenHands writes it for a model without function calling
    (``convert_tool_call_to_string`` in ``openhands/llm/fn_call_converter.py``)."""
    out = f"<function={name}>\n"
    for key, value in args.items():
        out += f"<parameter={key}>" + (json.dumps(value) if isinstance(value, list | dict) else f"{value}")
        out += "</parameter>\n"
    return out + "</function>"


def openhands_run(source: Source, row: dict[str, Any], text_actions: bool = False) -> Run:
    """One instance of an OpenHands evaluation output: its ``history`` events in order -- the
    ``system`` action is the run's system prompt, user ``message`` actions are user turns, an
    agent action with ``tool_call_metadata`` is the assistant message of its model response (once
    per response: content and every function call, arguments as the model sent them), an
    observation is the result of the oldest unanswered call; agent ``message``/``finish`` actions
    without a model response are assistant text. OpenHands' own bookkeeping (``recall`` of
    workspace context, agent state changes) is no part of the conversation. Text form: the calls
    as :func:`call_as_text` in the reply, each result a user turn ``EXECUTION RESULT of [name]:``.
    The facts: the files of ``test_result.git_patch``."""
    b = _Builder(_slug(source.name))
    system = ""
    responses: set[str] = set()
    names: list[str] = []  # function names of unanswered calls (text form)
    for e in row.get("history") or ():
        meta = e.get("tool_call_metadata") if isinstance(e.get("tool_call_metadata"), dict) else None
        args = e.get("args") if isinstance(e.get("args"), dict) else {}
        action, observation = e.get("action"), e.get("observation")
        if action == "system":
            system = system or str(args.get("content") or e.get("message") or "")
        elif action == "recall" or observation in _SKIPPED_OBSERVATIONS:
            continue
        elif action and e.get("source") == "user":
            b.user(str(args.get("content") or e.get("message") or ""))
        elif action and meta:
            response = meta.get("model_response") or {}
            rid = str(response.get("id") or meta.get("tool_call_id"))
            if rid in responses:
                continue
            responses.add(rid)
            message = ((response.get("choices") or [{}])[0] or {}).get("message") or {}
            said = str(message.get("content") or "").strip()
            calls = []
            for call in message.get("tool_calls") or ():
                fn = call.get("function") or {}
                try:
                    parsed = json.loads(fn.get("arguments") or "{}")
                except ValueError:
                    parsed = {"raw": fn.get("arguments")}
                calls.append((str(fn.get("name") or meta.get("function_name")), parsed if isinstance(parsed, dict)
                              else {"raw": parsed}))
            if text_actions:
                b.assistant("\n\n".join(x for x in (said, *(call_as_text(n, a) for n, a in calls)) if x))
                names.extend(n for n, _ in calls if n != "finish")
            else:
                b.assistant(said, calls)
        elif action and e.get("source") == "agent":
            b.assistant(str(args.get("content") or args.get("final_thought") or e.get("message") or ""))
        elif observation:
            text = str(e.get("content") or e.get("message") or "")
            if text_actions:
                b.user(f"EXECUTION RESULT of [{names.pop(0)}]:\n{text}" if names and meta else text)
            else:
                b.observation(text)
    patch = str((row.get("test_result") or {}).get("git_patch") or "")
    return Run(source, system, b.done(), [Fact("file", f, source.name) for f in _diff_files(patch)])


def openhands_instance(source: Source, output_jsonl: str, text_actions: bool = False) -> Run:
    """The run of ``source``'s instance among the lines of an OpenHands ``output.jsonl``."""
    instance = source.name.removeprefix("openhands-")
    for line in output_jsonl.splitlines():
        if line.strip():
            row = json.loads(line)
            if row.get("instance_id") == instance:
                return openhands_run(source, row, text_actions)
    raise rs.SourceMissing(f"{source.repo}: no instance {instance} in {source.path}")


# -- loading -----------------------------------------------------------------------------------------

KINDS = ("intercode-ctf", "autocoderover", "openhands-eval")


def load_run(root: str, source: Source, *, text_actions: bool = False) -> Run:
    """One hold-out D run converted to Chat Completions messages."""
    text = rs.read_source(root, source)
    if source.kind == "intercode-ctf":
        return intercode_ctf(source, json.loads(text), text_actions)
    if source.kind == "autocoderover":
        predictions = json.loads(rs.read_source(root, Source("predictions", source.repo, source.commit,
                                                             ACR_PREDICTIONS, "json")))
        return autocoderover(source, json.loads(text), predictions)
    if source.kind == "openhands-eval":
        return openhands_instance(source, text, text_actions)
    raise ValueError(f"unknown source kind {source.kind!r}")

