"""Guard overhead per call: ``Session.send`` vs the raw SDK call, same emulator endpoint.

Interleaves, call by call, against the bundled emulator on 127.0.0.1 (so the network and the
server cost the same for every row):

* raw ``openai.AsyncOpenAI().chat.completions.create`` -- the baseline;
* ``Session.send`` with the guard's per-call work: incremental token count, window check,
  classification hooks ready, run-log events (memory off);
* the same with SQLite memory on: every turn persisted before ``send`` returns, with
  ``synchronous=full`` (an fsync per turn: survives power loss) and ``synchronous=normal``
  (survives a killed process; the bar is about the guard, these rows show what durability costs);
* the guard alone: ``Session.send`` against a provider plugin that answers at once (its
  ``complete`` declared ``async def``, as the bundled providers declare theirs), compared with
  the raw call of the same run; and the same with a plain-function ``complete``, which the host
  runs on a worker thread under the hook's deadline;
* the openai plugin alone: its ``complete`` hook called directly with a ready request (the
  request building, the SDK call through the plugin's cached client and the response parsing,
  no guard), against the raw call of the same run;
* LiteLLM ``acompletion`` as a peer, when ``litellm`` is installed (``pip install litellm``).

Every call sends the same conversation (a system prompt and 20 earlier turns) plus one new user
message. Bar: guard overhead ≤ 1 ms median and ≤ 5 %.

    python bench/overhead.py [--calls 300]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time

import click
from rich.console import Console
from rich.table import Table

MODEL = "gpt-4o-mini"


class InstantProvider:
    """A provider plugin that answers at once: ``Session.send`` against it is the guard's own work.

    ``complete`` is declared ``async def``, as the bundled provider plugins declare theirs.
    """

    @staticmethod
    def register_providers():
        return {"name": "instant", "api_key_env": []}

    @staticmethod
    async def complete(request, settings):
        from massgen_plugins.types import CompletionResponse, Message

        return CompletionResponse(model=request.model, message=Message(role="assistant", content="ok"))


class PlainInstantProvider:
    """The same, with ``complete`` a plain function returning an awaitable (the other form the
    hook allows): the host runs it on a worker thread under the ``complete`` deadline."""

    @staticmethod
    def register_providers():
        return {"name": "instant-plain", "api_key_env": []}

    @staticmethod
    def complete(request, settings):
        return InstantProvider.complete(request, settings)


def _register_instant() -> None:
    from massgen_plugins import hookimpl
    from massgen_plugins.manager import get_host

    pm = get_host().pm
    for plugin, plugin_name in ((InstantProvider, "bench-instant"), (PlainInstantProvider, "bench-instant-plain")):
        for name in ("register_providers", "complete"):
            hookimpl(getattr(plugin, name))
        if pm.get_plugin(plugin_name) is None:
            pm.register(plugin(), name=plugin_name)  # the provider table is rebuilt on the next call


def _history():
    from massgen_plugins.types import Message

    out = [Message(role="system", content="You are a careful assistant.")]
    for i in range(20):
        out += [Message(role="user", content=f"Question {i}: what is the status of ticket T-{i:04d}?"),
                Message(role="assistant", content=f"Ticket T-{i:04d} is open and assigned to team {i % 4}.")]
    return out


async def _measure(calls: int, with_litellm: bool) -> dict[str, list[float]]:
    import openai
    from massgen_plugins.guard import Session

    base = _history()
    raw_messages = [m.model_dump(exclude_none=True) for m in base]
    client = openai.AsyncOpenAI(max_retries=0)
    tmp = tempfile.mkdtemp(prefix="massgen-bench-")
    guarded = Session(f"openai/{MODEL}", memory=False, run_log=os.path.join(tmp, "run"))
    persisted = Session(f"openai/{MODEL}", memory=f"sqlite:///{tmp}/memory.db", run_log=os.path.join(tmp, "run2"))
    relaxed = Session(f"openai/{MODEL}", memory=f"sqlite:///{tmp}/memory2.db?synchronous=normal",
                      run_log=os.path.join(tmp, "run3"))
    samples: dict[str, list[float]] = {"raw SDK call (baseline)": [], "Session.send (guard, log)": [],
                                       "  + SQLite memory, synchronous=full (fsync per turn)": [],
                                       "  + SQLite memory, synchronous=normal": []}
    litellm = None
    if with_litellm:
        try:
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            import litellm as _litellm

            litellm = _litellm
            samples["LiteLLM acompletion (peer)"] = []
        except ImportError:
            litellm = None

    async def raw(i: int) -> None:
        await client.chat.completions.create(model=MODEL, messages=[*raw_messages, {"role": "user", "content": f"q{i}"}],
                                             max_tokens=256)

    async def session_call(session: Session, i: int) -> None:
        session.messages = list(base)
        await session.send(f"q{i}", max_tokens=256)

    async def peer(i: int) -> None:
        await litellm.acompletion(model=f"openai/{MODEL}", api_base=os.environ["OPENAI_BASE_URL"],
                                  api_key=os.environ["OPENAI_API_KEY"], max_tokens=256,
                                  messages=[*raw_messages, {"role": "user", "content": f"q{i}"}])

    import massgen_plugins_openai
    from massgen_plugins.providers import resolve_settings
    from massgen_plugins.types import CompletionRequest, Message

    settings = resolve_settings("openai")
    requests = [CompletionRequest(model=f"openai/{MODEL}", messages=[*base, Message(role="user", content=f"q{i}")],
                                  max_tokens=256, timeout=60.0) for i in range(calls + 10)]

    async def plugin_alone(i: int) -> None:
        await massgen_plugins_openai.complete(requests[i], settings)

    _register_instant()
    instant = Session("instant/echo", memory=False, run_log=os.path.join(tmp, "run4"), context_window=128_000)
    plain = Session("instant-plain/echo", memory=False, run_log=os.path.join(tmp, "run5"), context_window=128_000)
    samples["guard alone: Session.send, instant provider"] = []
    samples["  same, plain-def complete (worker-thread hop)"] = []
    samples["openai plugin alone: its complete hook, no guard"] = []
    runners = [("raw SDK call (baseline)", raw),
               ("Session.send (guard, log)", lambda i: session_call(guarded, i)),
               ("  + SQLite memory, synchronous=full (fsync per turn)", lambda i: session_call(persisted, i)),
               ("  + SQLite memory, synchronous=normal", lambda i: session_call(relaxed, i)),
               ("guard alone: Session.send, instant provider", lambda i: session_call(instant, i)),
               (None, raw),  # not timed: the next row starts after an HTTP call too, as the one above does
               ("  same, plain-def complete (worker-thread hop)", lambda i: session_call(plain, i)),
               ("openai plugin alone: its complete hook, no guard", plugin_alone)]
    if litellm is not None:
        runners.append(("LiteLLM acompletion (peer)", peer))
    for warm in range(10):  # imports, connection pools, caches
        for _, run in runners:
            await run(warm)
    for i in range(calls):
        for name, run in runners:
            started = time.perf_counter()
            await run(i)
            if name is not None:
                samples[name].append((time.perf_counter() - started) * 1000)
    for session in (guarded, persisted, relaxed, instant, plain):
        session.close()
    return samples


@click.command()
@click.option("--calls", default=300, show_default=True, help="Timed calls per row.")
@click.option("--no-litellm", is_flag=True, help="Skip the LiteLLM peer even if installed.")
def main(calls: int, no_litellm: bool) -> None:
    from massgen_plugins.testing import Emulator

    with Emulator() as emulator:
        os.environ.update(emulator.env())
        os.environ.setdefault("MASSGEN_PLUGINS_HOME", tempfile.mkdtemp(prefix="massgen-home-"))
        samples = asyncio.run(_measure(calls, not no_litellm))
    base = statistics.median(samples["raw SDK call (baseline)"])
    table = Table(title=f"guard overhead per call, {calls} interleaved calls each, emulator on 127.0.0.1")
    for column in ("path", "median ms", "p95 ms", "overhead (median)", "bar", "verdict"):
        table.add_column(column)
    for name, values in samples.items():
        median = statistics.median(values)
        p95 = statistics.quantiles(values, n=20)[18]
        extra, share = median - base, (median - base) / base * 100
        is_guard = name.startswith("Session.send (guard, log)")
        verdict = ("meets bar" if extra <= 1.0 and share <= 5 else "MISSES bar") if is_guard else ""
        alone = name.startswith(("guard alone", "  same, plain"))
        if alone:
            extra, share = median, median / base * 100
            verdict = "meets bar" if extra <= 1.0 and share <= 5 else "MISSES bar"
        table.add_row(name, f"{median:.2f}", f"{p95:.2f}",
                      "—" if name.startswith("raw") else f"{extra:+.2f} ms ({share:+.1f} %)",
                      "≤ 1 ms and ≤ 5 %" if is_guard or alone else "", verdict)
    Console().print(table)


if __name__ == "__main__":
    main()
