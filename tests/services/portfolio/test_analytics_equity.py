from datetime import UTC, datetime, timedelta
from decimal import Decimal

from cryptolens.services.portfolio.analytics_equity import equity_rows
from cryptolens.services.portfolio.analytics_queries import MAX_CURVE_POINTS

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _at(i: int) -> datetime:
    return T0 + timedelta(hours=i)


def test_the_deepest_fall_below_its_peak_and_the_first_closing_back_at_it() -> None:
    # run: 100, 300, 200, 300 (peak again), -100 (trough, 400 below), 250, 300 (recovered)
    pnl = ("100", "200", "-100", "100", "-400", "350", "50", "10")
    rows = equity_rows((_at(i), Decimal(p)) for i, p in enumerate(pnl))
    trough = rows.trough
    assert trough is not None
    assert (trough.rn, trough.closed_at) == (5, _at(4))
    assert (trough.run, trough.peak) == (Decimal(-100), Decimal(300))
    assert rows.peak_at == _at(3)
    assert rows.recovered_at == _at(6)
    assert [p.rn for p in rows.samples] == list(range(1, 9))


def test_a_fall_from_the_initial_balance_has_no_peak_time_and_no_recovery_yet() -> None:
    rows = equity_rows((_at(i), p) for i, p in enumerate((-50.0, -25.5, 30.0, 20.0)))
    assert rows.trough is not None
    assert (rows.trough.rn, rows.trough.run, rows.trough.peak) == (2, Decimal("-75.5"), 0)
    assert rows.peak_at is None
    assert rows.recovered_at is None
    empty = equity_rows([])
    assert (empty.samples, empty.trough, empty.recovered_at) == ([], None, None)


def test_sampling_keeps_the_first_and_last_trades_and_reports_the_trough() -> None:
    n = 3001
    pnl = [Decimal(10)] * n
    pnl[1500] = Decimal(-20000)
    rows = equity_rows((_at(i), p) for i, p in enumerate(pnl))
    ranks = [p.rn for p in rows.samples]
    assert MAX_CURVE_POINTS // 2 < len(ranks) <= MAX_CURVE_POINTS - 3
    assert ranks[0] == 1
    assert ranks[-1] == n
    assert rows.trough is not None
    assert rows.trough.rn == 1501
    assert 1501 not in ranks
    assert rows.samples[-1].run == sum(pnl)
