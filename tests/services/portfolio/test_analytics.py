from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from cryptolens.domain.errors import NotFoundError
from cryptolens.services.portfolio.analytics import Analytics, portfolio_analytics
from cryptolens.services.portfolio.analytics_queries import LINKED_ROWS, MAX_CURVE_POINTS
from tests.builders.trade_rows import MONDAY, Closed, Owner, add_owner, add_portfolio, add_trades
from tests.web.seeding import add_signal, add_symbol

#: Initial balance 10,000; equity 10,500 (peak) → 10,200 → 9,500 (trough: 1,000 below the
#: peak, 9.52 %) → 9,700 → 10,700 (recovered, new peak) → 10,700 → 10,300.
JOURNAL = (
    Closed("500", 24, "BTC/USDT", "long", "breakout", ("a+", "news")),
    Closed("-300", 48, "BTC/USDT", "short", "breakout", ("news",)),
    Closed("-700", 72, "BTC/USDT", "long", "pullback"),
    Closed("200", 96 + 13, "ETH/USDT", "long", "pullback", ("a+",)),
    Closed("1000", 120 + 13, "ETH/USDT", "short", None),
    Closed("0", 144, "ETH/USDT", "long", None, r="0"),
    Closed("-400", 145, "ETH/USDT", "long", None, r=None),
)


@pytest.fixture
def owner(session: Session) -> Owner:
    return add_owner(session, "trader@example.com")


@pytest.fixture
def journal(session: Session, owner: Owner) -> int:
    portfolio_id = add_portfolio(session, owner)
    add_trades(session, portfolio_id, owner, JOURNAL)
    session.commit()
    return portfolio_id


def _analytics(session: Session, owner: Owner, portfolio_id: int, **kw: Any) -> Analytics:
    return portfolio_analytics(session, owner=owner, portfolio_id=portfolio_id, **kw)


def test_summary_has_win_rate_profit_factor_and_expectancy_of_the_closed_trades(
    session: Session, owner: Owner, journal: int
) -> None:
    summary = _analytics(session, owner, journal).summary
    figures = summary.figures
    assert (figures.trades, figures.wins, figures.losses, summary.open_trades) == (7, 3, 3, 0)
    assert figures.win_rate == pytest.approx(3 / 7)
    assert figures.net_pnl == Decimal(300)
    assert (figures.gross_profit, figures.gross_loss) == (Decimal(1700), Decimal(-1400))
    assert figures.profit_factor == pytest.approx(1700 / 1400)
    assert figures.expectancy == pytest.approx(Decimal(300) / 7)
    # R: 1, -0.6, -1.4, 0.4, 2, 0 and one trade without R.
    assert figures.r_trades == 6
    assert figures.expectancy_r == pytest.approx(1.4 / 6)
    assert summary.average_win == pytest.approx(Decimal(1700) / 3)
    assert summary.average_loss == pytest.approx(Decimal(-1400) / 3)
    assert (summary.largest_win, summary.largest_loss) == (Decimal(1000), Decimal(-700))
    assert summary.average_win_r == pytest.approx(3.4 / 3)
    assert summary.average_loss_r == pytest.approx(-2.0 / 2)
    assert summary.average_holding_seconds == pytest.approx(7200)


def test_max_drawdown_runs_from_its_peak_to_the_trade_that_recovers_it(
    session: Session, owner: Owner, journal: int
) -> None:
    drawdown = _analytics(session, owner, journal).drawdown
    assert drawdown.amount == Decimal(1000)
    assert drawdown.peak_equity == Decimal(10500)
    assert drawdown.percent == pytest.approx(1000 / 10500 * 100)
    assert drawdown.started_at == MONDAY + timedelta(hours=24)
    assert drawdown.trough_at == MONDAY + timedelta(hours=72)
    assert drawdown.recovered_at == MONDAY + timedelta(hours=133)
    assert drawdown.duration_seconds == (133 - 24) * 3600


def test_a_drawdown_from_the_initial_balance_still_open_lasts_to_the_last_closing(
    session: Session, owner: Owner
) -> None:
    portfolio_id = add_portfolio(session, owner, initial="1000")
    add_trades(
        session,
        portfolio_id,
        owner,
        [Closed("-100", 10), Closed("50", 20), Closed("-200", 30), Closed("100", 40)],
    )
    session.commit()
    drawdown = _analytics(session, owner, portfolio_id).drawdown
    assert (drawdown.amount, drawdown.peak_equity) == (Decimal(250), Decimal(1000))
    assert drawdown.percent == pytest.approx(25.0)
    # The peak is the initial balance: the drawdown starts when the first trade opened.
    assert drawdown.started_at == MONDAY + timedelta(hours=8)
    assert drawdown.trough_at == MONDAY + timedelta(hours=30)
    assert drawdown.recovered_at is None
    assert drawdown.duration_seconds == (40 - 8) * 3600


def test_equity_curve_starts_at_the_initial_balance_and_follows_each_closing(
    session: Session, owner: Owner, journal: int
) -> None:
    curve = _analytics(session, owner, journal, tz="Europe/Berlin").equity_curve
    equities = [point.equity for point in curve]
    assert equities == [Decimal(n) for n in (10000, 10500, 10200, 9500, 9700, 10700, 10700, 10300)]
    assert curve[0].at == MONDAY + timedelta(hours=22)
    assert curve[1].at == MONDAY + timedelta(hours=24)
    assert curve[1].at.utcoffset() == timedelta(hours=1)


def test_breakdowns_group_the_closed_trades_by_each_dimension(
    session: Session, owner: Owner, journal: int
) -> None:
    breakdowns = _analytics(session, owner, journal).breakdowns

    def table(name: str) -> dict[Any, tuple[int, int, Decimal]]:
        return {
            row.key: (row.figures.trades, row.figures.wins, row.figures.net_pnl)
            for row in breakdowns[name]
        }

    assert table("symbol") == {
        "BTC/USDT": (3, 1, Decimal(-500)),
        "ETH/USDT": (4, 2, Decimal(800)),
    }
    assert table("direction") == {"long": (5, 2, Decimal(-400)), "short": (2, 1, Decimal(700))}
    assert table("setup") == {
        "breakout": (2, 1, Decimal(200)),
        "pullback": (2, 1, Decimal(-500)),
        None: (3, 1, Decimal(600)),
    }
    assert table("tag") == {"a+": (2, 2, Decimal(700)), "news": (2, 1, Decimal(200))}
    assert table("weekday") == {
        1: (1, 1, Decimal(500)),
        2: (1, 0, Decimal(-300)),
        3: (1, 0, Decimal(-700)),
        4: (1, 1, Decimal(200)),
        5: (1, 1, Decimal(1000)),
        6: (2, 0, Decimal(-400)),
    }
    assert [row.key for row in breakdowns["hour"]] == [0, 1, 13]
    assert table("hour")[13] == (2, 2, Decimal(1200))
    assert breakdowns["tag"][0].figures.profit_factor is None  # "a+" never lost


def test_you_vs_the_signals_puts_the_traders_r_beside_the_signals(
    session: Session, owner: Owner
) -> None:
    symbol_id = add_symbol(session)
    hit = add_signal(session, symbol_id=symbol_id, status="closed", outcome="tp2", r_multiple=2.0)
    stopped = add_signal(
        session, symbol_id=symbol_id, status="closed", outcome="stop", r_multiple=-1.0
    )
    pending = add_signal(session, symbol_id=symbol_id)
    portfolio_id = add_portfolio(session, owner)
    add_trades(
        session,
        portfolio_id,
        owner,
        [
            Closed("250", 10, signal_id=hit.id),  # 0.5 R where the signal made 2 R
            Closed("-500", 20, signal_id=stopped.id),  # -1 R, like the signal
            Closed("100", 30, signal_id=pending.id),  # the signal has no outcome yet
            Closed("900", 40),  # not linked
        ],
    )
    session.commit()
    versus = _analytics(session, owner, portfolio_id).versus_signals
    assert (versus.linked, versus.compared, versus.wins, versus.signal_wins) == (3, 2, 1, 1)
    assert versus.average_r == pytest.approx(-0.25)
    assert versus.signal_average_r == pytest.approx(0.5)
    latest = [(t.signal_id, t.r_multiple, t.signal_r, t.signal_outcome) for t in versus.latest]
    assert latest == [
        (pending.id, 0.2, None, None),
        (stopped.id, -1.0, -1.0, "stop"),
        (hit.id, 0.5, 2.0, "tp2"),
    ]


def test_you_vs_the_signals_lists_only_the_latest_linked_trades(
    session: Session, owner: Owner
) -> None:
    signal = add_signal(session, symbol_id=add_symbol(session), outcome="tp1", r_multiple=1.0)
    portfolio_id = add_portfolio(session, owner)
    add_trades(
        session,
        portfolio_id,
        owner,
        [Closed("100", hours, signal_id=signal.id) for hours in range(LINKED_ROWS + 5)],
    )
    session.commit()
    versus = _analytics(session, owner, portfolio_id).versus_signals
    assert versus.linked == LINKED_ROWS + 5
    assert len(versus.latest) == LINKED_ROWS
    assert versus.latest[0].closed_at == MONDAY + timedelta(hours=LINKED_ROWS + 4)


def test_an_empty_portfolio_has_no_figures(session: Session, owner: Owner) -> None:
    portfolio_id = add_portfolio(session, owner)
    session.commit()
    analytics = _analytics(session, owner, portfolio_id)
    figures = analytics.summary.figures
    assert (figures.trades, figures.win_rate, figures.profit_factor) == (0, None, None)
    assert (figures.expectancy, figures.expectancy_r, analytics.summary.largest_win) == (
        None,
        None,
        None,
    )
    assert analytics.drawdown.amount == 0
    assert analytics.drawdown.duration_seconds == 0
    assert analytics.equity_curve == ()
    assert all(rows == () for rows in analytics.breakdowns.values())
    assert (analytics.versus_signals.linked, analytics.versus_signals.latest) == (0, ())


def test_open_trades_are_counted_but_not_in_any_figure(session: Session, owner: Owner) -> None:
    portfolio_id = add_portfolio(session, owner)
    add_trades(session, portfolio_id, owner, [Closed("0", 5), Closed("0", 6)], open_=True)
    session.commit()
    analytics = _analytics(session, owner, portfolio_id)
    assert analytics.summary.open_trades == 2
    assert analytics.summary.figures.trades == 0
    assert analytics.equity_curve == ()
    assert analytics.breakdowns["symbol"] == ()


def test_another_owners_portfolio_is_not_found(
    session: Session, owner: Owner, journal: int
) -> None:
    intruder = add_owner(session, "intruder@example.com")
    with pytest.raises(NotFoundError):
        _analytics(session, intruder, journal)
    with pytest.raises(NotFoundError):
        _analytics(session, owner, journal + 1000)


def _many(n: int) -> list[Closed]:
    """``n`` trades alternating wins and losses over two symbols, tags and signals aside."""
    return [
        Closed(
            ("130", "-100", "-45.5", "60")[i % 4],
            i * 0.5,
            ("BTC/USDT", "ETH/USDT", "SOL/USDT")[i % 3],
            ("long", "short")[i % 2],
            ("breakout", "pullback", None)[i % 3],
            (("x",), (), ("x", "y"))[i % 3],
        )
        for i in range(n)
    ]


def test_the_number_of_statements_does_not_grow_with_the_trades(
    session: Session, owner: Owner, statements: list[str]
) -> None:
    counts = []
    for n in (10, 500):
        portfolio_id = add_portfolio(session, owner, name=f"p{n}")
        add_trades(session, portfolio_id, owner, _many(n))
        session.commit()
        for _ in ("miss", "hit"):
            statements.clear()
            analytics = _analytics(session, owner, portfolio_id)
            session.commit()
            assert analytics.summary.figures.trades == n
            counts.append(len(statements))
    # Miss: read, open trades, grouped, equity, savepoint + upsert + release, versus (2).
    # Hit: read with the snapshot, versus (2).
    assert counts == [9, 3, 9, 3]


def test_a_long_equity_curve_is_sampled_keeping_the_trough_and_the_end(
    session: Session, owner: Owner
) -> None:
    n = 1200
    trades = _many(n)
    # A -5,000 loss, then -100 and -45.5: the maximum drawdown's trough, between two samples.
    trades[704] = Closed("-5000", trades[704].hours)
    portfolio_id = add_portfolio(session, owner)
    add_trades(session, portfolio_id, owner, trades)
    session.commit()
    analytics = _analytics(session, owner, portfolio_id)
    curve = analytics.equity_curve
    assert len(curve) <= MAX_CURVE_POINTS
    assert len(curve) > MAX_CURVE_POINTS // 2
    assert curve[0].equity == Decimal(10000)
    assert curve[-1].equity == Decimal(10000) + analytics.summary.figures.net_pnl
    assert curve[-1].at == MONDAY + timedelta(hours=(n - 1) * 0.5)
    trough = analytics.drawdown.trough_at
    assert trough == MONDAY + timedelta(hours=353)
    assert any(point.at == trough for point in curve)
    assert [p.at for p in curve] == sorted(p.at for p in curve)
