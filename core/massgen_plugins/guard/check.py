"""The live compression check: fill a real model's context past its window and watch the guard
detect the overflow, compress and succeed (MassGen's ``scripts/test_compression_backends.py``,
done as a command). With ``--emulator`` it runs offline against the bundled emulator.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ..types import Message, ToolCall

# backend -> (default model, default fill ratio), after MassGen's context-overflow test script's choices
BACKENDS: dict[str, tuple[str, float]] = {
    "openai": ("openai/gpt-4o-mini", 0.95),
    "anthropic": ("anthropic/claude-haiku-4-5-20251001", 1.5),
    "gemini": ("gemini/gemini-2.0-flash", 0.95),
    "groq": ("groq/llama-3.3-70b-versatile", 1.2),
    "xai": ("xai/grok-3-mini", 3.0),
    "nebius": ("nebius/meta-llama/Llama-3.3-70B-Instruct", 1.2),
    "openrouter": ("openrouter/openai/gpt-4o-mini", 0.95),
}
# small-window models of the emulator, so an offline check is quick
EMULATOR_MODELS: dict[str, str] = {
    "openai": "openai/gpt-4o-mini-8k",
    "anthropic": "anthropic/claude-tiny-8k",
    "gemini": "gemini/gemini-tiny-8k",
    "groq": "groq/llama-tiny-8k",
    "xai": "xai/grok-tiny-8k",
    "nebius": "nebius/emulator/tiny-8k",
    "openrouter": "openrouter/emulator/tiny-8k",
}


@dataclass
class CheckResult:
    backend: str
    model: str
    window: int | None
    filled_tokens: int = 0
    detection: str = "none"  # proactive, reactive, both, none
    stages: list[str] = field(default_factory=list)
    tokens_after: int | None = None
    ok: bool = False
    error: str | None = None
    seconds: float = 0.0
    events: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def backend_status() -> list[dict[str, Any]]:
    """Every known backend: default model and fill ratio, plugin installed, key present."""
    from ..providers import installed_providers

    installed = installed_providers()
    rows = []
    for name, (model, ratio) in BACKENDS.items():
        info = installed.get(name)
        key = bool(info and any(os.environ.get(v) for v in info.api_key_env))
        rows.append({"backend": name, "model": model, "fill_ratio": ratio, "installed": info is not None,
                     "key": key, "key_env": (info.api_key_env[0] if info and info.api_key_env else None)})
    return rows


def _filler(index: int) -> str:
    """Deterministic, realistic-looking file content (ids and numbers included)."""
    lines = [f"# module_{index}.py -- part of the service (rev {1000 + index})"]
    for line in range(60):
        lines.append(f"def handler_{index}_{line}(request_id='REQ-{index:04d}-{line:03d}', retries={line % 5}):"
                     f"  return compute(request_id, limit={index * 100 + line})")
    return "\n".join(lines)


def filled_conversation(model: str, target_tokens: int) -> list[Message]:
    """A tool-using history of about ``target_tokens`` (as counted for ``model``)."""
    from ..tokens import counter_for

    counter = counter_for(model)
    messages = [Message(role="system", content="You are a code reviewer. Answer briefly.")]
    index = 0
    while counter.count(messages) < target_tokens:
        call = ToolCall(id=f"call_{index}",
                        function={"name": "read_file", "arguments": json.dumps({"path": f"src/module_{index}.py"})})
        messages += [Message(role="user", content=f"Read src/module_{index}.py"),
                     Message(role="assistant", tool_calls=[call]),
                     Message(role="tool", tool_call_id=f"call_{index}", content=_filler(index)),
                     Message(role="assistant", content=f"module_{index}.py reviewed: no issues.")]
        index += 1
    return messages


async def check_compression(backend: str, *, model: str | None = None, fill_ratio: float | None = None,
                            window: int | None = None, mode: str = "reactive") -> CheckResult:
    """Fill ``model``'s window to ``fill_ratio`` and send one more turn through a Session.

    ``mode="reactive"`` lets the provider reject the over-full request (detection from its
    error); ``"proactive"`` has the guard count and compress before the call.
    """
    from ..registry import get_model_info
    from ..runlog import RunLog, read_run
    from .session import Session

    chosen = model or BACKENDS[backend][0]
    ratio = fill_ratio if fill_ratio is not None else BACKENDS.get(backend, ("", 1.3))[1]
    result = CheckResult(backend=backend, model=chosen, window=window)
    started = time.perf_counter()
    try:
        if result.window is None:
            result.window = get_model_info(chosen).context_window
        if not result.window:
            raise ValueError(f"the window of {chosen} is unknown; pass --window")
        history = filled_conversation(chosen, int(result.window * ratio))
        import tempfile

        with tempfile.TemporaryDirectory(prefix="massgen-check-") as tmp:
            log = RunLog.create(tmp, title=f"check compression {backend}")
            session = Session(chosen, memory=False, run_log=log, context_window=result.window,
                              proactive=(mode == "proactive"), retry={"base_delay": 0.2, "max_attempts": 3})
            session.messages = history
            from ..tokens import counter_for

            result.filled_tokens = counter_for(chosen).count(history)
            try:
                await session.send("Summarise the review so far in one sentence: which modules did you read?")
                result.ok = True
            finally:
                log.close()
            events = read_run(tmp).events
        modes = {e["mode"] for e in events if e["type"] == "overflow"}
        result.detection = "both" if len(modes) > 1 else (modes.pop() if modes else "none")
        compressions = [e for e in events if e["type"] == "compression"]
        result.stages = [e["stage"] for e in compressions]
        result.tokens_after = compressions[-1]["tokens_after"] if compressions else None
        result.events = [e["type"] for e in events if e["type"] in ("overflow", "compression", "retry", "fallback")]
    except Exception as exc:
        from ..redact import redact

        result.error = redact(f"{type(exc).__name__}: {exc}")[:500]
    result.seconds = time.perf_counter() - started
    return result
