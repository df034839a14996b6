"""Real agent sessions from public repositories, converted to Chat Completions messages.

Each source is a trajectory file of an open-source agent, pinned by repository, path and commit:

* **SWE-agent / EnIGMA** (``SWE-agent/SWE-agent``): CTF demonstrations (crypto, forensics, misc,
  pwn, rev, web; each ends by submitting the flag) and SWE-bench-style coding runs (each ends by
  submitting a patch).
* **OpenHands** (``All-Hands-AI/OpenHands``): replay trajectories of its CodeAct agent (the user
  asks for an app or a change; the agent runs commands and edits files).
* **mini-swe-agent** (``SWE-agent/mini-swe-agent``): a GitHub-issue run that ends with its diff.

Nothing fetched is committed. The repositories are read with ``git show COMMIT:PATH`` from a
directory given on the command line (``--sources DIR``) or in ``MASSGEN_BENCH_SOURCES``, laid out
as ``DIR/<owner>+<name>/repo`` (what the search tools' ``fetch`` produces) or ``DIR/<owner>/<name>``
(what ``bench/fetch_sessions.sh`` clones when online).

**Task facts are taken mechanically from each run's own outcome**: the answer it submitted
(``info.submission`` of a CTF run), the files its patch changed (``diff --git a/PATH`` lines of
the submission or of the final diff), the files an OpenHands agent edited (its ``edit``/``write``
actions' paths). Nothing is chosen by hand.

:func:`concatenated_session` builds the long session: a dozen runs one after the other in one
conversation, each run's task a user message, ending with the question
"List every flag you captured and every file you changed".
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from typing import Any

SWE_AGENT = ("SWE-agent/SWE-agent", "3ea751c087f32b16e039a2233dd6eefecef325d5")
OPENHANDS = ("All-Hands-AI/OpenHands", "156d0686c46aafb0fa9d291da6421fb6f64dddc0")
MINI_SWE = ("SWE-agent/mini-swe-agent", "a83fcae82d2a08f0ee0c688f9d137b3566c097f8")

_CTF = "trajectories/demonstrations/ctf/"
_MARSH = ("trajectories/demonstrations/replay__marshmallow-code__marshmallow-1867__function_calling_replace__"
          "install-1/marshmallow-code__marshmallow-1867.traj")
_PYDICOM = ("tests/test_data/trajectories/gpt4__swe-bench-dev-easy_first_only__default__t-0.00__p-0.95__"
            "c-3.00__install-1/pydicom__pydicom-1458.traj")
_HEVAL = ("trajectories/demonstrations/human_thought__swe-bench-HumanEvalFix-python__lcb__t-0.00__p-0.95__"
          "c-4.00__install-0/humanevalfix-python-0.traj")


@dataclass(frozen=True)
class Source:
    """One trajectory file: ``repo`` (owner/name), ``commit``, ``path`` and its ``kind``
    (``swe-agent``, ``openhands``, ``mini-swe-agent``)."""

    name: str
    repo: str
    commit: str
    path: str
    kind: str

    @property
    def url(self) -> str:
        return f"https://github.com/{self.repo}/blob/{self.commit}/{self.path}"


SOURCES: tuple[Source, ...] = (
    *(Source(f"ctf-{p.rsplit('/', 1)[-1][:-5]}", *SWE_AGENT, _CTF + p, "swe-agent") for p in (
        "crypto/BabyEncryption.traj", "crypto/BabyTimeCapsule.traj", "crypto/eps.traj", "crypto/katy.traj",
        "forensics/flash.traj", "misc/networking_1.traj", "pwn/warmup.traj", "rev/rock.traj",
        "web/i_got_id_demo.traj")),
    Source("swe-pydicom-1458", *SWE_AGENT, _PYDICOM, "swe-agent"),
    Source("swe-marshmallow-1867", *SWE_AGENT, _MARSH, "swe-agent"),
    Source("swe-humanevalfix-0", *SWE_AGENT, _HEVAL, "swe-agent"),
    Source("openhands-vue-todo", *OPENHANDS, "tests/runtime/trajs/basic_gui_mode.json", "openhands"),
    Source("openhands-2048", *OPENHANDS, "tests/runtime/trajs/basic.json", "openhands"),
    Source("openhands-rename", *OPENHANDS, "tests/runtime/trajs/wrong_initial_state.json", "openhands"),
    Source("mini-swe-missing-colon", *MINI_SWE, "tests/test_data/github_issue.traj.json", "mini-swe-agent"),
)

# the dozen runs of the long session (CTF and coding, three agents)
LONG_SESSION = (
    "ctf-BabyEncryption", "swe-pydicom-1458", "ctf-eps", "openhands-vue-todo", "ctf-flash", "ctf-katy",
    "swe-marshmallow-1867", "ctf-i_got_id_demo", "ctf-warmup", "mini-swe-missing-colon", "ctf-rock",
    "ctf-BabyTimeCapsule",
)
FINAL_QUESTION = "List every flag you captured and every file you changed."


@dataclass(frozen=True)
class Fact:
    """A task-critical fact: ``key`` is the exact text whose presence proves it was kept."""

    kind: str  # answer | file
    key: str
    run: str


@dataclass
class Run:
    """One converted run: its system prompt, its messages (starting with the task, a user
    message) and the facts taken from its outcome."""

    source: Source
    system: str
    messages: list[dict[str, Any]]
    facts: list[Fact] = field(default_factory=list)


class SourceMissing(RuntimeError):
    pass


def repo_dir(root: str, repo: str) -> str:
    owner, name = repo.split("/")
    for cand in (os.path.join(root, f"{owner}+{name}", "repo"), os.path.join(root, f"{owner}+{name}"),
                 os.path.join(root, owner, name)):
        if os.path.isdir(cand):
            return cand
    raise SourceMissing(f"no copy of {repo} under {root} (run bench/fetch_sessions.sh {root})")


def read_source(root: str, source: Source) -> str:
    where = repo_dir(root, source.repo)
    try:
        out = subprocess.run(["git", "-C", where, "show", f"{source.commit}:{source.path}"], check=True,
                             capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        raise SourceMissing(f"{source.repo}: cannot read {source.path} at {source.commit[:10]}: "
                            f"{exc.stderr.strip()}") from None
    return out.stdout


# -- conversion ----------------------------------------------------------------------------------

class _Builder:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.messages: list[dict[str, Any]] = []
        self.pending: list[str] = []
        self.calls = 0

    def user(self, text: str) -> None:
        self._close()
        self.messages.append({"role": "user", "content": text})

    def assistant(self, text: str, calls: list[tuple[str, dict[str, Any]]] = ()) -> None:  # type: ignore[assignment]
        self._close()
        msg: dict[str, Any] = {"role": "assistant", "content": text or None}
        if calls:
            msg["tool_calls"] = []
            for name, args in calls:
                self.calls += 1
                cid = f"call_{self.prefix}_{self.calls}"
                msg["tool_calls"].append({"id": cid, "type": "function",
                                          "function": {"name": name, "arguments": json.dumps(args)}})
                self.pending.append(cid)
        elif not text:
            return
        self.messages.append(msg)

    def observation(self, text: str) -> None:
        """A tool result for the oldest unanswered call, else a user message."""
        if self.pending:
            self.messages.append({"role": "tool", "tool_call_id": self.pending.pop(0), "content": text or "(no output)"})
        else:
            self.user(text)

    def _close(self) -> None:
        while self.pending:  # a call the trajectory never answered
            self.messages.append({"role": "tool", "tool_call_id": self.pending.pop(0), "content": "(no output)"})

    def done(self) -> list[dict[str, Any]]:
        self._close()
        return self.messages


def _swe_agent(source: Source, data: dict[str, Any], text_actions: bool = False) -> Run:
    history = [m for m in data.get("history", []) if not m.get("is_demo")]
    system = next((str(m["content"]) for m in history if m["role"] == "system"), "")
    b = _Builder(_slug(source.name))
    first_user = True
    for m in history:
        role, content = m["role"], str(m.get("content") or "")
        if role == "system":
            continue
        if text_actions:  # as the agent saw it: actions in the assistant's text, outputs as user turns
            if role == "assistant":
                b.assistant(content or str(m.get("action") or ""))
            else:
                b.user(content or "(no output)")
            continue
        if role == "assistant":
            thought = str(m.get("thought") or content).strip()
            calls = _literal(m.get("tool_calls"))
            if calls:
                parsed = []
                for c in calls:
                    fn = c.get("function") or {}
                    try:
                        args = json.loads(fn.get("arguments") or "{}")
                    except ValueError:
                        args = {"raw": fn.get("arguments")}
                    parsed.append((str(fn.get("name") or "bash"), args))
                b.assistant(thought, parsed)
            elif m.get("action"):
                b.assistant(thought, [("bash", {"command": str(m["action"]).strip()})])
            else:
                b.assistant(content)
        elif first_user:
            b.user(content)
            first_user = False
        else:
            b.observation(content)
    messages = b.done()
    submission = str((data.get("info") or {}).get("submission") or "").strip()
    files = _diff_files(submission)
    if files:
        facts = [Fact("file", f, source.name) for f in files]
    elif submission and submission != "None":
        facts = [Fact("answer", submission.strip("'\" "), source.name)]
    else:
        facts = []
    return Run(source, system, messages, facts)


def _openhands(source: Source, data: list[dict[str, Any]]) -> Run:
    b = _Builder(_slug(source.name))
    edited: list[str] = []
    for e in data:
        src = e.get("source")
        args = e.get("args") or {}
        if src == "user" and e.get("action") == "message":
            b.user(str(args.get("content") or e.get("message") or ""))
        elif src == "agent" and "action" in e:
            action = e["action"]
            thought = str(args.get("thought") or "").strip()
            if action in ("message", "finish"):
                b.assistant(str(args.get("content") or args.get("final_thought") or e.get("message") or thought))
                continue
            call = {k: v for k, v in args.items() if k in ("command", "path", "content", "url", "code", "file_text",
                                                         "old_str", "new_str", "start", "end") and v not in (None, "")}
            if action in ("edit", "write") and args.get("path"):
                if args["path"] not in edited:
                    edited.append(str(args["path"]))
            b.assistant(thought, [(str(action), call)])
        elif src == "agent" and "observation" in e and e["observation"] not in ("null", "agent_state_changed"):
            text = str(e.get("content") or "")
            b.observation(f"{e.get('message', '')}\n{text}".strip())
    return Run(source, "", b.done(), [Fact("file", p, source.name) for p in edited])


_BASH_BLOCK = re.compile(r"```(?:mswea_bash_command|bash)\n(.*?)```", re.S)


def _mini_swe(source: Source, data: list[dict[str, Any]], text_actions: bool = False) -> Run:
    b = _Builder(_slug(source.name))
    system = ""
    first_user = True
    last_obs = ""
    for m in data:
        role, content = m["role"], str(m.get("content") or "")
        if role == "system":
            system = content
        elif text_actions:
            (b.assistant if role == "assistant" else b.user)(content or "(no output)")
            last_obs = content if role == "user" else last_obs
        elif role == "assistant":
            blocks = _BASH_BLOCK.findall(content)
            thought = _BASH_BLOCK.sub("", content).strip()
            b.assistant(thought, [("bash", {"command": blk.strip()}) for blk in blocks[:1]])
        elif first_user:
            b.user(content)
            first_user = False
        else:
            b.observation(content)
            last_obs = content
    return Run(source, system, b.done(), [Fact("file", f, source.name) for f in _diff_files(last_obs)])


def _literal(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return value
    if isinstance(value, str) and value.startswith("["):
        try:
            out = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return []
        return out if isinstance(out, list) else []
    return []


def _diff_files(text: str) -> list[str]:
    out: list[str] = []
    for path in re.findall(r"^diff --git a/(\S+) b/", text.replace("\r", ""), re.M):
        if path not in out:
            out.append(path)
    return out


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", name.lower())[:12]


def load_run(root: str, source: Source, *, text_actions: bool = False) -> Run:
    """One run converted to Chat Completions messages: tool calls and tool results (default), or
    with ``text_actions`` as the SWE-agent and mini-swe-agent models saw them -- the command in
    the assistant's text, its output as the next user turn."""
    data = json.loads(read_source(root, source))
    if source.kind == "swe-agent":
        return _swe_agent(source, data, text_actions)
    if source.kind == "openhands":
        return _openhands(source, data)
    if source.kind == "mini-swe-agent":
        return _mini_swe(source, data, text_actions)
    raise ValueError(f"unknown source kind {source.kind!r}")


def load_runs(root: str, names: tuple[str, ...] | None = None, *, text_actions: bool = False) -> list[Run]:
    by_name = {s.name: s for s in SOURCES}
    return [load_run(root, by_name[n], text_actions=text_actions) for n in (names or tuple(by_name))]


# -- sessions ------------------------------------------------------------------------------------

@dataclass
class RealSession:
    name: str
    messages: list[dict[str, Any]]
    facts: list[Fact]
    sources: list[Source]


def single_session(run: Run) -> RealSession:
    """One run as a session, then the user asking for its outcome. The run's system prompt is left
    out: SWE-agent's (~1,400 tokens of command documentation) alone exceeds the 8x budget of most
    single runs, which would measure the prompt, not the compression."""
    ask = "What was the flag you captured?" if any(f.kind == "answer" for f in run.facts) else \
        "Which files did you change?"
    return RealSession(run.source.name, [*run.messages, {"role": "user", "content": ask}],
                       list(run.facts), [run.source])


def concatenated_session(runs: list[Run]) -> RealSession:
    """The runs one after the other in one conversation (the first run's system prompt heads it),
    ending with :data:`FINAL_QUESTION`."""
    system = next((r.system for r in runs if r.system), "You are a helpful agent.")
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
    facts: list[Fact] = []
    for run in runs:
        messages.extend(run.messages)
        facts.extend(run.facts)
    messages.append({"role": "user", "content": FINAL_QUESTION})
    return RealSession(f"{len(runs)} runs in one session", messages, facts, [r.source for r in runs])


def flat_text(messages: list[Any]) -> str:
    """Every readable string of ``messages`` (content, parts, tool-call names and decoded
    arguments) joined by newlines: what a fact is looked for in."""
    out: list[str] = []
    for m in messages:
        m = m if isinstance(m, dict) else m.model_dump(mode="json", exclude_unset=True)
        content = m.get("content")
        if isinstance(content, str):
            out.append(content)
        elif isinstance(content, list):
            out.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
        for call in m.get("tool_calls") or ():
            fn = call.get("function") or {}
            out.append(str(fn.get("name", "")))
            raw = str(fn.get("arguments", ""))
            try:
                args = json.loads(raw)
                out.extend(str(v) for v in (args.values() if isinstance(args, dict) else [args]))
            except ValueError:
                out.append(raw)
    return "\n".join(out)


def kept(facts: list[Fact], messages: list[Any]) -> list[Fact]:
    text = flat_text(messages)
    return [f for f in facts if f.key in text]
