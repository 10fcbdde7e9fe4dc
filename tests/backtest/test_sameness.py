"""Proof of sameness: the live path (simulator -> ingestion -> scanner -> database) and the
backtest replay of the same stored candles decide exactly the same signals and outcomes,
with the same zones behind each signal; also when stored finer candles settle candles that
reach a stop and a target."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cryptolens.backtest.engine import run_backtest
from cryptolens.backtest.execution import ExecutionModel
from cryptolens.backtest.replay import Replay, replay
from cryptolens.config import Settings
from cryptolens.db.candles import load_candles, upsert_candles
from cryptolens.db.models import Pattern, Signal, SignalPattern
from cryptolens.db.symbols import ensure_symbol
from cryptolens.detect import Candles
from cryptolens.domain.timeframes import HOUR_MS, TIMEFRAME_MS
from cryptolens.market.aggregate import aggregate_candles
from cryptolens.market.simulator import Dataset, SimulatorServer
from cryptolens.market.simulator.demo import demo_datasets
from cryptolens.services.market.candle_store import store_candles
from cryptolens.services.scanning.scan import scan_stored
from cryptolens.services.scanning.session import ScanSession
from tests.builders.db import add_symbol
from tests.builders.market import MINUTE, T0, exact_dataset
from tests.builders.settings import make_settings

#: Hours the simulator's clock moves between scan cycles: single closes, catch-ups after
#: downtime, a day at once.
ADVANCES = [1, 1, 1, 3, 1, 7, 2, 24, 1, 1, 5, 13, 1, 48, 1, 2, 30, 1, 1, 72, 6, 1, 100, 1]
SIGNAL_COLUMNS = (
    Signal.created_at,
    Signal.direction,
    Signal.entry,
    Signal.stop,
    Signal.target_1,
    Signal.target_2,
    Signal.target_3,
    Signal.confluence,
    Signal.timeframes,
    Signal.score,
    Signal.risk_reward,
    Signal.atr,
    Signal.expires_at,
    Signal.status,
    Signal.outcome,
    Signal.r_multiple,
    Signal.triggered_at,
    Signal.closed_at,
    Signal.targets_hit,
    Signal.tracked_through,
)


def _stored(engine: Engine, symbol_id: int) -> tuple[list[tuple[Any, ...]], dict[int, set[Any]]]:
    with Session(engine) as s:
        rows = s.execute(
            select(*SIGNAL_COLUMNS)
            .where(Signal.symbol_id == symbol_id)
            .order_by(Signal.created_at, Signal.direction)
        ).all()
        links = s.execute(
            select(
                Signal.created_at,
                Pattern.timeframe,
                Pattern.pattern_type,
                Pattern.direction,
                Pattern.formed_at,
            )
            .join(SignalPattern, SignalPattern.signal_id == Signal.id)
            .join(Pattern, Pattern.id == SignalPattern.pattern_id)
            .where(Signal.symbol_id == symbol_id)
        ).all()
    zones: dict[int, set[Any]] = {}
    for created_at, *key in links:
        zones.setdefault(created_at, set()).add(tuple(key))
    return [tuple(r) for r in rows], zones


def _replayed(result: Replay) -> tuple[list[tuple[Any, ...]], dict[int, set[Any]]]:
    rows = []
    for s in result.signals:
        d, lv, t = s.draft, s.draft.levels, s.outcome
        rows.append(
            (
                d.created_at,
                d.direction.value,
                lv.entry,
                lv.stop,
                *lv.targets,
                d.confluence,
                ",".join(d.timeframes),
                d.score,
                lv.risk_reward,
                d.atr,
                t.expires_at,
                t.status.value,
                t.outcome.value if t.outcome else None,
                t.r_multiple,
                t.triggered_at,
                t.closed_at,
                t.targets_hit,
                t.tracked_through,
            )
        )
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows, {s.draft.created_at: set(s.zones) for s in result.signals}


def _live_then_replay(
    engine: Engine,
    settings: Settings,
    data: Dataset,
    start: int,
    advances: list[int],
) -> tuple[int, tuple[list[tuple[Any, ...]], dict[int, set[Any]]], Replay]:
    """Scan cycles against the simulator from ``start``, the clock moved by each of
    ``advances`` (ms) in turn; then the replay of the base candles the live path stored.
    Returns the stored base candle count, the stored signals and the replay."""
    with Session(engine) as session, session.begin():
        symbol_id = ensure_symbol(session, exchange="binance", symbol="BTC/USDT").id
    sim = SimulatorServer({"BTC/USDT": data}, speed=0.0, start_at_ms=start + 30_000).start()
    settings = settings.model_copy(update={"exchange_api_url": sim.base_url})
    scans = ScanSession(engine, settings)
    try:
        scans.cycle()  # the first cycle fetches the history before the start
        for ms in advances:
            sim.clock.advance(ms)
            report = scans.cycle()
            assert not report.failed
            assert report.ingest is not None
            assert not report.ingest.failed
        now = sim.now_ms()
    finally:
        scans.close()
        sim.stop()
    with engine.connect() as connection:
        base = load_candles(connection, symbol_id=symbol_id, timeframe=settings.base_timeframe)
    result = replay(
        base,
        base_timeframe=settings.base_timeframe,
        timeframes=settings.timeframes,
        signals=settings.signal_params(),
        now_ms=now,
    )
    return len(base), _stored(engine, symbol_id), result


def test_the_backtest_decides_exactly_the_signals_and_outcomes_the_live_scanner_stored(
    clean_engine: Engine, database_url: str
) -> None:
    data = demo_datasets()["BTC/USDT"]
    settings = make_settings(
        database_url=database_url,
        base_timeframe="1h",
        timeframes=("1h", "2h", "4h", "1d"),
        exchange_id="binance",
        symbols=("BTC/USDT",),
    )
    start = int(data.open_time[0]) + 1_200 * HOUR_MS
    count, (live_rows, live_zones), result = _live_then_replay(
        clean_engine, settings, data, start, [h * HOUR_MS for h in ADVANCES]
    )
    rows, zones = _replayed(result)

    assert count == 1_000 + sum(ADVANCES)
    assert len(live_rows) >= 20, "too few signals to compare"
    outcomes = {row[14] for row in live_rows}
    assert {"stop", "unfilled"} <= outcomes
    assert outcomes & {"tp1", "tp2", "tp3"}
    assert rows == live_rows
    assert zones == live_zones


def test_on_minute_candles_and_every_timeframe_the_backtest_matches_the_live_scanner(
    clean_engine: Engine, database_url: str
) -> None:
    data = exact_dataset(5 * 24 * 60, seed=7)
    settings = make_settings(
        database_url=database_url,
        base_timeframe="1m",
        timeframes=tuple(TIMEFRAME_MS),
        exchange_id="binance",
        symbols=("BTC/USDT",),
    )
    minutes = [1, 1, 2, 1, 5, 1, 17, 60, 1, 3, 240, 1, 1, 30, 720, 1, 9, 1440, 1, 2]
    start = T0 + 24 * HOUR_MS
    count, (live_rows, live_zones), result = _live_then_replay(
        clean_engine, settings, data, start, [m * MINUTE for m in minutes]
    )
    rows, zones = _replayed(result)

    assert count == 1_000 + sum(minutes)
    assert len(live_rows) >= 20, "too few signals to compare"
    assert {row[14] for row in live_rows} & {"stop", "tp1", "tp2", "tp3"}
    assert rows == live_rows
    assert zones == live_zones


def test_stored_finer_candles_settle_the_same_candles_in_the_backtest_as_live(
    clean_engine: Engine, database_url: str
) -> None:
    settings = make_settings(
        database_url=database_url,
        base_timeframe="5m",
        timeframes=("5m", "15m", "1h", "4h"),
        exchange_id="binance",
    )
    data = exact_dataset(6 * 24 * 60, seed=11)  # a seed whose trades need finer candles
    minutes = Candles(data.open_time, data.open, data.high, data.low, data.close, data.volume)
    five = aggregate_candles(minutes, base_timeframe="1m", target_timeframe="5m").as_candles()
    symbol_id = add_symbol(clean_engine, "BTC/USDT")
    with clean_engine.begin() as connection:
        upsert_candles(connection, symbol_id=symbol_id, timeframe="1m", candles=minutes)
    bounds = [0, 300, 301, 310, 400, 700, 701, 1_100, 1_400, 1_700, len(five)]
    for a, b in itertools.pairwise(bounds):
        with clean_engine.begin() as connection:
            store_candles(
                connection,
                symbol_id=symbol_id,
                base_timeframe="5m",
                higher_timeframes=settings.higher_timeframes,
                candles=five[a:b],
                now_ms=int(five.open_time[b - 1]) + 5 * MINUTE,
            )
        scanned = scan_stored(clean_engine, settings, symbol_id=symbol_id, symbol="BTC/USDT")
        assert scanned.error is None
    live_rows, live_zones = _stored(clean_engine, symbol_id)

    result = run_backtest(
        five,
        base_timeframe="5m",
        timeframes=settings.timeframes,
        signals=settings.signal_params(),
        execution=ExecutionModel(max_positions_per_symbol=100, max_positions=100),
        finer=minutes,
        finer_timeframe="1m",
    )
    rows, zones = _replayed(result.replays[""])

    assert sum(t.resolved_by_finer for t in result.trades) >= 1, "no candle needed finer ones"
    assert len(live_rows) >= 20, "too few signals to compare"
    assert rows == live_rows
    assert zones == live_zones
