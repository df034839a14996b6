"""Compression strategies: how much recent context stays verbatim, which stages may run, and
how far below the budget the chain aims.

Three presets; every field can be overridden per call (``options=`` / ``strategy={...}``) and
per agent (merge the agent's overrides with :func:`resolve_strategy`):

=============  ==================  ================  ============  ===========  ===========================
strategy       keep_recent_tokens  keep_recent_share  target_ratio  mask_min     stages
=============  ==================  ================  ============  ===========  ===========================
conservative   20 000              0.50              0.95          2 000        all five
balanced       8 000               0.35              0.85          500          all five
aggressive     2 000               0.20              0.60          150          mask summarize extract truncate
=============  ==================  ================  ============  ===========  ===========================

* ``keep_recent_tokens`` -- the newest turn units kept verbatim (the latest unit always is),
  capped at ``keep_recent_share`` of the budget so small budgets still leave room.
* ``target_ratio`` -- stages stop once the conversation is at most ``budget * target_ratio``
  (head-room so the next turns do not trigger compression again); the result is always checked
  against the budget itself.
* ``mask_min_tokens`` -- old tool results at least this large are masked first.
* ``stages`` -- allowed stage names (``None`` = every installed stage). ``aggressive`` skips
  native compaction: its output keeps every user message and is opaque to other providers,
  while aggressive wants a small, portable result.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..errors import InputError

ALL_STAGES = ("mask", "native", "summarize", "extract", "truncate")


class Strategy(BaseModel):
    """Parameters of one compression run (see the module doc for the presets)."""

    model_config = ConfigDict(extra="forbid")

    name: str = "balanced"
    keep_recent_tokens: int = Field(default=8_000, ge=0)
    keep_recent_share: float = Field(default=0.35, gt=0, le=1)
    target_ratio: float = Field(default=0.85, gt=0, le=1)
    mask_min_tokens: int = Field(default=500, ge=1)
    stages: list[str] | None = Field(default=None, description="Allowed stage names; None = all.")
    summarizer_model: str | None = Field(default=None, description="provider/model; default: the conversation's.")
    summarizer_window: int | None = Field(default=None, ge=512, description="Override the summarizer's window.")
    summary_max_tokens: int = Field(default=2_000, ge=64)
    summarizer_timeout: float = Field(default=120.0, gt=0)
    truncate_min_tokens: int = Field(default=64, ge=8, description="Never truncate a message below this.")

    def allows(self, stage: str) -> bool:
        return self.stages is None or stage in self.stages

    def keep_recent(self, budget: int) -> int:
        """Tokens of recent context kept verbatim for a given budget."""
        return int(min(self.keep_recent_tokens, self.keep_recent_share * budget))

    def target(self, budget: int) -> int:
        return max(1, int(budget * self.target_ratio))


PRESETS: dict[str, Strategy] = {
    "conservative": Strategy(
        name="conservative", keep_recent_tokens=20_000, keep_recent_share=0.5, target_ratio=0.95,
        mask_min_tokens=2_000,
    ),
    "balanced": Strategy(name="balanced"),
    "aggressive": Strategy(
        name="aggressive", keep_recent_tokens=2_000, keep_recent_share=0.2, target_ratio=0.6,
        mask_min_tokens=150, summary_max_tokens=1_000, stages=["mask", "summarize", "extract", "truncate"],
    ),
}


def resolve_strategy(base: str | Strategy | dict[str, Any] | None = None, *overrides: Any) -> Strategy:
    """A :class:`Strategy` from a preset name, a dict (``{"name": "aggressive", ...}``) or an
    instance, with each of ``overrides`` (dicts or strategies; ``None`` skipped) applied on top,
    in order -- e.g. ``resolve_strategy("balanced", agent_overrides, call_options)``.

    :raises InputError: for an unknown preset or an unknown/invalid field.
    """
    from pydantic import ValidationError

    if base is None:
        base = "balanced"
    if isinstance(base, Strategy):
        strategy = base
    elif isinstance(base, str):
        if base not in PRESETS:
            raise InputError(f"unknown strategy {base!r}; choose one of: {', '.join(PRESETS)}")
        strategy = PRESETS[base]
    elif isinstance(base, dict):
        strategy = resolve_strategy(base.get("name", "balanced"), {k: v for k, v in base.items() if k != "name"})
    else:
        raise InputError(f"a strategy is a name, a dict or a Strategy, not {type(base).__name__}")
    for override in overrides:
        if override is None:
            continue
        data = override.model_dump(exclude_unset=True) if isinstance(override, Strategy) else dict(override)
        known = {k: v for k, v in data.items() if k in Strategy.model_fields}
        unknown = sorted(set(data) - set(known))
        if unknown and not isinstance(override, Strategy):
            raise InputError(
                f"unknown strategy option(s) {', '.join(unknown)}; known: {', '.join(Strategy.model_fields)}")
        try:
            strategy = Strategy.model_validate({**strategy.model_dump(), **known})
        except ValidationError as exc:
            raise InputError(f"invalid strategy option: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}") from None
    if strategy.stages is not None:
        bad = [s for s in strategy.stages if not s.replace("_", "").replace("-", "").isalnum()]
        if bad:
            raise InputError(f"invalid stage name(s): {', '.join(bad)}")
    return strategy
