"""Compression inside a guarded turn: run the chain toward a budget, archive what it removed,
log it, and make another provider's native compaction items portable before a cross-provider
call.

The summarizer the chain may call gets the session's credentials and retry policy through
:func:`~massgen_plugins.compression.access.summarizer_access`, never through the strategy
options (which are logged).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..redact import redact
from .portable import expand, foreign_compactions

if TYPE_CHECKING:
    from ..types import ProviderSettings
    from .config import AgentConfig
    from .limits import ModelLimits
    from .session_memory import SessionMemory
    from .turn import TurnState

Emit = Callable[..., None]
#: the smallest window the summarize stage accepts for its summarizer
MIN_SUMMARIZER_WINDOW = 512


def split_strategy(value: str | dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(preset name, overrides)`` of a configured strategy."""
    if isinstance(value, str):
        return value, {}
    overrides = dict(value)
    return str(overrides.pop("name", "balanced")), overrides


class Compressor:
    """Runs the compression chain for one session."""

    def __init__(self, config: AgentConfig, limits: ModelLimits, memory: SessionMemory, *,
                 tools: Callable[[], list[dict[str, Any]]], settings: Callable[[str], ProviderSettings],
                 emit: Emit) -> None:
        self.config = config
        self.limits = limits
        self.memory = memory
        self.tools = tools
        self.settings = settings
        self.emit = emit

    def options(self, model: str, exclude: tuple[str, ...] = (), window: int | None = None) -> tuple[str, dict[str, Any]]:
        """The strategy name and options for compressing toward ``model`` (whose window the caller
        may already know: ``window``)."""
        from ..compression.strategy import ALL_STAGES, resolve_strategy

        strategy, overrides = split_strategy(self.config.strategy)
        if self.config.summarizer_model:
            overrides.setdefault("summarizer_model", self.config.summarizer_model)
        summarizer = overrides.get("summarizer_model") or model
        excluded = set(exclude)
        if "summarizer_window" not in overrides:
            if summarizer != model or window is None:
                window = self.limits.window(summarizer)  # incl. windows learned from errors
            if window and window >= MIN_SUMMARIZER_WINDOW:
                overrides["summarizer_window"] = window
            elif window:
                excluded.add("summarize")  # no summary fits a window this small: the other stages may
        if excluded:
            allowed = resolve_strategy(strategy, overrides).stages or list(ALL_STAGES)
            overrides["stages"] = [s for s in allowed if s not in excluded]
        return strategy, overrides

    async def compress(self, model: str, state: TurnState, budget: int, *, window: int | None = None,
                       exclude: tuple[str, ...] = ()) -> tuple[bool, int | None]:
        """Run the chain toward ``budget``: ``(fits, tokens after as the chain counted them)``.

        ``tokens after`` is ``None`` when nothing ran (a summarizer's own call never compresses
        itself; the turn's quota is used up; the chain could not start).
        """
        from ..compression import CannotFitError, compress_conversation, compression_active
        from ..compression.access import summarizer_access

        if compression_active() or state.compressions >= self.config.max_compressions_per_turn:
            return False, None
        state.compressions += 1
        try:
            strategy, options = self.options(model, exclude, window)
            with summarizer_access(self.settings, self.config.retry):
                report = await compress_conversation(state.messages, model=model, budget=budget, strategy=strategy,
                                                     tools=self.tools(), options=options, archive=self.memory.archive)
        except CannotFitError as exc:
            report = exc.report
            if report is None:
                self.emit("error", kind="cannot_fit", message=redact(str(exc)), model=model)
                return False, None
        except InputError as exc:  # e.g. a window too small for any stage's options: fall back, never crash
            self.emit("error", kind="cannot_fit", message=redact(str(exc)), model=model)
            return False, None
        changed = bool(report.messages) and report.messages != state.messages
        if changed:
            state.messages = list(report.messages)
            state.compressed = True
        state.archived.extend(report.archive)
        self.memory.keep(report.archive)
        self.emit(
            "compression", stage=(report.ran[-1] if report.ran else "none"), model=model,
            strategy=report.strategy.name, budget=budget, tokens_before=report.tokens_before,
            tokens_after=report.tokens_after, duration_ms=report.seconds * 1000,
            archived_ids=[a.id for a in report.archive], stages_tried=[s.name for s in report.stages],
            skipped=[{"stage": s.name, "reason": redact(s.reason or s.status)}
                     for s in report.stages if s.status in ("skipped", "rejected")],
            fits=report.fits,
        )
        return bool(report.fits), report.tokens_after

    async def make_portable(self, model: str, state: TurnState) -> None:
        """Replace another provider's compaction items before calling ``model``, then let the
        chain (native stage off) summarise the originals within ``model``'s budget."""
        provider = model.split("/", 1)[0]
        if not foreign_compactions(state.messages, provider):
            return
        expanded, replaced = expand(state.messages, self.memory.archive, provider)
        state.messages = expanded
        state.compressed = True
        self.emit("note", message=f"regenerating a portable summary for {model}: {replaced} native "
                  "compaction item(s) replaced by their archived originals")
        plan = self.limits.plan(model, None, state.messages, self.tools())
        if plan.budget is not None and plan.tokens > plan.budget * self.config.trigger_ratio:
            state.compressions = max(0, state.compressions - 1)  # regeneration does not use up the turn's quota
            await self.compress(model, state, plan.budget, window=plan.window, exclude=("native",))
