"""A hanging, raising or wrong-typed plugin never stalls a session, and is reported.

A throwaway plugin distribution ("misbehave") implements ``detect_overflow``, ``compress`` and
``count_tokens`` badly -- blocking forever in a plain function, awaiting forever in an ``async
def``, raising, or returning the wrong type, as ``MISBEHAVE_MODE`` says. It is pip-installed into
a throwaway virtual environment (as ``tests/test_loader.py`` does), where a child process runs two
agents on one event loop against the emulator:

* agent A (``openai/gpt-test-2k``) starts over its window, so the compression chain and the final
  ``count_tokens`` run, and its first call gets an injected 500, so ``detect_overflow`` runs;
* agent B (Anthropic) sends a plain turn as soon as A is inside a misbehaving hook.

The test proves A's ``send`` completes, every misbehaving hook is skipped with a
``plugin_skipped`` run-log event and a warning line naming the plugin, and, for the hanging
modes, that B's turn finished while A was still waiting on the hung hook.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
from massgen_plugins.testing import Fault
from massgen_plugins.testing.venvs import plugin_source, venv_with_plugins

pytestmark = [pytest.mark.slow, pytest.mark.plugins("openai", "anthropic")]

PLUGIN = textwrap.dedent(
    '''
    """Misbehaves in detect_overflow, compress and count_tokens as MISBEHAVE_MODE says."""
    import asyncio
    import os
    import pathlib
    import time

    from massgen_plugins import hookimpl
    from massgen_plugins.stages import compression_stage

    MODE = os.environ.get("MISBEHAVE_MODE", "")
    MARK = os.environ.get("MISBEHAVE_MARK", "")


    def _enter(hook):
        if MARK:
            pathlib.Path(MARK, hook).touch()


    def _misbehave(hook):
        _enter(hook)
        if MODE == "hang":
            time.sleep(3600)
        if MODE == "raise":
            raise RuntimeError(f"{hook} exploded")
        if MODE == "wrong":
            return ["not", "a", hook, "result"]
        return None


    async def _amisbehave(hook):
        _enter(hook)
        await asyncio.sleep(3600)


    if MODE == "async-hang":
        @hookimpl
        async def detect_overflow(error, provider, model):
            return await _amisbehave("detect_overflow")

        @hookimpl
        @compression_stage("misbehave", order=10)  # first in the chain
        async def compress(request):
            return await _amisbehave("compress")

        @hookimpl
        async def count_tokens(request):
            return await _amisbehave("count_tokens")
    else:
        @hookimpl
        def detect_overflow(error, provider, model):
            return _misbehave("detect_overflow")

        @hookimpl
        @compression_stage("misbehave", order=10)  # first in the chain
        def compress(request):
            return _misbehave("compress")

        @hookimpl
        def count_tokens(request):
            return _misbehave("count_tokens")
    '''
)

CHILD = textwrap.dedent(
    '''
    import asyncio, json, os, pathlib, sys, time

    from massgen_plugins.guard import Session
    from massgen_plugins.hookreport import observe
    from massgen_plugins.runlog import read_run
    from massgen_plugins.types import Message

    BIG = "The build log says: step {i} compiled module_{i}.py with 0 errors and 3 warnings. " * 40
    mark = pathlib.Path(os.environ["MISBEHAVE_MARK"])
    out = {"skips": []}


    def history(n):
        rows = []
        for i in range(n):
            call = {"id": f"call_{i}", "type": "function",
                    "function": {"name": "read_log", "arguments": json.dumps({"i": i})}}
            rows += [Message(role="user", content=f"Check build step {i}."),
                     Message(role="assistant", tool_calls=[call]),
                     Message(role="tool", tool_call_id=f"call_{i}", content=BIG.format(i=i)),
                     Message(role="assistant", content=f"Step {i} is fine.")]
        return rows


    async def agent_a():
        session = Session("openai/gpt-test-2k", memory=False, run_log=sys.argv[1],
                          retry={"base_delay": 0.01, "max_delay": 0.05, "max_attempts": 3})
        session.messages = history(4)
        with observe(lambda a: out["skips"].append([a.hook, a.plugin, a.status, time.monotonic()])):
            reply = await session.send("Summarise the state of the build.")
        out["a_reply"] = reply.message.content
        out["a_done"] = time.monotonic()
        events = read_run(session._log.path).events
        out["events"] = [e for e in events if e["type"] == "plugin_skipped"]
        out["compression_skipped"] = [s for e in events if e["type"] == "compression" for s in e.get("skipped", [])]


    async def agent_b(session):
        while not any(mark.iterdir()):  # wait until A is inside a misbehaving hook
            await asyncio.sleep(0.005)
        out["b_started"] = time.monotonic()
        reply = await session.send("Are you there?")
        out["b_reply"] = reply.message.content
        out["b_done"] = time.monotonic()


    async def main():
        b = Session("anthropic/claude-haiku-4-5", memory=False, run_log=False)
        await b.send("Warm up.")  # the SDK imported and the client built before the race starts
        await asyncio.gather(agent_a(), agent_b(b))


    asyncio.run(main())
    print(json.dumps(out))
    '''
)


@pytest.fixture(scope="module")
def misbehave_env(tmp_path_factory) -> Path:
    """A virtual environment with the misbehaving plugin really installed; returns its python."""
    root = tmp_path_factory.mktemp("misbehave-env")
    source = plugin_source(root, dist="massgen-plugins-misbehave", package="massgen_plugins_misbehave",
                           entry_point="misbehave", code=PLUGIN)
    python = venv_with_plugins(root, [source])
    (root / "child.py").write_text(CHILD)
    return python


def run_agents(python: Path, emu, tmp_path: Path, mode: str) -> tuple[dict, str]:
    mark = tmp_path / "entered"
    mark.mkdir()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MASSGEN_PLUGINS_")}
    environ.update(emu.env())
    environ.update({
        "MASSGEN_PLUGINS_HOME": str(tmp_path / "home"),
        "MISBEHAVE_MODE": mode,
        "MISBEHAVE_MARK": str(mark),
        # detect_overflow is the first hook A reaches (after the injected 500): B's turn races its
        # deadline, so that one is generous enough for a loaded machine
        "MASSGEN_PLUGINS_HOOK_DEADLINES": "detect_overflow=5,count_tokens=2,compress=2",
    })
    child = python.parent.parent.parent / "child.py"
    result = subprocess.run([str(python), str(child), str(tmp_path / "run")], capture_output=True, text=True,
                            env=environ, timeout=600)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


EXPECTED = {"hang": "timeout", "async-hang": "timeout", "raise": "error", "wrong": "rejected"}


@pytest.mark.parametrize("mode", sorted(EXPECTED))
def test_misbehaving_hooks_are_skipped_reported_and_block_nobody(misbehave_env, emu, tmp_path, mode):
    emu.inject(Fault(kind="server_error", provider="openai", times=1))
    out, stderr = run_agents(misbehave_env, emu, tmp_path, mode)

    assert out["a_reply"] and out["b_reply"]  # both sends completed
    status = EXPECTED[mode]
    reported = {(e["hook"], e["status"]) for e in out["events"] if e["plugin"] == "misbehave"}
    # detect_overflow and count_tokens are reported as plugin_skipped events in every mode ...
    assert {("detect_overflow", status), ("count_tokens", status)} <= reported, out["events"]
    warned = [line for line in stderr.splitlines() if "plugin 'misbehave'" in line]
    assert any("detect_overflow" in line for line in warned), stderr
    assert any("count_tokens" in line for line in warned), stderr
    # ... and compress the way the compression chain reports a stage: in the compression event
    stage = [s for s in out["compression_skipped"] if s["stage"] == "misbehave"]
    assert stage, out["compression_skipped"]
    if mode != "wrong":
        assert ("compress", status) in reported
        assert any("compress" in line for line in warned), stderr
    if mode in ("hang", "async-hang"):
        # each was waited for up to its deadline (or, after three misses, not called again)
        assert all(e["seconds"] >= 2 or e["reason"].startswith("not called")
                   for e in out["events"] if e["plugin"] == "misbehave")
        # B's whole turn ran while A waited on the hung hook: the event loop was never blocked
        first_timeout = min(t for hook, plugin, st, t in out["skips"] if plugin == "misbehave" and st == "timeout")
        assert out["b_started"] < out["b_done"] < first_timeout


@pytest.mark.parametrize("mode", ["hang", "wrong"])
def test_tokens_json_names_the_skipped_count_tokens_plugin(misbehave_env, tmp_path, mode):
    conversation = tmp_path / "conv.json"
    conversation.write_text(json.dumps([{"role": "user", "content": "How many tokens is this?"}]))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MASSGEN_PLUGINS_")}
    environ.update({"MASSGEN_PLUGINS_HOME": str(tmp_path / "home"), "MISBEHAVE_MODE": mode,
                    "MASSGEN_PLUGINS_HOOK_DEADLINES": "count_tokens=1"})
    result = subprocess.run([str(misbehave_env), "-m", "massgen_plugins", "tokens", str(conversation),
                             "--model", "openai/gpt-4o", "--json"], capture_output=True, text=True, env=environ,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["tokens"] > 0 and data["counted_by"] != "misbehave"
    [skipped] = data["skipped"]
    assert skipped["plugin"] == "misbehave" and skipped["hook"] == "count_tokens"
    assert skipped["status"] == {"hang": "timeout", "wrong": "rejected"}[mode]
    assert "plugin 'misbehave'" in result.stderr and "count_tokens" in result.stderr
