"""One point per provider call, sized honestly, and each model's window: the data behind the
"tokens per call" charts of the HTML report and the explorer.

A call that failed or overflowed reports no usage (``usage`` is zero), yet it is the call that
matters most: it asked for more than the window. Its size is what it *requested*: the
``requested`` count of the ``overflow`` event the provider's rejection produced, else the
``input_tokens`` counted at its ``call_start`` (plus the reserved ``max_tokens``). The window of
a model is the largest limit an overflow event stated for it, else the registry's
``context_window``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["call_points", "model_windows"]


def model_windows(events: list[dict[str, Any]], *, registry: bool = True) -> dict[str, int]:
    """``model -> window`` for every model that made a call or overflowed."""
    windows: dict[str, int] = {}
    for e in events:
        if e.get("type") == "overflow" and isinstance(e.get("limit"), int) and e.get("model"):
            windows[str(e["model"])] = max(windows.get(str(e["model"]), 0), int(e["limit"]))
    if registry:
        from .pricing import model_facts

        for model in {str(e.get("model")) for e in events if e.get("type") == "call_end" and e.get("model")}:
            if model not in windows:
                facts = model_facts(model)
                window = facts.get("context_window") if facts else None
                if isinstance(window, int) and window > 0:
                    windows[model] = window
    return windows


def call_points(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``{seq, agent, model, t_ms, start_ms, input, output, requested, size, outcome, attempt,
    latency_ms, error_kind}`` per ``call_end``, in event order. ``size`` is what the chart draws:
    input + output for a call that answered, ``requested`` for one that did not."""
    starts: dict[str, dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []  # failed calls still waiting for their overflow event
    for e in events:
        kind = e.get("type")
        if kind == "call_start" and e.get("call_id"):
            starts[str(e["call_id"])] = e
        elif kind == "call_end":
            usage = e.get("usage") or {}
            tin, tout = int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
            start = starts.get(str(e.get("call_id")), {})
            counted = start.get("input_tokens")
            requested = int(counted) + int(start.get("max_tokens") or 0) if isinstance(counted, int) else None
            t = float(e.get("elapsed_ms") or 0.0)
            latency = float(e.get("latency_ms") or 0.0)
            point = {
                "seq": e.get("seq"), "agent": e.get("agent"), "model": e.get("model"), "t_ms": t,
                "start_ms": max(0.0, t - latency), "input": tin, "output": tout, "requested": requested,
                "outcome": e.get("outcome", "ok"), "attempt": e.get("attempt", 1), "latency_ms": latency,
                "error_kind": e.get("error_kind"),
            }
            out.append(point)
            if point["outcome"] != "ok" and not (tin or tout):
                pending.append(point)
        elif kind == "overflow" and e.get("mode") == "reactive":
            match = next((p for p in reversed(pending) if p["agent"] == e.get("agent")
                          and p["model"] == e.get("model")), None)
            if match is not None and isinstance(e.get("requested"), int):
                match["requested"] = int(e["requested"])
                pending.remove(match)
    for p in out:
        answered = p["input"] + p["output"]
        p["size"] = answered if answered or p["outcome"] == "ok" else int(p["requested"] or 0)
    return out
