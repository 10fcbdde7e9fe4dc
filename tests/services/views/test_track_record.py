from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from cryptolens.domain.errors import ValidationError
from cryptolens.services.views.track_record import track_record
from tests.web.seeding import add_signal, add_symbol


@pytest.fixture
def two_symbols(session: Session) -> tuple[int, int]:
    btc = add_symbol(session, "BTC/USDT")
    eth = add_symbol(session, "ETH/USDT")
    for outcome, r in (("tp1", 1.5), ("tp2", 3.0), ("stop", -1.0), ("timeout", -0.2)):
        add_signal(session, symbol_id=btc, outcome=outcome, r_multiple=r, status="closed")
    add_signal(session, symbol_id=btc, outcome="unfilled", status="expired")
    add_signal(session, symbol_id=btc)  # still pending: neither a trade nor unfilled
    add_signal(
        session,
        symbol_id=eth,
        direction="bearish",
        timeframes="4h,1d",
        outcome="tp3",
        r_multiple=4.0,
        status="closed",
    )
    session.commit()
    return btc, eth


def test_record_counts_trades_wins_losses_and_unfilled_per_symbol(
    session: Session, two_symbols: tuple[int, int]
) -> None:
    btc, _ = two_symbols
    [row] = track_record(session, symbol_id=btc, group_by=("symbol",))
    assert (row.symbol, row.trades, row.wins, row.losses, row.unfilled) == ("BTC/USDT", 4, 2, 2, 1)
    assert row.win_rate == pytest.approx(0.5)
    assert row.avg_r == pytest.approx((1.5 + 3.0 - 1.0 - 0.2) / 4)
    assert row.avg_win_r == pytest.approx(2.25)
    assert row.avg_loss_r == pytest.approx(-0.6)


def test_expectancy_equals_the_mean_r_per_trade(
    session: Session, two_symbols: tuple[int, int]
) -> None:
    for row in track_record(session):
        assert row.expectancy == pytest.approx(row.avg_r)
    [overall] = track_record(session, group_by=())
    assert overall.trades == 5
    assert overall.expectancy == pytest.approx((1.5 + 3.0 - 1.0 - 0.2 + 4.0) / 5)


def test_groups_by_symbol_timeframes_and_direction_by_default(
    session: Session, two_symbols: tuple[int, int]
) -> None:
    rows = track_record(session)
    keys = {(r.symbol, r.timeframes, r.direction) for r in rows}
    assert keys == {("BTC/USDT", "1h,4h", "bullish"), ("ETH/USDT", "4h,1d", "bearish")}
    eth = next(r for r in rows if r.symbol == "ETH/USDT")
    assert (eth.trades, eth.wins, eth.losses, eth.avg_loss_r) == (1, 1, 0, None)


def test_filters_by_timeframes_and_direction(
    session: Session, two_symbols: tuple[int, int]
) -> None:
    [row] = track_record(session, timeframes=("1d", "4h"), group_by=())
    assert (row.trades, row.wins) == (1, 1)
    [row] = track_record(session, direction="bullish", group_by=("direction",))
    assert (row.direction, row.trades) == ("bullish", 4)


def test_no_trades_leaves_the_ratios_undefined(session: Session) -> None:
    symbol_id = add_symbol(session, "SOL/USDT")
    add_signal(session, symbol_id=symbol_id, outcome="unfilled", status="expired")
    session.commit()
    [row] = track_record(session, group_by=("symbol",))
    assert (row.trades, row.unfilled) == (0, 1)
    assert row.win_rate is None
    assert row.expectancy is None


def test_unknown_group_key_is_refused(session: Session) -> None:
    with pytest.raises(ValidationError, match="group_by"):
        track_record(session, group_by=("exchange",))  # type: ignore[arg-type]
