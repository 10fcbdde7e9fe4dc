from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from cryptolens.db.candles import upsert_candles
from cryptolens.domain.timeframes import HOUR_MS
from cryptolens.extensions import cache, db
from cryptolens.market.synthetic import synthetic_candles
from cryptolens.services.market.clock import record_market_now
from tests.web.seeding import EXCHANGE, T0, add_pattern, add_signal, add_symbol


@contextmanager
def counted_queries(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def seed(session: Session, *, symbols: int, zones: int, signals: int) -> int:
    """``symbols`` symbols with candles on 1h, each with ``zones`` zones and ``signals``
    signals (every signal formed by two zones); returns the first signal's id."""
    first_signal = 0
    for n in range(symbols):
        symbol_id = add_symbol(session, f"C{n}/USDT")
        candles = synthetic_candles(48, seed=n, start_ms=T0, step_ms=HOUR_MS)
        upsert_candles(session.connection(), symbol_id=symbol_id, timeframe="1h", candles=candles)
        made = [
            add_pattern(
                session,
                symbol_id=symbol_id,
                timeframe=("1h", "4h")[i % 2],
                pattern_type=("fvg", "order_block", "liquidity_sweep")[i % 3],
                direction=("bullish", "bearish")[i % 2],
                status=("active", "touched", "filled")[i % 3],
            )
            for i in range(zones)
        ]
        for i in range(signals):
            signal = add_signal(
                session,
                symbol_id=symbol_id,
                patterns=tuple(made[:2]),
                outcome=("tp1", "stop", "unfilled")[i % 3],
                r_multiple=(1.0, -1.0, None)[i % 3],
                status="closed",
            )
            first_signal = first_signal or signal.id
    record_market_now(session, exchange=EXCHANGE, now_ms=T0 + 50 * HOUR_MS)
    session.commit()
    return first_signal


PAGES = [
    "/",
    "/patterns",
    "/patterns?symbol=C0/USDT&timeframe=1h&status=open",
    "/signals",
    "/signals/{signal}",
    "/stats",
    "/symbols/C0/USDT",
    "/api/chart/candles?symbol=C0/USDT&timeframe=1h&limit=100",
    "/api/chart/zones?symbol=C0/USDT&timeframe=1h",
    "/api/chart/signals?symbol=C0/USDT",
]


def signed_in_cost(app: Flask, client: FlaskClient) -> int:
    """Queries a signed-in request adds to any request (loading the account and plan),
    measured on a route that reads nothing else."""
    with counted_queries(app) as anonymous:
        assert app.test_client().get("/vendor/unknown.js").status_code == 404
    with counted_queries(app) as signed_in:
        assert client.get("/vendor/unknown.js").status_code == 404
    return len(signed_in) - len(anonymous)


def _queries_per_page(app: Flask, client: FlaskClient, signal_id: int) -> dict[str, int]:
    counts = {}
    for template in PAGES:
        url = template.format(signal=signal_id)
        with app.app_context():
            cache.clear()
        with counted_queries(app) as statements:
            answer = client.get(url)
        assert answer.status_code == 200, (url, answer.get_data(as_text=True)[:500])
        counts[template] = len(statements)
    return counts


def _seeded(app: Flask, **volume: int) -> int:
    # Seeded in its own app context: requests must not share (and hit) the seeding
    # session's identity map, or the account's queries would not be counted.
    with app.app_context():
        return seed(db.session, **volume)


def test_pages_use_a_fixed_number_of_queries_whatever_the_volume(
    app: Flask, premium: FlaskClient
) -> None:
    account = signed_in_cost(app, premium)
    assert 1 <= account <= 3
    few = _queries_per_page(app, premium, _seeded(app, symbols=1, zones=2, signals=1))
    more = _queries_per_page(app, premium, _seeded(app, symbols=6, zones=40, signals=12))
    assert more == few
    # + 1: the maintenance banner (runtime settings), read once a page when the cache is
    # cold, as here (cache.clear() before each page); cached between pages otherwise.
    assert max(few.values()) <= 6 + 1 + account


def test_matrix_is_cached_between_requests(
    app: Flask, session: Session, premium: FlaskClient
) -> None:
    symbol_id = add_symbol(session, "BTC/USDT")
    add_pattern(session, symbol_id=symbol_id, timeframe="1h")
    session.commit()
    client = premium
    with counted_queries(app) as first:
        assert "FVG ▲1" in client.get("/").get_data(as_text=True)
    add_pattern(session, symbol_id=symbol_id, timeframe="1h")
    session.commit()
    with counted_queries(app) as second:
        page = client.get("/").get_data(as_text=True)
    assert "FVG ▲1" in page  # still the cached matrix
    assert len(second) == len(first) - 2


@pytest.mark.parametrize("url", ["/patterns", "/signals"])
def test_lists_are_served_from_a_short_cache(
    app: Flask, session: Session, premium: FlaskClient, url: str
) -> None:
    symbol_id = add_symbol(session, "BTC/USDT")
    add_pattern(session, symbol_id=symbol_id, timeframe="1h")
    add_signal(session, symbol_id=symbol_id)
    session.commit()
    with counted_queries(app) as first:
        before = premium.get(url).get_data(as_text=True)
    add_pattern(session, symbol_id=symbol_id, timeframe="4h")
    add_signal(session, symbol_id=symbol_id)
    session.commit()
    with counted_queries(app) as second:
        after = premium.get(url).get_data(as_text=True)
    assert after == before  # the same rendered rows, without querying them again
    assert len(second) < len(first)
    with counted_queries(app) as filtered:
        premium.get(url + "?direction=bearish")  # other filters: a different cache entry
    assert len(filtered) == len(first)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/patterns?timeframe=7m", "timeframe must be one of"),
        ("/patterns?type=triangle", "type must be one of"),
        ("/patterns?status=gone", "status must be one of"),
        ("/patterns?page=0", "page must be between"),
        ("/patterns?per_page=5000", "per_page must be between"),
        ("/signals?outcome=moon", "outcome must be one of"),
        ("/symbols/BTCUSDT", "BASE/QUOTE"),
    ],
)
def test_bad_page_arguments_answer_400_with_the_reason(
    premium: FlaskClient, url: str, message: str
) -> None:
    answer = premium.get(url)
    assert answer.status_code == 400
    body = answer.get_data(as_text=True)
    assert message in body
    assert "Traceback" not in body


@pytest.mark.parametrize("url", ["/signals/424242", "/symbols/NOPE/USDT"])
def test_missing_things_answer_404(premium: FlaskClient, url: str) -> None:
    assert premium.get(url).status_code == 404


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/api/chart/candles?symbol=BTC/USDT&limit=5001", 400, "limit must be at most 5000"),
        ("/api/chart/candles?timeframe=1h", 400, "symbol is required"),
        ("/api/chart/candles?symbol=BTC/USDT&timeframe=3h", 400, "timeframe must be one of"),
        ("/api/chart/candles?symbol=XRP/USDT", 404, "XRP/USDT is not stored"),
        ("/api/chart/zones?symbol=BTC/USDT&limit=2001", 400, "limit must be at most 2000"),
        ("/api/chart/signals?symbol=BTC/USDT&limit=51", 400, "limit must be at most 50"),
    ],
)
def test_chart_endpoints_refuse_bad_requests_in_the_envelope(
    premium: FlaskClient, session: Session, url: str, status: int, message: str
) -> None:
    add_symbol(session, "BTC/USDT")
    session.commit()
    answer = premium.get(url)
    assert answer.status_code == status
    body = answer.get_json()
    assert body["success"] is False
    assert message in body["error"]


def test_chart_candles_are_the_newest_oldest_first(premium: FlaskClient, session: Session) -> None:
    symbol_id = add_symbol(session, "BTC/USDT")
    candles = synthetic_candles(30, start_ms=T0, step_ms=HOUR_MS)
    upsert_candles(session.connection(), symbol_id=symbol_id, timeframe="1h", candles=candles)
    session.commit()
    body = premium.get("/api/chart/candles?symbol=BTC/USDT&timeframe=1h&limit=5").get_json()
    assert body["success"] is True
    assert body["data"]["open_time"] == [T0 + h * HOUR_MS for h in range(25, 30)]
    assert body["data"]["close"] == pytest.approx(list(candles.close[25:]))
    assert body["meta"]["count"] == 5


def test_signal_page_shows_levels_zones_and_outcome(premium: FlaskClient, session: Session) -> None:
    symbol_id = add_symbol(session, "BTC/USDT")
    zone = add_pattern(session, symbol_id=symbol_id, timeframe="4h", zone_low=0.00001234)
    signal = add_signal(
        session,
        symbol_id=symbol_id,
        patterns=(zone,),
        entry=64123.5,
        status="closed",
        outcome="tp2",
        r_multiple=2.5,
        targets_hit=2,
    )
    session.commit()
    page = premium.get(f"/signals/{signal.id}").get_data(as_text=True)
    assert "64,123.5" in page
    assert "0.0000123400" in page
    assert "+2.50R" in page
    assert "2 / 3" in page
    assert "tp2" in page


def test_vendor_files_come_from_a_fixed_list(client: FlaskClient) -> None:
    assert client.get("/vendor/package.json").status_code == 404
    assert client.get("/vendor/..%2F..%2F__init__.py").status_code == 404


def test_every_area_is_its_own_blueprint(app: Flask) -> None:
    assert {"dashboard", "patterns", "signals", "symbols", "stats", "api"} <= set(app.blueprints)


def test_signal_page_groups_the_zones_of_one_market_event(
    premium: FlaskClient, session: Session
) -> None:
    day = 1_699_920_000_000  # 2023-11-14 00:00 UTC
    hour = 3_600_000
    symbol_id = add_symbol(session, "BTC/USDT")
    # A 1h sweep closing at 03:00 inside the 4h candle 00:00-04:00, ranges overlapping: one
    # event; a 1h gap closing at 09:00 is another.
    sweep_1h = add_pattern(
        session, symbol_id=symbol_id, timeframe="1h", pattern_type="liquidity_sweep",
        zone_low=99.0, zone_high=100.0, formed_at=day + 3 * hour,
    )  # fmt: skip
    sweep_4h = add_pattern(
        session, symbol_id=symbol_id, timeframe="4h", pattern_type="liquidity_sweep",
        zone_low=98.0, zone_high=99.5, formed_at=day + 4 * hour,
    )  # fmt: skip
    gap_1h = add_pattern(
        session, symbol_id=symbol_id, timeframe="1h", zone_low=96.0, zone_high=97.0,
        formed_at=day + 9 * hour,
    )  # fmt: skip
    signal = add_signal(
        session, symbol_id=symbol_id, patterns=(sweep_1h, sweep_4h, gap_1h), confluence=2
    )
    session.commit()
    page = premium.get(f"/signals/{signal.id}").get_data(as_text=True)
    assert "(2 market events)" in page
    first, second = page.split('id="event-1"')[1].split('id="event-2"')
    assert "Event 1 · 1h, 4h · 2 zones counted as one" in first
    assert first.count("<td>1h</td>") == 1
    assert first.count("<td>4h</td>") == 1
    assert "Event 2 · 1h<" in second
    assert second.split("</tbody>")[0].count("<td>1h</td>") == 1
