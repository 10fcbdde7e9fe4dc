"""The newest-first lists walk the time index and stop after a page: the database must not
collect every zone or signal of the exchange and sort them (SQLite and MariaDB did, starting
from the indexed ``symbols.exchange``: 18 ms and 45 ms a page at 100,000 zones instead of
0.1 ms and 0.5 ms). Checked on the plan of the statement each list really runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, insert, text
from sqlalchemy.orm import Session

from cryptolens.db.models import Pattern, Signal
from cryptolens.domain.timeframes import HOUR_MS
from cryptolens.services.views.signal_list import SignalFilters, list_signals_after
from cryptolens.services.views.zone_list import PatternFilters, list_patterns_after
from tests.web.seeding import EXCHANGE, T0, add_symbol, pattern_values, signal_values

SYMBOLS = 20
PER_SYMBOL = 150


def _seed(session: Session) -> None:
    ids = [add_symbol(session, f"S{n:02d}/USDT") for n in range(SYMBOLS)]
    add_symbol(session, "S00/USDT", exchange="other")
    zones, signals = [], []
    for k in range(SYMBOLS * PER_SYMBOL):
        at = T0 + k * HOUR_MS
        symbol_id = ids[k % SYMBOLS]
        zones.append(
            pattern_values(
                symbol_id,
                timeframe=("1h", "4h")[k % 2],
                candle_time=at,
                formed_at=at + HOUR_MS,
                status=("active", "filled", "expired")[k % 3],
            )
        )
        signals.append(signal_values(symbol_id, status="closed", created_at=at))
    session.execute(insert(Pattern), zones)
    session.execute(insert(Signal), signals)
    session.commit()
    if session.get_bind().dialect.name in ("mysql", "mariadb"):
        # Statistics as a running server keeps them (InnoDB refreshes them in the background).
        session.execute(text("ANALYZE TABLE patterns, signals, symbols")).all()


def _plan(session: Session, run: Callable[[], Any]) -> str:
    """The database's plan for the statement ``run`` executes last."""
    seen: list[tuple[str, Any]] = []
    engine = session.get_bind()

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = seen[-1]
    dialect = engine.dialect.name
    prefix = {"sqlite": "EXPLAIN QUERY PLAN ", "postgresql": "EXPLAIN "}.get(dialect, "EXPLAIN ")
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    cursor.execute(prefix + statement, parameters)
    plan = "\n".join(" ".join(str(value) for value in row) for row in cursor.fetchall())
    cursor.close()
    return plan


def _sorts_everything(dialect: str, plan: str) -> bool:
    if dialect == "sqlite":
        return "TEMP B-TREE FOR ORDER BY" in plan
    if dialect in ("mysql", "mariadb"):
        return "filesort" in plan
    return False  # PostgreSQL chooses by its statistics, and chose well at volume


@pytest.mark.parametrize(
    "filters",
    [
        PatternFilters(),
        PatternFilters(status="open"),
        PatternFilters(timeframe="4h"),
        PatternFilters(symbol="S03/USDT"),
    ],
    ids=["all", "open", "timeframe", "symbol"],
)
def test_the_zone_list_walks_the_time_index(session: Session, filters: PatternFilters) -> None:
    _seed(session)
    dialect = session.get_bind().dialect.name
    page = None

    def run() -> None:
        nonlocal page
        page = list_patterns_after(
            session, exchange=EXCHANGE, filters=filters, limit=50, cursor=None
        )

    plan = _plan(session, run)
    assert not _sorts_everything(dialect, plan), plan
    assert page is not None
    assert len(page.rows) == 50
    times = [row.formed_at for row in page.rows]
    assert times == sorted(times, reverse=True)


def test_the_signal_list_walks_the_time_index(session: Session) -> None:
    _seed(session)
    dialect = session.get_bind().dialect.name
    plan = _plan(
        session,
        lambda: list_signals_after(
            session, exchange=EXCHANGE, filters=SignalFilters(), limit=50, cursor=None
        ),
    )
    assert not _sorts_everything(dialect, plan), plan
