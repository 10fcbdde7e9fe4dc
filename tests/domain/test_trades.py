from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cryptolens.domain.trades import (
    ZERO,
    Direction,
    FieldError,
    Fill,
    Side,
    TradeStatus,
    check_fills,
    figures,
    quantize,
)

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
D = Decimal


def entry(price: str, quantity: str, minutes: int = 0, fee: str = "0") -> Fill:
    return Fill(Side.ENTRY, T0 + timedelta(minutes=minutes), D(price), D(quantity), D(fee))


def exit_(price: str, quantity: str, minutes: int = 60, fee: str = "0") -> Fill:
    return Fill(Side.EXIT, T0 + timedelta(minutes=minutes), D(price), D(quantity), D(fee))


prices = st.decimals(min_value=D("0.0001"), max_value=D("90000"), places=4)
quantities = st.decimals(min_value=D("0.001"), max_value=D("500"), places=3)
fees = st.decimals(min_value=D(0), max_value=D("25"), places=5)


@st.composite
def fill_sequences(draw: st.DrawFn) -> tuple[Direction, list[Fill]]:
    """A direction and valid fills: an entry, then scale-ins and partial exits in any mix."""
    direction = draw(st.sampled_from(Direction))
    at = T0
    fills = [Fill(Side.ENTRY, at, draw(prices), draw(quantities), draw(fees))]
    position = fills[0].quantity
    for _ in range(draw(st.integers(0, 12))):
        at += timedelta(minutes=draw(st.integers(0, 600)))
        if draw(st.booleans()):
            fill = Fill(Side.ENTRY, at, draw(prices), draw(quantities), draw(fees))
            position += fill.quantity
        else:
            thousandths = draw(st.integers(1, int(position * 1000)))
            quantity = D(thousandths) / 1000
            if quantity == position:
                break  # a flat position ends the trade
            fill = Fill(Side.EXIT, at, draw(prices), quantity, draw(fees))
            position -= quantity
        fills.append(fill)
    return direction, fills


def _total(values: Iterable[Decimal]) -> Decimal:
    """An exact sum (lots carry fee shares to 30 places, beyond the default 28 digits)."""
    with localcontext(prec=200):
        return sum(values, ZERO)


def _direct_pnl(direction: Direction, fills: list[Fill]) -> Decimal:
    """P&L of a closed trade without matching any lots: proceeds minus costs minus fees."""
    with localcontext(prec=200):
        return _direct(direction, fills)


def _direct(direction: Direction, fills: list[Fill]) -> Decimal:
    sign = 1 if direction is Direction.LONG else -1
    value = {
        side: sum((f.price * f.quantity for f in fills if f.side is side), ZERO) for side in Side
    }
    return sign * (value[Side.EXIT] - value[Side.ENTRY]) - sum((f.fee for f in fills), ZERO)


@given(fill_sequences())
def test_realized_pnl_of_any_fill_sequence_is_the_sum_of_its_closed_lots(
    trade: tuple[Direction, list[Fill]],
) -> None:
    direction, fills = trade
    result = figures(direction, fills, planned_stop=D("0.00001"))
    assert result.realized_pnl == quantize(_total(lot.pnl for lot in result.lots))
    exited = sum((f.quantity for f in fills if f.side is Side.EXIT), ZERO)
    assert sum((lot.quantity for lot in result.lots), ZERO) == exited
    assert result.open_quantity == result.quantity - exited > 0
    assert result.status is TradeStatus.OPEN
    assert [lot.entry_at for lot in result.lots] == sorted(lot.entry_at for lot in result.lots)


@given(fill_sequences(), prices, fees)
def test_a_closed_trade_makes_what_it_sold_minus_what_it_bought_minus_fees(
    trade: tuple[Direction, list[Fill]], price: Decimal, fee: Decimal
) -> None:
    direction, fills = trade
    position = sum((f.quantity if f.side is Side.ENTRY else -f.quantity for f in fills), ZERO)
    closing = Fill(Side.EXIT, fills[-1].at + timedelta(hours=1), price, position, fee)
    result = figures(direction, [*fills, closing], planned_stop=D("0.00001"))
    assert _total(lot.pnl for lot in result.lots) == _direct_pnl(direction, [*fills, closing])
    assert result.realized_pnl == quantize(_direct_pnl(direction, [*fills, closing]))
    assert result.status is TradeStatus.CLOSED
    assert result.open_quantity == 0
    assert result.closed_at == closing.at
    assert result.fees == sum((f.fee for f in [*fills, closing]), ZERO)


def test_a_long_trade_that_makes_twice_its_risk_is_2r() -> None:
    result = figures(Direction.LONG, [entry("100", "2"), exit_("110", "2")], D("95"))
    assert result.risk_amount == D("10")
    assert result.realized_pnl == D("20")
    assert result.r_multiple == D("2")
    assert result.holding_seconds == 3600
    assert (result.avg_entry, result.avg_exit) == (D("100"), D("110"))


def test_fees_come_off_the_pnl_and_the_r_multiple() -> None:
    fills = [entry("100", "2", fee="1"), exit_("110", "2", fee="1")]
    result = figures(Direction.LONG, fills, D("95"))
    assert result.realized_pnl == D("18")
    assert result.r_multiple == D("1.8")
    assert result.fees == D("2")


def test_a_short_trade_stopped_out_is_minus_1r() -> None:
    result = figures(Direction.SHORT, [entry("50", "3"), exit_("52", "3")], D("52"))
    assert result.realized_pnl == D("-6")
    assert result.r_multiple == D("-1")


def test_scale_ins_average_the_entry_and_the_risk_covers_the_whole_quantity() -> None:
    fills = [entry("100", "1"), entry("110", "1", minutes=30), exit_("120", "2", minutes=90)]
    result = figures(Direction.LONG, fills, D("95"))
    assert result.avg_entry == D("105")
    assert result.risk_amount == D("20")
    assert result.realized_pnl == D("30")
    assert result.r_multiple == D("1.5")
    assert result.holding_seconds == 90 * 60
    assert [(lot.entry_price, lot.quantity) for lot in result.lots] == [
        (D("100"), D("1")),
        (D("110"), D("1")),
    ]


def test_partial_exits_close_the_oldest_lots_first() -> None:
    fills = [
        entry("100", "4"),
        entry("90", "2", minutes=10),
        exit_("110", "5", minutes=20),
        exit_("80", "1", minutes=30),
    ]
    result = figures(Direction.LONG, fills, D("85"))
    assert [(lot.entry_price, lot.exit_price, lot.quantity) for lot in result.lots] == [
        (D("100"), D("110"), D("4")),
        (D("90"), D("110"), D("1")),
        (D("90"), D("80"), D("1")),
    ]
    assert result.realized_pnl == D("40") + D("20") - D("10")
    # Average entry 96.666…, stop 85: risk 70 for 6 units; R = 50 / 70.
    assert result.r_multiple == quantize(D(50) / D(70))


def test_an_open_trade_counts_only_its_closed_part_and_has_no_r_yet() -> None:
    fills = [entry("100", "4", fee="4"), exit_("110", "1", fee="1")]
    result = figures(Direction.LONG, fills, D("95"))
    assert result.status is TradeStatus.OPEN
    assert result.open_quantity == D("3")
    # 10 gross, the exit's fee, a quarter of the entry's fee.
    assert result.realized_pnl == D("8")
    assert result.r_multiple is None
    assert result.closed_at is None
    assert result.holding_seconds is None


def test_fee_shares_that_do_not_divide_evenly_still_add_up_exactly() -> None:
    fills = [
        entry("1", "3", fee="1"),
        exit_("1", "1", minutes=1),
        exit_("1", "1", minutes=2),
        exit_("1", "1", minutes=3),
    ]
    result = figures(Direction.LONG, fills, D("0.5"))
    assert _total(lot.fees for lot in result.lots) == D("1")
    assert result.realized_pnl == D("-1")


@pytest.mark.parametrize(
    ("fills", "field", "message"),
    [
        ([], "fills", "at least one entry"),
        ([entry("0", "1")], "fills[0].price", "price must be greater than 0"),
        ([entry("-5", "1")], "fills[0].price", "price must be greater than 0"),
        ([entry("5", "0")], "fills[0].quantity", "quantity must be greater than 0"),
        ([entry("5", "1", fee="-1")], "fills[0].fee", "fee must not be negative"),
        ([entry("5", "1.00000000001")], "fills[0].quantity", "more than 10 decimal places"),
        ([entry("1E+18", "1")], "fills[0].price", "too large"),
        ([entry("5", "1"), exit_("6", "2")], "fills[1].quantity", "more than the open position"),
        ([entry("5", "1", minutes=10), exit_("6", "1", minutes=5)], "fills[1].at", "before"),
        ([exit_("6", "1", minutes=5), entry("5", "1", minutes=10)], "fills[0].at", "before"),
        (
            [entry("5", "1"), exit_("6", "1", minutes=5), entry("5", "1", minutes=9)],
            "fills[2].at",
            "after the position was closed",
        ),
    ],
)
def test_fills_that_do_not_make_a_trade_are_refused_naming_the_fill(
    fills: list[Fill], field: str, message: str
) -> None:
    with pytest.raises(FieldError, match=message) as caught:
        check_fills(fills)
    assert caught.value.field == field


def test_fills_in_the_future_are_refused() -> None:
    with pytest.raises(FieldError, match="in the future") as caught:
        check_fills([entry("5", "1"), exit_("6", "1", minutes=61)], now=T0 + timedelta(hours=1))
    assert caught.value.field == "fills[1].at"


def test_fills_without_a_time_zone_are_refused() -> None:
    naive = Fill(Side.ENTRY, datetime(2026, 1, 1), D("1"), D("1"))
    with pytest.raises(FieldError, match="time zone"):
        check_fills([naive])


def test_fills_are_put_in_time_order_entries_first_at_the_same_instant() -> None:
    same = T0 + timedelta(minutes=5)
    fills = [
        Fill(Side.EXIT, same, D("2"), D("1")),
        entry("1", "1"),
        Fill(Side.ENTRY, same, D("3"), D("1")),
    ]
    assert [f.price for f in check_fills(fills)] == [D("1"), D("3"), D("2")]
