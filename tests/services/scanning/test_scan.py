"""The scanner end to end on a real database: catch-up, idempotence, races, failures."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.db.models import Pattern, ScanState, Signal, SignalPattern
from cryptolens.detect import Candles, detect_all
from cryptolens.services.ops.runtime_settings import RuntimeSettings, save_runtime
from cryptolens.services.scanning.scan import scan_all_stored, scan_stored, signal_line
from cryptolens.signals import zone_events
from tests.builders.db import add_symbol, store

START = 600  # candles present at the first scan
CATCH_UP = 240  # then ten days more


def _patterns(engine: Engine, symbol_id: int) -> list[tuple[Any, ...]]:
    with Session(engine) as s:
        rows = s.execute(
            select(
                Pattern.timeframe,
                Pattern.pattern_type,
                Pattern.direction,
                Pattern.formed_at,
                Pattern.zone_low,
                Pattern.zone_high,
                Pattern.strength,
                Pattern.status,
                Pattern.fill_fraction,
                Pattern.touched_at,
                Pattern.filled_at,
                Pattern.invalidated_at,
                Pattern.expired_at,
                Pattern.expires_at,
            )
            .where(Pattern.symbol_id == symbol_id)
            .order_by(Pattern.formed_at, Pattern.timeframe, Pattern.pattern_type, Pattern.direction)
        ).all()
    return [tuple(r) for r in rows]


def _signals(engine: Engine, symbol_id: int) -> list[tuple[Any, ...]]:
    with Session(engine) as s:
        rows = s.execute(
            select(
                Signal.created_at,
                Signal.direction,
                Signal.timeframes,
                Signal.entry,
                Signal.stop,
                Signal.target_1,
                Signal.target_2,
                Signal.target_3,
                Signal.status,
                Signal.outcome,
                Signal.r_multiple,
                Signal.triggered_at,
                Signal.closed_at,
                Signal.targets_hit,
            )
            .where(Signal.symbol_id == symbol_id)
            .order_by(Signal.created_at, Signal.direction)
        ).all()
        links = s.execute(
            select(Signal.created_at, Pattern.timeframe, Pattern.pattern_type, Pattern.formed_at)
            .join(SignalPattern, SignalPattern.signal_id == Signal.id)
            .join(Pattern, Pattern.id == SignalPattern.pattern_id)
            .where(Signal.symbol_id == symbol_id)
            .order_by(Signal.created_at, Pattern.timeframe, Pattern.formed_at, Pattern.pattern_type)
        ).all()
    return [tuple(r) for r in rows] + [("link", *r) for r in links]


def _counts(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as s:
        return (
            s.scalar(select(func.count()).select_from(Pattern)) or 0,
            s.scalar(select(func.count()).select_from(Signal)) or 0,
            s.scalar(select(func.count()).select_from(SignalPattern)) or 0,
        )


def test_catch_up_after_downtime_equals_a_scanner_that_never_stopped(
    scan_engine: Engine, scan_settings: Settings, btc_hours: Candles
) -> None:
    live = add_symbol(scan_engine, "LIVE/USD")
    late = add_symbol(scan_engine, "LATE/USD")
    for sid in (live, late):
        store(scan_engine, scan_settings, sid, btc_hours[:START])
        scan_stored(scan_engine, scan_settings, symbol_id=sid, symbol=str(sid))
    # LIVE is scanned after every hourly close; LATE was down and scans ten days at once.
    for i in range(START, START + CATCH_UP):
        store(scan_engine, scan_settings, live, btc_hours[i : i + 1])
        result = scan_stored(scan_engine, scan_settings, symbol_id=live, symbol="LIVE/USD")
        assert result.error is None
    store(scan_engine, scan_settings, late, btc_hours[START : START + CATCH_UP])
    caught_up = scan_stored(scan_engine, scan_settings, symbol_id=late, symbol="LATE/USD")
    assert caught_up.candles == CATCH_UP

    live_signals = _signals(scan_engine, live)
    assert sum(1 for row in live_signals if row[0] != "link") >= 3, "too few signals to compare"
    assert _patterns(scan_engine, late) == _patterns(scan_engine, live)
    assert _signals(scan_engine, late) == live_signals


def test_a_scan_run_twice_stores_nothing_twice(
    scan_engine: Engine, scan_settings: Settings, btc_hours: Candles
) -> None:
    sid = add_symbol(scan_engine, "BTC/USDT")
    store(scan_engine, scan_settings, sid, btc_hours[:800])
    first = scan_stored(scan_engine, scan_settings, symbol_id=sid, symbol="BTC/USDT")
    before = _counts(scan_engine)
    second = scan_stored(scan_engine, scan_settings, symbol_id=sid, symbol="BTC/USDT")
    assert first.zones_new > 0
    assert first.signals_new > 0
    assert (second.candles, second.zones_new, second.signals_new) == (0, 0, 0)
    assert _counts(scan_engine) == before


def test_a_lost_scan_state_rescans_without_duplicating_zones_or_signals(
    scan_engine: Engine, scan_settings: Settings, btc_hours: Candles
) -> None:
    sid = add_symbol(scan_engine, "BTC/USDT")
    store(scan_engine, scan_settings, sid, btc_hours[:800])
    scan_stored(scan_engine, scan_settings, symbol_id=sid, symbol="BTC/USDT")
    before = _counts(scan_engine)
    with scan_engine.begin() as connection:
        connection.execute(ScanState.__table__.delete())
    again = scan_stored(scan_engine, scan_settings, symbol_id=sid, symbol="BTC/USDT")
    assert again.error is None
    assert again.zones_new > 0
    assert _counts(scan_engine) == before


def test_two_workers_scanning_one_symbol_store_each_zone_and_signal_once(
    scan_engine: Engine, scan_settings: Settings, btc_hours: Candles
) -> None:
    sid = add_symbol(scan_engine, "BTC/USDT")
    store(scan_engine, scan_settings, sid, btc_hours[:1200])
    results = []
    barrier = threading.Barrier(2)

    def work() -> None:
        barrier.wait()
        results.append(scan_stored(scan_engine, scan_settings, symbol_id=sid, symbol="BTC/USDT"))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.error is None for r in results), results
    done = [r for r in results if r.skipped is None]
    assert len(done) >= 1
    patterns, signals, _links = _counts(scan_engine)
    assert patterns == done[0].zones_new
    assert signals == done[0].signals_new


def test_one_symbols_failure_is_reported_and_the_others_are_scanned(
    scan_engine: Engine, scan_settings: Settings, btc_hours: Candles
) -> None:
    broken = add_symbol(scan_engine, "BAD/USD")
    healthy = add_symbol(scan_engine, "GOOD/USD")
    for sid in (broken, healthy):
        store(scan_engine, scan_settings, sid, btc_hours[:300])
    scan_all_stored(scan_engine, scan_settings)

    def hourly_progress() -> int | None:
        with Session(scan_engine) as s:
            return s.scalar(
                select(ScanState.scanned_through).where(
                    ScanState.symbol_id == broken, ScanState.timeframe == "1h"
                )
            )

    before = hourly_progress()
    store(scan_engine, scan_settings, broken, btc_hours[300:330])
    store(scan_engine, scan_settings, healthy, btc_hours[300:330])
    with scan_engine.begin() as connection:
        connection.execute(
            update(ScanState)
            .where(ScanState.symbol_id == broken, ScanState.timeframe == "1d")
            .values(detector_state={"format": 999})
        )
    results = {r.symbol: r for r in scan_all_stored(scan_engine, scan_settings)}
    assert results["BAD/USD"].error is not None
    assert results["GOOD/USD"].error is None
    assert results["GOOD/USD"].candles == 30
    # The failed transaction was rolled back whole (1h was processed before 1d failed).
    assert before is not None
    assert hourly_progress() == before


@pytest.mark.parametrize("require_htf", [False, True])
def test_every_signal_has_its_zones_and_meets_the_confluence_rule(
    scan_engine: Engine, scan_settings: Settings, btc_hours: Candles, require_htf: bool
) -> None:
    settings = scan_settings.model_copy(update={"signal_require_htf": require_htf})
    sid = add_symbol(scan_engine, "BTC/USDT")
    store(scan_engine, settings, sid, btc_hours[:1500])
    scan_stored(scan_engine, settings, symbol_id=sid, symbol="BTC/USDT")
    clustered = 0
    with Session(scan_engine) as s:
        signals = s.scalars(select(Signal).where(Signal.symbol_id == sid)).all()
        assert signals
        for signal in signals:
            zones = s.execute(
                select(
                    Pattern.timeframe,
                    Pattern.direction,
                    Pattern.zone_low,
                    Pattern.zone_high,
                    Pattern.formed_at,
                )
                .join(SignalPattern, SignalPattern.pattern_id == Pattern.id)
                .where(SignalPattern.signal_id == signal.id)
            ).all()
            zone_tfs = {z.timeframe for z in zones}
            assert zone_tfs == set(signal.timeframes.split(","))
            assert {z.direction for z in zones} == {signal.direction}
            # One event, one vote: the stored confluence counts the linked zones' events.
            events = zone_events(
                *zip(*[(z[0], z[1] == "bullish", *z[2:]) for z in zones], strict=False)
            )
            assert signal.confluence == events.votes >= settings.signal_min_confluence
            assert signal.confluence <= len(zone_tfs)
            clustered += signal.confluence < len(zone_tfs)
            if require_htf:
                assert zone_tfs & {"4h", "1d"}
            risk = abs(signal.entry - signal.stop)
            assert signal.risk_reward == pytest.approx(abs(signal.target_3 - signal.entry) / risk)
    assert clustered, "no signal where one event spanned several timeframes"


def test_the_scanner_builds_no_zone_across_missing_candles(
    scan_engine: Engine, scan_settings: Settings, btc_hours: Candles
) -> None:
    symbol_id = add_symbol(scan_engine, "HOLE/USD")
    before, after = btc_hours[:300], btc_hours[313:600]  # 13 hours missing at the exchange
    store(scan_engine, scan_settings, symbol_id, before)
    scan_stored(scan_engine, scan_settings, symbol_id=symbol_id, symbol="HOLE/USD")
    store(scan_engine, scan_settings, symbol_id, after)
    result = scan_stored(scan_engine, scan_settings, symbol_id=symbol_id, symbol="HOLE/USD")
    assert result.error is None
    stored = {row[:4] for row in _patterns(scan_engine, symbol_id) if row[0] == "1h"}
    apart = {
        ("1h", zone.pattern_type.value, zone.direction.value, zone.formed_at)
        for side in (before, after)
        for zone in detect_all(side, "1h")
    }
    assert stored == apart


def test_the_scanner_reads_the_administrators_signal_overrides(
    scan_engine: Engine, scan_settings: Settings, btc_hours: Candles
) -> None:
    """Same candles, two symbols: the one scanned after an administrator raised the
    confluence rule above the configured timeframes' count gets no signal."""
    assert len(scan_settings.timeframes) < 8
    before = add_symbol(scan_engine, "BTC/USDT")
    after = add_symbol(scan_engine, "ETH/USDT")
    for sid in (before, after):
        store(scan_engine, scan_settings, sid, btc_hours[:1500])
    scan_stored(scan_engine, scan_settings, symbol_id=before, symbol="BTC/USDT")
    with Session(scan_engine) as s, s.begin():
        save_runtime(s, RuntimeSettings(signal_min_confluence=8), now=utcnow())
    scan_stored(scan_engine, scan_settings, symbol_id=after, symbol="ETH/USDT")
    assert len(_signals(scan_engine, before)) > 0
    assert _signals(scan_engine, after) == []


def test_each_new_signal_gets_one_readable_info_line(
    scan_engine: Engine, scan_settings: Settings, btc_hours: Candles
) -> None:
    sid = add_symbol(scan_engine, "BTC/USDT")
    store(scan_engine, scan_settings, sid, btc_hours[:1500])
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = records.append  # type: ignore[method-assign]
    scan_log = logging.getLogger("cryptolens.services.scanning.scan")
    scan_log.addHandler(handler)
    level = scan_log.level
    scan_log.setLevel(logging.INFO)  # whatever LOG_LEVEL an earlier test configured
    try:
        scan_stored(scan_engine, scan_settings, symbol_id=sid, symbol="BTC/USDT")
    finally:
        scan_log.removeHandler(handler)
        scan_log.setLevel(level)
    lines = [r.getMessage() for r in records if r.getMessage().startswith("new signal")]
    assert all(r.levelno == logging.INFO for r in records if r.getMessage() in lines)
    with Session(scan_engine) as s:
        signals = s.scalars(select(Signal).where(Signal.symbol_id == sid)).all()
    assert signals
    assert len(lines) == len(signals)
    first = min(signals, key=lambda signal: signal.id)
    assert lines[0] == signal_line(
        "BTC/USDT",
        first.id,
        {
            "direction": first.direction,
            "confluence": first.confluence,
            "timeframes": first.timeframes,
            "entry": first.entry,
            "stop": first.stop,
            "target_1": first.target_1,
            "target_2": first.target_2,
            "target_3": first.target_3,
        },
    )


def test_a_signal_line_names_symbol_direction_confluence_and_levels() -> None:
    values = {
        "direction": "long",
        "confluence": 3,
        "timeframes": "1h,4h,1d",
        "entry": 100.0,
        "stop": 98.5,
        "target_1": 101.5,
        "target_2": 103.0,
        "target_3": 104.5,
    }
    assert signal_line("BTC/USDT", 12, values) == (
        "new signal #12 BTC/USDT LONG confluence 3 (1h,4h,1d) entry 100 stop 98.5 "
        "targets 101.5 / 103 / 104.5"
    )
