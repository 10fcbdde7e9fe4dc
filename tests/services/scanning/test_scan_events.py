"""The events a scan records: in its own transaction, one candle_closed per timeframe, and
the signals it names."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.events import EventRow
from cryptolens.db.events import record_events as real_record_events
from cryptolens.db.models import Pattern, ScanState, Signal, SignalPattern
from cryptolens.detect import Candles
from cryptolens.domain.events import NewEvent
from cryptolens.services.scanning import scan
from cryptolens.services.scanning.scan import scan_stored
from tests.builders.db import add_symbol, store
from tests.builders.metrics import recorded


def _events(engine: Engine) -> list[tuple[str, dict[str, Any]]]:
    with Session(engine) as session:
        rows = session.execute(select(EventRow.type, EventRow.payload).order_by(EventRow.id))
        return [(kind, payload) for kind, payload in rows]


def _count(engine: Engine, model: Any) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_scan_records_its_zones_signals_and_closes_and_names_the_signals_it_made(
    scan_engine: Engine, scan_settings: Settings, btc_hours: Candles
) -> None:
    sid = add_symbol(scan_engine, "BTC/USDT")
    store(scan_engine, scan_settings, sid, btc_hours[:800])
    first = scan_stored(scan_engine, scan_settings, symbol_id=sid, symbol="BTC/USDT")
    events = _events(scan_engine)
    kinds = Counter(kind for kind, _ in events)
    assert kinds["zone_formed"] == first.zones_new == _count(scan_engine, Pattern)
    assert kinds["candle_closed"] == len(scan_settings.timeframes)  # not one per candle
    with Session(scan_engine) as session:
        stored_signals = sorted(session.scalars(select(Signal.id)))
    assert sorted(first.signal_ids) == stored_signals
    assert sorted(p["signal_id"] for k, p in events if k == "signal_created") == stored_signals
    closes = {p["timeframe"]: p for k, p in events if k == "candle_closed"}
    assert closes["1h"]["candles"] == 800
    assert closes["1h"]["through"] == int(btc_hours.open_time[799])
    # What the real-time stream shows without a query: the last candle, the signal's levels
    # and the zone types behind it (plan policy filters by them).
    assert closes["1h"]["last"]["close"] == float(btc_hours.close[799])
    assert closes["1h"]["last"]["volume"] == float(btc_hours.volume[799])
    with Session(scan_engine) as session:
        stored = {s.id: s for s in session.scalars(select(Signal))}
        kinds_of = {p.id: p.pattern_type for p in session.scalars(select(Pattern))}
        links = session.execute(select(SignalPattern.signal_id, SignalPattern.pattern_id)).all()
    assert stored  # the history makes signals, so the loop below checks something
    for payload in (p for k, p in events if k == "signal_created"):
        row = stored[payload["signal_id"]]
        assert (payload["target_1"], payload["target_3"]) == (row.target_1, row.target_3)
        assert payload["confluence"] == row.confluence
        linked = {kinds_of[pid] for sid, pid in links if sid == row.id}
        assert set(payload["pattern_types"]) == linked

    store(scan_engine, scan_settings, sid, btc_hours[800:900])
    later = scan_stored(scan_engine, scan_settings, symbol_id=sid, symbol="BTC/USDT")
    changes = [p for k, p in _events(scan_engine)[len(events) :] if k == "zone_changed"]
    assert later.zones_closed > 0
    assert {c["change"] for c in changes} >= {"touched", "expired"}
    with Session(scan_engine) as session:
        rows = session.execute(select(Pattern.id, Pattern.status)).all()
    status = {row.id: row.status for row in rows}
    final = [c for c in changes if c["change"] != "touched"]
    assert len(final) == later.zones_closed - sum(
        1
        for k, p in _events(scan_engine)[len(events) :]
        if k == "zone_formed" and p["status"] not in ("active", "touched")
    )
    assert all(status[c["pattern_id"]] == c["change"] for c in final)


def test_a_rolled_back_scan_leaves_no_events_and_counts_no_signals(
    scan_engine: Engine,
    scan_settings: Settings,
    btc_hours: Candles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def record_then_fail(connection: Connection, events: list[NewEvent]) -> None:
        real_record_events(connection, events)
        raise RuntimeError("disk full")

    monkeypatch.setattr(scan, "record_events", record_then_fail)
    sid = add_symbol(scan_engine, "BTC/USDT")
    store(scan_engine, scan_settings, sid, btc_hours[:800])
    signals = recorded("cryptolens_signals_total")
    failed = scan_stored(scan_engine, scan_settings, symbol_id=sid, symbol="BTC/USDT")
    assert failed.error == "RuntimeError: disk full"
    assert recorded("cryptolens_signals_total") == signals
    assert _count(scan_engine, EventRow) == 0
    assert _count(scan_engine, Pattern) == _count(scan_engine, ScanState) == 0


def test_signals_count_once_their_scan_has_committed(
    scan_engine: Engine, scan_settings: Settings, btc_hours: Candles
) -> None:
    sid = add_symbol(scan_engine, "BTC/USDT")
    store(scan_engine, scan_settings, sid, btc_hours[:800])
    before = recorded("cryptolens_signals_total", exchange=scan_settings.exchange_id)
    first = scan_stored(scan_engine, scan_settings, symbol_id=sid, symbol="BTC/USDT")
    assert first.signals_new > 0
    after = recorded("cryptolens_signals_total", exchange=scan_settings.exchange_id)
    assert after == before + first.signals_new
