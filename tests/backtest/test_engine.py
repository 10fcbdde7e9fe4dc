"""Trading replayed signals: fees and slippage in the P&L, sizing from equity, position
limits, the equity curve, and agreement with live outcome tracking on real history."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.backtest.engine import run_backtest, run_backtests, trade_replays
from cryptolens.backtest.execution import ExecutionModel, SizingMode, SlippageMode
from cryptolens.backtest.fills import ExitReason
from cryptolens.detect import Candles
from cryptolens.domain.enums import SignalStatus
from cryptolens.domain.errors import ValidationError
from tests.backtest.builders import H, bars, long_plan, replay_of, short_plan

FREE = ExecutionModel(maker_fee_bps=0, taker_fee_bps=0)


def test_a_stopped_long_pays_maker_in_taker_out_and_slips_below_the_stop() -> None:
    model = ExecutionModel(
        maker_fee_bps=2, taker_fee_bps=10, slippage_value=50, risk_pct=1, initial_equity=10_000
    )
    result = trade_replays({"A": replay_of(bars((101, 99), (100, 89)), long_plan())}, model)
    (trade,) = result.trades
    size = 10_000 * 0.01 / 10  # 1% of equity over a 10-point stop
    exit_price = 90.0 - 90.0 * 50 / 10_000
    fees = 100.0 * size * 2 / 10_000 + exit_price * size * 10 / 10_000
    assert trade.size == pytest.approx(size)
    assert trade.exit_price == pytest.approx(exit_price)
    assert trade.fees == pytest.approx(fees)
    assert trade.pnl == pytest.approx((exit_price - 100.0) * size - fees)
    assert trade.r_multiple == pytest.approx(trade.pnl / (size * 10))
    assert trade.exit_reason is ExitReason.STOP
    assert (trade.entry_time, trade.exit_time) == (H, 2 * H)
    assert result.final_equity == pytest.approx(10_000 + trade.pnl)


def test_atr_slippage_moves_a_short_stop_against_it_and_targets_do_not_slip() -> None:
    model = ExecutionModel(
        slippage=SlippageMode.ATR, slippage_value=0.5, maker_fee_bps=0, taker_fee_bps=0
    )
    candles = bars((101, 99), (99, 89), (112, 95))
    result = trade_replays({"A": replay_of(candles, short_plan(), atr=4.0)}, model)
    (trade,) = result.trades
    assert [(e.price, e.reason) for e in trade.exits] == [
        (90.0, ExitReason.TP1),
        (100.0 + 0.5 * 4.0, ExitReason.BREAK_EVEN),
    ]


def test_fixed_quantity_sizing_trades_the_quantity() -> None:
    model = ExecutionModel(sizing=SizingMode.QUANTITY, quantity=3, maker_fee_bps=0)
    result = trade_replays({"A": replay_of(bars((101, 99), (131, 101)), long_plan())}, model)
    (trade,) = result.trades
    assert trade.size == 3
    assert trade.pnl == pytest.approx(3 * (10 + 20 + 30) / 3)


def test_risk_sizing_follows_realised_equity() -> None:
    candles = bars((101, 99), (100, 89), (101, 99), (100, 89))
    first, second = long_plan(), long_plan(created_at=2 * H, expires_at=26 * H)
    result = trade_replays({"A": replay_of(candles, first, second)}, FREE)
    sizes = [t.size for t in result.trades]
    assert sizes == pytest.approx([10.0, 9.9])  # 1% of 10,000 then of 9,900, over 10 points


def test_one_position_per_symbol_skips_a_signal_filled_while_one_is_open() -> None:
    candles = bars((101, 99), (105, 99), (106, 101), (131, 101))
    plans = (long_plan(), long_plan(created_at=H, expires_at=25 * H))
    one = trade_replays({"A": replay_of(candles, *plans)}, FREE)
    two = trade_replays(
        {"A": replay_of(candles, *plans)}, ExecutionModel(max_positions_per_symbol=2)
    )
    assert (len(one.trades), one.skipped) == (1, 1)
    assert (len(two.trades), two.skipped) == (2, 0)


def test_the_overall_limit_applies_across_symbols() -> None:
    candles = bars((101, 99), (105, 99), (131, 101))
    replays = {s: replay_of(candles, long_plan()) for s in ("A", "B", "C")}
    result = trade_replays(replays, ExecutionModel(max_positions=2))
    assert sorted(t.symbol for t in result.trades) == ["A", "B"]
    assert result.skipped == 1


def test_a_closed_position_frees_its_slot_for_a_later_fill() -> None:
    candles = bars((101, 99), (100, 89), (101, 99), (100, 89))
    plans = (long_plan(), long_plan(created_at=2 * H, expires_at=26 * H))
    result = trade_replays({"A": replay_of(candles, *plans)}, FREE)
    assert len(result.trades) == 2
    assert result.skipped == 0


def test_ambiguous_trades_are_counted() -> None:
    result = trade_replays({"A": replay_of(bars((101, 99), (115, 85)), long_plan())}, FREE)
    assert result.ambiguous == 1
    assert result.trades[0].ambiguous


@settings(max_examples=60, deadline=None)
@given(
    moves=st.lists(st.floats(-5, 5, allow_nan=False), min_size=5, max_size=120),
    starts=st.lists(st.integers(0, 100), min_size=1, max_size=8),
    maker=st.floats(0, 20),
    taker=st.floats(0, 40),
    slip=st.floats(0, 30),
    fractions=st.tuples(st.floats(0, 0.5), st.floats(0, 0.5)),
    break_even=st.booleans(),
)
def test_equity_changes_by_the_sum_of_the_trades_net_pnl(
    moves: list[float],
    starts: list[int],
    maker: float,
    taker: float,
    slip: float,
    fractions: tuple[float, float],
    break_even: bool,
) -> None:
    closes = 100 + np.cumsum(moves)
    candles = bars(*zip((closes + 2).tolist(), (closes - 2).tolist(), strict=True))
    plans = [
        long_plan(
            created_at=k * H,
            expires_at=(k + 10) * H,
            entry=float(closes[min(k, len(closes) - 1)]) - 1,
            stop=float(closes[min(k, len(closes) - 1)]) - 6,
            targets=tuple(float(closes[min(k, len(closes) - 1)]) + d for d in (4, 9, 14)),
            max_hold_ms=30 * H,
        )
        for k in sorted(set(starts))
    ]
    model = ExecutionModel(
        maker_fee_bps=maker,
        taker_fee_bps=taker,
        slippage_value=slip,
        exit_fractions=fractions,
        break_even=break_even,
        max_positions_per_symbol=3,
    )
    result = trade_replays({"A": replay_of(candles, *plans)}, model)
    pnl = sum(t.pnl for t in result.trades)
    assert result.final_equity - model.initial_equity == pytest.approx(pnl, abs=1e-6)
    for t in result.trades:
        gross = sum(e.fraction * (e.price - t.entry_price) for e in t.exits) * t.size
        assert t.pnl == pytest.approx(gross - t.fees, abs=1e-6)
        assert sum(e.fraction for e in t.exits) == pytest.approx(1.0)
    assert len(result.equity.time) == 1 + sum(1 + len(t.exits) for t in result.trades)
    assert np.all(np.diff(result.equity.time) >= 0)


def test_without_costs_each_trade_earns_the_r_live_tracking_records(btc_hours: Candles) -> None:
    model = ExecutionModel(
        maker_fee_bps=0, taker_fee_bps=0, max_positions_per_symbol=1_000, max_positions=1_000
    )
    result = run_backtest(
        btc_hours[:4_000], base_timeframe="1h", timeframes=("1h", "4h", "1d"), execution=model
    )
    live = {
        s.draft.created_at: s.outcome
        for s in result.replays[""].signals
        if s.outcome.status is SignalStatus.CLOSED
    }
    traded = {t.signal_at: t for t in result.trades}
    assert len(live) >= 50
    for created_at, outcome in live.items():
        trade = traded[created_at]
        assert trade.r_multiple == pytest.approx(outcome.r_multiple, abs=1e-9)
        assert trade.exit_time == outcome.closed_at
        assert trade.entry_time == outcome.triggered_at


@pytest.mark.parametrize(
    ("finer_timeframe", "with_candles", "message"),
    [
        (None, True, "finer candles need their timeframe"),
        ("1m", False, "finer candles need their timeframe"),
        ("1h", True, "must divide the base timeframe"),
        ("7m", True, "unknown timeframe"),
    ],
)
def test_finer_candles_must_come_with_a_timeframe_that_divides_the_base(
    btc_hours: Candles, finer_timeframe: str | None, with_candles: bool, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        run_backtest(
            btc_hours[:100],
            base_timeframe="1h",
            timeframes=("1h",),
            finer=btc_hours[:100] if with_candles else None,
            finer_timeframe=finer_timeframe,
        )


def test_several_symbols_share_one_account(btc_hours: Candles) -> None:
    model = ExecutionModel(max_positions_per_symbol=1, max_positions=1)
    bases = {"A": btc_hours[:1_500], "B": btc_hours[200:1_700]}
    together = run_backtests(bases, base_timeframe="1h", timeframes=("1h", "4h"), execution=model)
    alone = run_backtest(bases["A"], base_timeframe="1h", timeframes=("1h", "4h"), symbol="A")
    assert set(together.replays) == {"A", "B"}
    assert together.replays["A"].signals == alone.replays["A"].signals
    assert {t.symbol for t in together.trades} == {"A", "B"}
    spans = sorted((t.entry_time, t.exit_time) for t in together.trades)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))  # one position at a time
    assert together.skipped > 0


def test_no_symbols_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="no symbols"):
        run_backtests({}, base_timeframe="1h", timeframes=("1h",))
