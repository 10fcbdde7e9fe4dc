"""Portfolio analytics at volume: one portfolio with 100,000 closed trades (20 symbols, both
directions, five setups, tags on two trades in three, one trade in twenty linked to a signal),
seeded with bulk inserts into a temporary SQLite database (and PostgreSQL / MariaDB when their
URLs are given); ``portfolio_analytics`` timed in-process.

    python bench/portfolio.py [--trades 100000] [--repeat 7]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--mariadb mysql+pymysql://root@127.0.0.1:3306/test]

Prints, each as the median of ``--repeat`` runs (after one warm-up run) with the number of
statements one run executes (which does not depend on the number of trades):

(a) the page with a current snapshot (a *hit*: the goal figure, ``GOAL_MEDIAN_MS``);
(b) a recomputation (a *miss*: the snapshot deleted, untimed, before each run; it computes
    and stores a new one);
(c) one write: a closed trade added through ``insert_trades`` (its fills and tags), which
    moves the portfolio's analytics revision, committed.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, delete, event, insert, select, text
from sqlalchemy.orm import Session

from _common import header, median_seconds
from cryptolens.config import Settings
from cryptolens.db import migrate
from cryptolens.db.accounts import User
from cryptolens.db.base import Base
from cryptolens.db.engine import create_engine_for
from cryptolens.db.models import Signal
from cryptolens.db.portfolio import Portfolio, PortfolioAnalyticsSnapshot, Trade, TradeTag
from cryptolens.db.symbols import ensure_symbol
from cryptolens.domain.trades import Fill, Side
from cryptolens.services.portfolio.analytics import Analytics, portfolio_analytics
from cryptolens.services.portfolio.trades import TradeInput, check_trade, insert_trades

GOAL_MEDIAN_MS = 50.0
SYMBOLS = [f"S{n:02d}/USDT" for n in range(20)]
SETUPS = ("breakout", "pullback", "range", "reversal", "news", None)
TAGS = ("a+", "fomo", "planned")
START = datetime(2023, 1, 2, tzinfo=UTC)
CHUNK = 10_000
N_SIGNALS = 1_000


@dataclass(frozen=True, slots=True)
class Owner:
    id: int


def prepare(url: str) -> Engine:
    engine = create_engine_for(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    migrate.upgrade(engine)
    return engine


def add_signals(session: Session) -> list[int]:
    symbol_id = ensure_symbol(session, exchange="binance", symbol=SYMBOLS[0]).id
    rows = [
        {
            "symbol_id": symbol_id,
            "direction": ("bullish", "bearish")[k % 2],
            "confluence": 2,
            "score": 0.6,
            "timeframes": "1h,4h",
            "entry": 100.0,
            "stop": 95.0,
            "target_1": 105.0,
            "target_2": 110.0,
            "target_3": 120.0,
            "risk_reward": 2.0,
            "status": "closed",
            "outcome": ("tp1", "stop", "tp2", "timeout")[k % 4],
            "r_multiple": (1.0, -1.0, 2.0, -0.3)[k % 4],
            "created_at": 1_672_531_200_000 + k * 3_600_000,
        }
        for k in range(N_SIGNALS)
    ]
    session.execute(insert(Signal), rows)
    return list(session.scalars(select(Signal.id).order_by(Signal.id)))


def trade_rows(
    start: int, stop: int, owner: Owner, portfolio_id: int, signals: list[int]
) -> list[dict[str, Any]]:
    """Trades ``start`` to ``stop``: one closing every 15 minutes, P&L drawn from a seeded
    normal distribution slightly above 0 (risk 100 per trade, so R = P&L / 100)."""
    rng = np.random.default_rng(start)
    pnl = np.round(rng.normal(8.0, 120.0, stop - start), 2)
    rows = []
    for k, i in enumerate(range(start, stop)):
        closed_at = START + timedelta(minutes=15 * i)
        value = Decimal(str(pnl[k]))
        rows.append(
            {
                "portfolio_id": portfolio_id,
                "user_id": owner.id,
                "symbol": SYMBOLS[i % len(SYMBOLS)],
                "direction": ("long", "short")[i % 2],
                "status": "closed",
                "planned_stop": Decimal(95),
                "setup": SETUPS[i % len(SETUPS)],
                "signal_id": signals[i % len(signals)] if i % 20 == 0 else None,
                "opened_at": closed_at - timedelta(hours=3),
                "closed_at": closed_at,
                "quantity": Decimal(20),
                "open_quantity": Decimal(0),
                "avg_entry": Decimal(100),
                "avg_exit": Decimal(100) + value / 20,
                "fees": Decimal("0.2"),
                "realized_pnl": value,
                "risk_amount": Decimal(100),
                "r_multiple": value / 100,
                "holding_seconds": 3 * 3600,
                "local_weekday": closed_at.weekday(),
                "local_hour": closed_at.hour,
            }
        )
    return rows


def seed(engine: Engine, n: int) -> tuple[Owner, int]:
    with Session(engine) as session, session.begin():
        user = User(email="bench-trader@example.com", password_hash="!")
        session.add(user)
        session.flush()
        owner = Owner(user.id)
        portfolio = Portfolio(
            user_id=owner.id, name="Bench", quote_currency="USDT", initial_balance=Decimal(50_000)
        )
        session.add(portfolio)
        session.flush()
        portfolio_id = portfolio.id
        signals = add_signals(session)
    for start in range(0, n, CHUNK):
        with Session(engine) as session, session.begin():
            session.execute(
                insert(Trade),
                trade_rows(start, min(n, start + CHUNK), owner, portfolio_id, signals),
            )
            ids = session.scalars(select(Trade.id).where(Trade.id > 0).order_by(Trade.id)).all()
            tags = [
                {"trade_id": trade_id, "tag": TAGS[(trade_id + k) % len(TAGS)]}
                for trade_id in ids[start:]
                if trade_id % 3
                for k in range(trade_id % 3)
            ]
            session.execute(insert(TradeTag), tags)
    analyze(engine)
    return owner, portfolio_id


def analyze(engine: Engine) -> None:
    """Fresh planner statistics, as autovacuum (PostgreSQL) or ``ANALYZE`` would leave them:
    without them PostgreSQL plans 100,000 rows as one and sorts them on disk."""
    statement = {"mysql": "ANALYZE TABLE trades, trade_tags"}.get(engine.dialect.name, "ANALYZE")
    with engine.begin() as connection:
        connection.execute(text(statement))


def _figure(label: str, median: float, runs: list[float], count: int, *, goal: bool) -> None:
    ms = median * 1000
    verdict = ""
    if goal:
        verdict = " (ok)" if ms <= GOAL_MEDIAN_MS else f" (over the {GOAL_MEDIAN_MS:.0f} ms goal)"
    print(
        f"{'':<11} {label:<22} median {ms:8.1f} ms{verdict}, {count} statements"
        f"   (runs: {', '.join(f'{t * 1000:.1f}' for t in runs)})"
    )


def _counted(
    engine: Engine, run: Callable[[], object], setup: Callable[[], object] | None = None
) -> int:
    """Statements one call of ``run`` executes, after a warm-up call (statement compilation,
    page cache); ``setup`` runs uncounted before each call."""
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    for counting in (False, True):
        if setup is not None:
            setup()
        if counting:
            event.listen(engine, "before_cursor_execute", count)
        try:
            run()
        finally:
            if counting:
                event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def measure(label: str, url: str, n: int, repeat: int) -> None:
    engine = prepare(url)
    owner, portfolio_id = seed(engine, n)
    result: list[Analytics] = []

    def page() -> None:
        # As the page does: the analytics, committed (a miss stores its snapshot).
        with Session(engine) as session:
            result[:] = [portfolio_analytics(session, owner=owner, portfolio_id=portfolio_id)]
            session.commit()

    def forget() -> None:
        with Session(engine) as session, session.begin():
            session.execute(delete(PortfolioAnalyticsSnapshot))

    print(f"{label:<11} {n:>7,} trades:")
    miss_count = _counted(engine, page, setup=forget)
    hit_count = _counted(engine, page)
    median, runs = median_seconds(page, repeat=repeat)
    _figure("(a) current snapshot", median, runs, hit_count, goal=True)
    median, runs = median_seconds(page, repeat=repeat, setup=forget)
    _figure("(b) recompute", median, runs, miss_count, goal=False)
    add = _writer(engine, owner, portfolio_id, n)
    write_count = _counted(engine, add)
    median, runs = median_seconds(add, repeat=repeat)
    _figure("(c) add a closed trade", median, runs, write_count, goal=False)
    summary, drawdown = result[0].summary.figures, result[0].drawdown
    print(
        f"{'':<11} win rate {summary.win_rate or 0:.3f}, expectancy {summary.expectancy_r or 0:.3f}"
        f" R, max drawdown {drawdown.amount:.2f} ({drawdown.percent:.2f} %),"
        f" {len(result[0].equity_curve)} curve points"
    )
    engine.dispose()


def _writer(engine: Engine, owner: Owner, portfolio_id: int, n: int) -> Callable[[], object]:
    """A closed trade with two fills and a tag, stored and committed per call (checked once,
    untimed: the write's cost is what is measured)."""
    at = START + timedelta(minutes=15 * n)
    fills = (
        Fill(Side.ENTRY, at, Decimal(100), Decimal(20), Decimal("0.1")),
        Fill(Side.EXIT, at + timedelta(hours=2), Decimal(103), Decimal(20), Decimal("0.1")),
    )
    data = TradeInput("S00/USDT", "long", Decimal(95), fills, tags=("planned",))
    checked = check_trade(data, now=datetime.now(UTC))

    def add() -> None:
        with Session(engine) as session, session.begin():
            insert_trades(
                session,
                portfolio_id=portfolio_id,
                user_id=owner.id,
                trades=[checked],
                tz="UTC",
                now=datetime.now(UTC),
            )

    return add


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trades", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--postgres")
    parser.add_argument("--mariadb")
    args = parser.parse_args()
    header("bench/portfolio.py — portfolio analytics in-process")
    with tempfile.TemporaryDirectory() as folder:
        measure("SQLite", f"sqlite:///{Path(folder) / 'bench.sqlite'}", args.trades, args.repeat)
    if args.postgres:
        measure("PostgreSQL", args.postgres, args.trades, args.repeat)
    if args.mariadb:
        measure("MariaDB", args.mariadb, args.trades, args.repeat)


if __name__ == "__main__":
    main()
