"""Sweeps and walk-forward tests of stored history: the sweep checked before any work (names,
values, the number of combinations, the ranking metric), the symbol's stored candles loaded
once, and ``backtest.sweep`` run with the settings' timeframes and signal rules as the base
every combination changes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from cryptolens.backtest.params import run_params
from cryptolens.backtest.sweep import (
    Mode,
    SweepResult,
    SweepSpec,
    WalkForwardResult,
    parse_space,
    run_sweep,
    run_walk_forward,
)
from cryptolens.backtest.walkforward import walk_forward_splits
from cryptolens.config import Settings
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import DAY_MS
from cryptolens.services.backtests.run import BacktestRequest, stored_history

#: ``progress(done, total)``: backtests finished of those the sweep runs.
SweepProgress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class WalkForward:
    """Rolling windows: optimise over ``in_days``, score the next ``out_days``."""

    in_days: float
    out_days: float

    @classmethod
    def parse(cls, text: str) -> WalkForward:
        """``IN:OUT`` in days, e.g. ``90:30``."""
        first, sep, second = text.partition(":")
        try:
            parsed = cls(float(first), float(second)) if sep else None
        except ValueError:
            parsed = None
        if parsed is None or min(parsed.in_days, parsed.out_days) <= 0:
            raise ValidationError(
                f"walk-forward takes IN:OUT in days, both positive (e.g. 90:30), got {text!r}"
            )
        return parsed


def sweep_spec(
    settings: Settings,
    request: BacktestRequest,
    *,
    space: Sequence[str],
    metric: str = "sharpe",
    mode: Mode = "grid",
    count: int | None = None,
    seed: int = 0,
) -> SweepSpec:
    """The sweep, checked (every combination built) before any candle is read."""
    if not space:
        raise ValidationError("a sweep needs at least one name=values")
    chosen = run_params(request.params, signals=settings.signal_params())
    spec = SweepSpec(
        parse_space(space),
        settings.base_timeframe,
        settings.timeframes,
        metric=metric,
        mode=mode,
        count=count,
        seed=seed,
        signals=chosen.signals,
        execution=chosen.execution,
    )
    spec.setups()
    return spec


def run_stored_sweep(
    engine: Engine,
    settings: Settings,
    request: BacktestRequest,
    spec: SweepSpec,
    *,
    walk_forward: WalkForward | None = None,
    progress: SweepProgress | None = None,
) -> SweepResult | WalkForwardResult:
    """Rank ``spec``'s combinations over the request's stored candles, or walk forward."""
    splits = None
    if walk_forward is not None:
        splits = walk_forward_splits(
            request.since_ms,
            request.until_ms,
            in_sample_ms=round(walk_forward.in_days * DAY_MS),
            out_of_sample_ms=round(walk_forward.out_days * DAY_MS),
        )
    bases = {request.symbol: stored_history(engine, settings, request).base}
    if splits is None:
        return run_sweep(bases, spec, progress=progress)
    return run_walk_forward(bases, spec, splits, progress=progress)
