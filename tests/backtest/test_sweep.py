"""Parameter sweeps and the walk-forward loop: checked before any work, ranked, sharing
detection and signals without changing a result, and never leaking the future in sample."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.backtest import sweep as sweep_module
from cryptolens.backtest.engine import run_backtest
from cryptolens.backtest.execution import ExecutionModel, SlippageMode
from cryptolens.backtest.replay import find_drafts, prepare
from cryptolens.backtest.report import bar_equity, report_metrics
from cryptolens.backtest.sweep import (
    MAX_WALK_FORWARD_RUNS,
    PrepareCache,
    SweepSpec,
    apply_combination,
    check_space,
    combinations,
    parse_space,
    relevel,
    result_metrics,
    run_sweep,
    score_combination,
)
from cryptolens.backtest.sweep_forward import WalkForwardResult, run_walk_forward
from cryptolens.backtest.walkforward import MAX_COMBINATIONS, Range, walk_forward_splits
from cryptolens.detect import Candles
from cryptolens.domain.enums import PatternType
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import DAY_MS, HOUR_MS
from cryptolens.signals import DEFAULT_SIGNAL_PARAMS, SignalParams

TIMEFRAMES = ("1h", "4h", "1d")
EXECUTION = ExecutionModel(maker_fee_bps=2, taker_fee_bps=5, slippage_value=2)


@pytest.fixture(scope="module")
def hours(btc_hours: Candles) -> Candles:
    """About 125 days of real hourly BTC: enough signals, quick to sweep."""
    return btc_hours[:3_000]


def _spec(space: Any, **options: Any) -> SweepSpec:
    options.setdefault("execution", EXECUTION)
    return SweepSpec(space, "1h", TIMEFRAMES, **options)


def _sweep(
    base: Candles,
    space: Any,
    *,
    window: tuple[int, int] | None = None,
    cache: PrepareCache | None = None,
    progress: Callable[[int, int], None] | None = None,
    **options: Any,
) -> sweep_module.SweepResult:
    return run_sweep(
        {"BTC": base}, _spec(space, **options), window=window, cache=cache, progress=progress
    )


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything is prepared (detection is the first work a sweep does)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("work started before the input was checked")

    monkeypatch.setattr(sweep_module, "prepare", refuse)


# -- the parameter space ---------------------------------------------------------------------


def test_parsing_gives_typed_values_and_ranges() -> None:
    space = parse_space(
        [
            "min_confluence=2,3,4",
            "stop_atr=0.5:2:0.5",
            "require_higher_timeframe=true,no",
            "pattern_types=order_block+fvg,liquidity_sweep",
            "targets=1/2/3,1.5/3/4.5",
            "max_positions=1:3:1",
        ]
    )
    assert space["min_confluence"] == [2, 3, 4]
    assert space["stop_atr"] == Range(0.5, 2.0, 0.5)
    assert [space["stop_atr"].value(i) for i in range(4)] == [0.5, 1.0, 1.5, 2.0]  # type: ignore[union-attr]
    assert space["require_higher_timeframe"] == [True, False]
    # Pattern sets are written in one order, whatever order they were given in.
    assert space["pattern_types"] == ["fvg+order_block", "liquidity_sweep"]
    assert space["targets"] == ["1/2/3", "1.5/3/4.5"]
    assert space["max_positions"] == Range(1, 3, 1)


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (["min_confluences=2"], "unknown sweep parameter min_confluences"),
        (["min_confluence=0"], "min_confluence must be between 1 and 8, got 0"),
        (["min_confluence=2.5"], "must be a whole number"),
        (["min_confluence=1:3:0.5"], "must be a whole number"),
        (["stop_atr=-1"], "must be between"),
        (["stop_atr=0.5:20:0.5"], "stop_atr must be between 0 and 10"),
        (["proximity=0.5"], "must be between"),
        (["risk_pct=0"], "risk_pct must be between 0.01 and 100"),
        (["stop_atr=abc"], "must be a number"),
        (["stop_atr=2:1:0.5"], "stop not below its start"),
        (["require_higher_timeframe=maybe"], "must be true or false"),
        (["require_higher_timeframe=0:1:1"], "over a number"),
        (["pattern_types=fvg+triangle"], "unknown pattern type 'triangle'"),
        (["targets=3/2/1"], "must increase"),
        (["targets=1/2"], "three R multiples"),
        (["targets=1/2/3", "target_scale=2"], "give one of target_scale, targets"),
        (["tp1_r=1", "target_scale=2"], "give one of target_scale, tp1_r"),
        (["slippage_bps=1", "slippage_atr=0.1"], "give one of slippage_atr, slippage_bps"),
        (["target_scale=0"], "target_scale must be between 0.01 and 10"),
        (["stop_atr=1,1"], "repeats a value"),
        (["stop_atr=1", "stop_atr=2"], "given twice"),
        (["stop_atr"], "name=v1,v2"),
        ([], "at least one parameter"),
    ],
)
def test_bad_specs_are_refused_naming_the_parameter(specs: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_space(specs)


def test_a_space_from_json_is_checked_like_a_parsed_one() -> None:
    space = check_space({"min_confluence": ["2", 3], "break_even": [False, "true"]})
    assert space == {"min_confluence": [2, 3], "break_even": [False, True]}
    with pytest.raises(ValidationError, match="must be a number"):
        check_space({"stop_atr": [True]})
    with pytest.raises(ValidationError, match="list of values"):
        check_space({"stop_atr": "1,2"})


def test_a_combination_becomes_signal_rules_a_pattern_filter_and_execution() -> None:
    setup = apply_combination(
        {
            "min_confluence": 3,
            "cooldown_hours": 1.5,
            "target_scale": 2.0,
            "pattern_types": "fvg+order_block",
            "taker_fee_bps": 7.0,
            "slippage_atr": 0.2,
            "break_even": False,
        },
        execution=EXECUTION,
    )
    assert setup.signals.min_confluence == 3
    assert setup.signals.cooldown_ms == 90 * 60_000
    assert setup.signals.targets_r == (2.0, 4.0, 6.0)
    assert setup.patterns == {PatternType.FVG, PatternType.ORDER_BLOCK}
    assert setup.execution.taker_fee_bps == 7.0
    assert setup.execution.break_even is False
    assert setup.execution.slippage == SlippageMode.ATR
    assert setup.execution.slippage_value == 0.2
    assert setup.execution.maker_fee_bps == EXECUTION.maker_fee_bps  # the base kept


def test_a_combination_the_signal_rules_refuse_is_a_validation_error() -> None:
    # In range for the sweep, but a first target beyond the second.
    with pytest.raises(ValidationError, match=r"combination .*targets_r must be three increasing"):
        apply_combination({"tp1_r": 5.0})


def test_random_draws_are_seeded_and_need_a_count() -> None:
    space = parse_space(["min_confluence=1:8:1", "stop_atr=0.5:5:0.5"])
    first = combinations(space, mode="random", count=10, seed=7)
    assert first == combinations(space, mode="random", count=10, seed=7)
    assert len({tuple(c.items()) for c in first}) == 10
    with pytest.raises(ValidationError, match="number of combinations"):
        combinations(space, mode="random")
    with pytest.raises(ValidationError, match="unknown sweep mode"):
        combinations(space, mode="exhaustive")  # type: ignore[arg-type]


# -- checked before any work -----------------------------------------------------------------


@pytest.mark.usefixtures("no_work")
def test_too_many_combinations_are_refused_before_any_work(hours: Candles) -> None:
    space = {"stop_atr": Range(0.01, 10.0, 0.01), "min_confluence": Range(1, 2, 1)}
    with pytest.raises(ValidationError, match=f"exceed the limit of {MAX_COMBINATIONS:,}"):
        _sweep(hours, space)
    with pytest.raises(ValidationError, match="exceed the limit of 3"):
        _sweep(hours, {"min_confluence": [1, 2, 3, 4]}, limit=3)


@pytest.mark.usefixtures("no_work")
@pytest.mark.parametrize(
    ("space", "options", "message"),
    [
        ({"min_confluence": [2], "warp": [1]}, {}, "unknown sweep parameter warp"),
        ({"stop_atr": [99]}, {}, "must be between"),
        ({"min_confluence": [2]}, {"metric": "luck"}, "unknown ranking metric 'luck'"),
        ({"tp1_r": [0.5, 5]}, {}, "targets_r must be three increasing"),
        ({"min_confluence": [2]}, {"window": (5, 5)}, "must end after it starts"),
    ],
)
def test_bad_input_is_refused_before_any_work(
    hours: Candles, space: Any, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        _sweep(hours, space, **options)


@pytest.mark.usefixtures("no_work")
def test_a_walk_forward_over_the_run_limit_is_refused_before_any_work(hours: Candles) -> None:
    start = int(hours.open_time[0])
    splits = walk_forward_splits(
        start, start + 400 * DAY_MS, in_sample_ms=20 * DAY_MS, out_of_sample_ms=DAY_MS
    )
    per_split = MAX_WALK_FORWARD_RUNS // len(splits)
    space = {"stop_atr": Range(0.01, 0.01 * per_split, 0.01)}
    with pytest.raises(ValidationError, match=f"exceed the limit of {MAX_WALK_FORWARD_RUNS:,}"):
        run_walk_forward({"BTC": hours}, _spec(space), splits)


# -- ranking, sharing, progress --------------------------------------------------------------


@pytest.fixture(scope="module")
def ranked(hours: Candles) -> sweep_module.SweepResult:
    space = parse_space(
        ["min_confluence=1,2", "stop_atr=0.5,1.5", "target_scale=1,2", "taker_fee_bps=5,20"]
    )
    return _sweep(hours, space, metric="sharpe")


def test_rows_are_ranked_best_first_with_undefined_scores_last(
    ranked: sweep_module.SweepResult,
) -> None:
    rows = ranked.rows
    assert [row.rank for row in rows] == list(range(1, 17))
    scores = [row.score for row in rows if row.score is not None]
    assert scores == sorted(scores, reverse=True)
    assert all(row.score is None for row in rows[len(scores) :])
    assert all(row.score == row.metrics.sharpe for row in rows)
    assert ranked.best is rows[0]
    assert set(rows[0].as_dict()) == {"rank", "params", "score", "metrics"}


def test_a_lower_is_better_metric_ranks_ascending(hours: Candles) -> None:
    result = _sweep(hours, {"stop_atr": [0.5, 1.0, 2.0]}, metric="max_drawdown")
    depths = [row.metrics.max_drawdown for row in result.rows]
    assert depths == sorted(depths)


def test_detection_runs_once_and_signals_once_per_firing_rule(
    ranked: sweep_module.SweepResult,
) -> None:
    assert ranked.prepares == 1
    # Only min_confluence changes when signals fire; stops, targets and fees reuse them.
    assert ranked.signal_runs == 2


def test_a_shared_cache_prepares_nothing_again(
    hours: Candles, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return prepare(*args, **kwargs)

    monkeypatch.setattr(sweep_module, "prepare", counting)
    cache = PrepareCache()
    first = _sweep(hours, {"min_confluence": [1, 2, 3]}, cache=cache)
    again = _sweep(hours, {"stop_atr": [0.5, 1.0]}, cache=cache)
    assert (len(calls), first.prepares, again.prepares, cache.prepares) == (1, 1, 0, 1)


def test_sharing_work_changes_no_result(ranked: sweep_module.SweepResult, hours: Candles) -> None:
    """Every row equals a backtest of its combination on its own."""
    start = int(hours.open_time[0])
    end = int(hours.open_time[-1]) + HOUR_MS
    for row in ranked.rows[::5]:
        setup = apply_combination(row.params, execution=EXECUTION)
        alone = run_backtest(
            hours,
            base_timeframe="1h",
            timeframes=TIMEFRAMES,
            symbol="BTC",
            signals=setup.signals,
            execution=setup.execution,
        )
        assert result_metrics(alone, start=start, end=end) == row.metrics
        # The figures a single run reports for the same parameters.
        curve = bar_equity(alone, "BTC", hours, HOUR_MS)
        assert report_metrics(alone, curve, HOUR_MS) == row.metrics


def test_relevelled_drafts_are_the_ones_confluence_drafts(hours: Candles) -> None:
    prepared = prepare(hours, base_timeframe="1h", timeframes=TIMEFRAMES)
    other = SignalParams(stop_atr=0.3, stop_min_fraction=0.004, targets_r=(0.5, 1.5, 4.0))
    found = find_drafts(prepared, DEFAULT_SIGNAL_PARAMS)
    assert found
    assert relevel(prepared, found, other) == find_drafts(prepared, other)


def test_progress_is_reported_after_every_combination(hours: Candles) -> None:
    calls: list[tuple[int, int]] = []
    _sweep(
        hours,
        {"min_confluence": [1, 2], "stop_atr": [1.0, 2.0]},
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_a_window_scores_only_the_signals_created_in_it(hours: Candles) -> None:
    start = int(hours.open_time[1_000])
    end = int(hours.open_time[2_000])
    spec = _spec({"stop_atr": [1.0]})
    scored = score_combination({"BTC": hours}, spec, {"min_confluence": 1}, start=start, end=end)
    trades = scored.result.trades
    assert trades
    assert all(start <= t.signal_at < end for t in trades)
    assert all(t.exit_time <= end for t in trades)  # candles after the window are not read
    assert scored.metrics.start_time == start
    assert scored.metrics.end_time == end
    swept = _sweep(hours, {"min_confluence": [1]}, window=(start, end))
    assert swept.best.metrics == scored.metrics


# -- walk-forward ----------------------------------------------------------------------------


def _walk(base: Candles, splits: Any, **options: Any) -> WalkForwardResult:
    spec = _spec({"min_confluence": [1, 2], "stop_atr": [0.5, 1.5]})
    return run_walk_forward({"BTC": base}, spec, splits, **options)


def _splits(base: Candles, **options: Any) -> Any:
    start = int(base.open_time[0])
    return walk_forward_splits(
        start,
        int(base.open_time[-1]) + HOUR_MS,
        in_sample_ms=50 * DAY_MS,
        out_of_sample_ms=25 * DAY_MS,
        **options,
    )


@pytest.fixture(scope="module")
def walked(hours: Candles) -> WalkForwardResult:
    return _walk(hours, _splits(hours))


def test_each_split_keeps_its_best_in_sample_combination(
    walked: WalkForwardResult, hours: Candles
) -> None:
    assert len(walked.splits) == 3
    for result in walked.splits:
        split = result.split
        alone = _sweep(
            hours,
            {"min_confluence": [1, 2], "stop_atr": [0.5, 1.5]},
            window=(split.in_start, split.in_end),
        )
        assert result.params == alone.best.params
        assert result.in_score == alone.best.score
        assert result.out_of_sample.start_time == split.out_start
        assert result.out_of_sample.end_time == split.out_end
    # Rolling windows that tile: one detection per distinct end of data.
    assert walked.prepares == len(
        {s.split.in_end for s in walked.splits} | {s.split.out_end for s in walked.splits}
    )


def test_warnings_follow_the_divergence_of_each_split(
    walked: WalkForwardResult,
) -> None:
    expected = tuple(
        f"split {r.split.index}: {r.warning}" for r in walked.splits if r.warning is not None
    )
    assert walked.warnings == expected
    for r in walked.splits:
        assert (r.warning is not None) == (
            r.in_score is not None
            and r.in_score > 0
            and (r.out_score is None or r.out_score < 0.5 * r.in_score)
        )


def test_the_stitched_summary_chains_the_out_of_sample_windows(
    walked: WalkForwardResult, hours: Candles
) -> None:
    stitched = walked.stitched
    assert stitched is not None
    assert stitched.start_time == walked.splits[0].split.out_start
    assert stitched.end_time == walked.splits[-1].split.out_end
    assert stitched.trades == sum(r.out_of_sample.trades for r in walked.splits)
    growth = np.prod([1 + r.out_of_sample.total_return for r in walked.splits])
    assert stitched.total_return == pytest.approx(growth - 1)
    overlapping = _walk(hours, _splits(hours, step_ms=10 * DAY_MS))
    assert overlapping.stitched is None


def test_walk_forward_progress_counts_every_backtest(hours: Candles) -> None:
    calls: list[tuple[int, int]] = []
    splits = _splits(hours)[:2]
    _walk(hours, splits, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(done, 10) for done in range(1, 11)]


@settings(max_examples=4, deadline=None)
@given(scale=st.floats(0.5, 2.0), split_at=st.integers(0, 2), data=st.data())
def test_the_in_sample_optimisation_never_sees_candles_after_in_end(
    btc_hours: Candles, scale: float, split_at: int, data: st.DataObject
) -> None:
    """Rewriting every candle after a split's in-sample end leaves its in-sample choice and
    score unchanged (only its out-of-sample result may move)."""
    hours = btc_hours[:3_000]
    splits = _splits(hours)
    split = splits[split_at]
    cut = int(np.searchsorted(hours.open_time, split.in_end, side="left"))
    noise = data.draw(st.integers(0, 2**32 - 1))
    altered = _rewrite_after(hours, cut, scale, seed=noise)
    original = _walk(hours, splits[split_at : split_at + 1]).splits[0]
    changed = _walk(altered, splits[split_at : split_at + 1]).splits[0]
    assert changed.params == original.params
    assert changed.in_sample == original.in_sample
    assert changed.in_score == original.in_score


def test_rewriting_candles_after_in_end_does_move_the_out_of_sample_result(
    hours: Candles,
) -> None:
    """The leak property above can fail: the same rewrite changes what follows in_end."""
    split = _splits(hours)[0]
    cut = int(np.searchsorted(hours.open_time, split.in_end, side="left"))
    original = _walk(hours, [split]).splits[0]
    changed = _walk(_rewrite_after(hours, cut, 1.7, seed=1), [split]).splits[0]
    assert changed.out_of_sample != original.out_of_sample


def _rewrite_after(candles: Candles, cut: int, scale: float, *, seed: int) -> Candles:
    """Candles from ``cut`` on scaled by ``scale`` and shuffled in their order (still valid)."""
    rng = np.random.default_rng(seed)
    order = np.arange(len(candles))
    order[cut:] = cut + rng.permutation(len(candles) - cut)
    factor = np.where(np.arange(len(candles)) >= cut, scale, 1.0)
    column: Callable[[str], Any] = lambda name: getattr(candles, name)[order] * factor  # noqa: E731
    return Candles.from_arrays(
        candles.open_time,
        column("open"),
        column("high"),
        column("low"),
        column("close"),
        candles.volume[order],
    )


@pytest.mark.usefixtures("no_work")
@pytest.mark.parametrize(
    ("base_timeframe", "timeframes", "options", "message"),
    [
        ("1h", ("30m",), {}, "not a multiple of the base timeframe"),
        ("1h", TIMEFRAMES, {"metric": "luck"}, "unknown ranking metric"),
    ],
)
def test_a_bad_spec_is_refused_when_made(
    base_timeframe: str, timeframes: tuple[str, ...], options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        SweepSpec({"min_confluence": [2]}, base_timeframe, timeframes, **options)


def test_a_symbol_without_history_in_the_window_adds_nothing(hours: Candles) -> None:
    window = (int(hours.open_time[100]), int(hours.open_time[1_000]))
    spec = _spec({"min_confluence": [1, 2]})
    alone = run_sweep({"A": hours}, spec, window=window)
    with_late = run_sweep({"A": hours, "B": hours[1_500:]}, spec, window=window)
    assert [row.metrics for row in with_late.rows] == [row.metrics for row in alone.rows]
    assert with_late.prepares == 1
