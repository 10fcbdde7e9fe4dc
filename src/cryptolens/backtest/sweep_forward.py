"""The walk-forward loop over sweeps: optimise in sample, score out of sample, split by split,
with divergence warnings and the out-of-sample windows stitched into one test (see
``sweep``'s docstring for how windows are scored and why the bases are sliced)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from cryptolens.backtest.engine import BacktestResult, BacktestTrade
from cryptolens.backtest.metrics import Metrics, compute_metrics
from cryptolens.backtest.sweep import (
    MAX_WALK_FORWARD_RUNS,
    PrepareCache,
    Progress,
    SweepSpec,
    _checked_bases,
    _rank,
    _Runner,
    window_equity,
)
from cryptolens.backtest.walkforward import DEFAULT_MIN_FRACTION, Split, Value, divergence
from cryptolens.detect import Candles
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import timeframe_ms


@dataclass(frozen=True, slots=True)
class SplitResult:
    """One split: the best in-sample combination and how it did out of sample."""

    split: Split
    params: dict[str, Value]
    in_sample: Metrics
    out_of_sample: Metrics
    in_score: float | None
    out_score: float | None
    #: Set when the out-of-sample result falls apart from the in-sample one.
    warning: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "split": asdict(self.split),
            "params": dict(self.params),
            "in_score": self.in_score,
            "out_score": self.out_score,
            "warning": self.warning,
            "in_sample": asdict(self.in_sample),
            "out_of_sample": asdict(self.out_of_sample),
        }


@dataclass(frozen=True, slots=True)
class WalkForwardResult:
    metric: str
    splits: tuple[SplitResult, ...]
    #: The out-of-sample windows chained into one test (None when the windows overlap).
    stitched: Metrics | None
    #: Every split's warning, prefixed by its index.
    warnings: tuple[str, ...]
    prepares: int


def run_walk_forward(
    bases: Mapping[str, Candles],
    spec: SweepSpec,
    splits: Sequence[Split],
    *,
    min_fraction: float = DEFAULT_MIN_FRACTION,
    cache: PrepareCache | None = None,
    progress: Progress | None = None,
) -> WalkForwardResult:
    """Optimise in sample, score out of sample, split by split (``walkforward
    .walk_forward_splits`` makes the splits). ``progress(done, total)`` counts backtests:
    each split's combinations, then its out-of-sample run. Raises ValidationError before any
    work for bad input, more combinations than the limit or more than
    ``MAX_WALK_FORWARD_RUNS`` backtests."""
    bases = _checked_bases(bases)
    if not splits:
        raise ValidationError("the walk-forward needs at least one split")
    tried = spec.setups()
    total = len(splits) * (len(tried) + 1)
    if total > MAX_WALK_FORWARD_RUNS:
        raise ValidationError(
            f"{total:,} backtests ({len(splits)} splits x {len(tried) + 1}) exceed the limit "
            f"of {MAX_WALK_FORWARD_RUNS:,}; use fewer splits or combinations"
        )
    cache = cache if cache is not None else PrepareCache()
    before = cache.prepares
    runner = _Runner(bases, spec, cache)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    results = []
    outs: list[BacktestResult] = []
    for split in splits:
        scored = []
        for params, setup in tried:
            scored.append(runner.score(params, setup, start=split.in_start, end=split.in_end))
            tick()
        best = _rank(scored, spec.metric)[0]
        chosen = next(setup for params, setup in tried if params == best.params)
        out = runner.score(best.params, chosen, start=split.out_start, end=split.out_end)
        tick()
        outs.append(out.result)
        warning = divergence(best.score, out.score, metric=spec.metric, min_fraction=min_fraction)
        results.append(
            SplitResult(
                split, best.params, best.metrics, out.metrics, best.score, out.score, warning
            )
        )
    warnings = tuple(f"split {r.split.index}: {r.warning}" for r in results if r.warning)
    stitched = _stitch(results, outs, timeframe_ms(spec.base_timeframe))
    return WalkForwardResult(
        spec.metric, tuple(results), stitched, warnings, cache.prepares - before
    )


def _stitch(
    results: Sequence[SplitResult], outs: Sequence[BacktestResult], bar_ms: int
) -> Metrics | None:
    windows = sorted(zip(results, outs, strict=True), key=lambda pair: pair[0].split.out_start)
    for (a, _), (b, _) in itertools.pairwise(windows):
        if b.split.out_start < a.split.out_end:
            return None
    initial = outs[0].execution.initial_equity
    times: list[npt.NDArray[np.int64]] = []
    equity: list[npt.NDArray[np.float64]] = []
    trades: list[BacktestTrade] = []
    level = 1.0
    for result, out in windows:
        split = result.split
        curve, _ = window_equity(out, start=split.out_start, end=split.out_end, bar_ms=bar_ms)
        t, growth = curve.time, curve.equity / out.execution.initial_equity
        if times and t[0] <= times[-1][-1]:  # tiled windows share the boundary point
            keep = t > times[-1][-1]
            t, growth = t[keep], growth[keep]
        if len(t):
            times.append(t)
            equity.append(initial * level * growth)
            level *= float(growth[-1])
        trades.extend(out.trades)
    return compute_metrics(
        np.concatenate(times),
        np.concatenate(equity),
        trades,
        initial_capital=initial,
        bar_ms=bar_ms,
        ambiguous=sum(o.ambiguous for o in outs),
    )
