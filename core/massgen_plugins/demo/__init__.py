"""``massgen-plugins demo``: the main job, offline (see :mod:`.scenario` for the stages)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..formatting import plural
from .scenario import ANALYSIS_MODEL, LIVE_KEYS, DemoResult, StageResult, run_scenario

__all__ = ["DemoResult", "check_live_keys", "run_demo"]

# real keys must never reach the emulator, and emulator keys never a real provider
_PROVIDER_ENV = ("OPENAI", "ANTHROPIC", "GEMINI", "GOOGLE", "GROQ", "XAI", "NEBIUS", "OPENROUTER")


@contextlib.contextmanager
def offline_providers() -> Iterator[Any]:
    """Start the emulator and point every provider's SDK at it for the duration."""
    from ..manager import reset_host
    from ..testing import Emulator

    saved = dict(os.environ)
    with Emulator() as emulator:
        for prefix in _PROVIDER_ENV:
            for suffix in ("_API_KEY", "_BASE_URL"):
                os.environ.pop(prefix + suffix, None)
        os.environ.update(emulator.env())
        reset_host()
        try:
            yield emulator
        finally:
            os.environ.clear()
            os.environ.update(saved)


def check_live_keys() -> None:
    """Raise :class:`~massgen_plugins.errors.MissingCredentialsError` (exit 2 on the CLI) naming
    every key and plugin a live demo lacks, before anything starts."""
    from ..errors import MissingCredentialsError
    from ..providers import installed_providers

    installed = set(installed_providers())
    plugins = [f"massgen-plugins-{p}" for p in LIVE_KEYS if p not in installed]
    keys = [" or ".join(names) for names in LIVE_KEYS.values() if not any(os.environ.get(n) for n in names)]
    if plugins or keys:
        needs = ([f"set {', '.join(keys)}"] if keys else []) + ([f"pip install {' '.join(plugins)}"] if plugins else [])
        raise MissingCredentialsError(
            f"demo --live calls OpenAI, Anthropic and Gemini with your keys: {'; '.join(needs)} "
            "(or run `massgen-plugins demo` without --live to use the bundled emulator)")


def run_demo(run_dir: Path | None = None, *, live: bool = False, say: Any = print) -> DemoResult:
    """Run the scenario (offline unless ``live``), then analyse the run; returns what happened."""
    from ..runlog import new_run_id, runs_root

    if live:
        check_live_keys()

    directory = Path(run_dir) if run_dir is not None else runs_root() / f"demo-{new_run_id()}"
    directory.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        emulator = None if live else stack.enter_context(offline_providers())
        say(f"run directory: {directory}")
        say("providers: " + ("real (your API keys)" if emulator is None else f"bundled emulator at {emulator.url}"))
        result = asyncio.run(run_scenario(emulator, directory, say))
        result.stages.append(_analyse(result, say))
    return result


def _analyse(result: DemoResult, say: Any) -> StageResult:
    """``logs analyze`` on the run itself: deterministic analysis plus an LLM self-analysis."""
    from ..runlog.analyze import analyze_run_sync

    outcome = analyze_run_sync(result.run_dir, model=ANALYSIS_MODEL)
    from ..runlog.writer import write_private_text

    result.report = write_private_text(result.run_dir / "analysis.md", outcome.markdown())
    result.html = write_private_text(result.run_dir / "report.html", outcome.html())
    deterministic = outcome.deterministic
    ok = deterministic is not None and outcome.self_analysis is not None
    detail = (f"{plural(len(deterministic.findings), 'finding')}; reports: {result.report.name}, {result.html.name}"
              if ok and deterministic else f"analyzers failed: {outcome.errors}")
    say(f"{'✔' if ok else '✘'} self-analysis: {detail}")
    return StageResult("self-analysis", ok, detail)
