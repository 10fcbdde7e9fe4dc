"""The chart API's ``end`` (epoch ms, exclusive): the chart page loads older candles, and the
zones formed among them, page by page as the reader scrolls left (issue 19)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from cryptolens.db.candles import upsert_candles
from cryptolens.domain.timeframes import HOUR_MS
from cryptolens.market.synthetic import synthetic_candles
from tests.web.seeding import T0, add_pattern, add_symbol

CANDLES = 30


def _store(session: Session) -> int:
    symbol_id = add_symbol(session, "BTC/USDT")
    candles = synthetic_candles(CANDLES, start_ms=T0, step_ms=HOUR_MS)
    upsert_candles(session.connection(), symbol_id=symbol_id, timeframe="1h", candles=candles)
    session.commit()
    return symbol_id


def _open_times(client: FlaskClient, query: str) -> list[int]:
    body = client.get(f"/api/chart/candles?symbol=BTC/USDT&timeframe=1h&{query}").get_json()
    assert body["success"] is True, body
    assert body["meta"]["count"] == len(body["data"]["open_time"])
    times: list[int] = body["data"]["open_time"]
    return times


def test_end_answers_the_newest_candles_opening_before_it(
    premium: FlaskClient, session: Session
) -> None:
    _store(session)
    assert _open_times(premium, f"limit=10&end={T0 + 20 * HOUR_MS}") == [
        T0 + h * HOUR_MS for h in range(10, 20)
    ]
    # A candle opening exactly at ``end`` is not included: pages never overlap.
    assert _open_times(premium, f"limit=3&end={T0 + 1 * HOUR_MS}") == [T0]
    assert _open_times(premium, f"limit=10&end={T0}") == []


@pytest.mark.parametrize("page_size", [1, 7, 29, 30, 100])
def test_paging_back_from_the_newest_candle_joins_into_the_whole_series(
    premium: FlaskClient, session: Session, page_size: int
) -> None:
    _store(session)
    joined = _open_times(premium, f"limit={page_size}")
    pages = 1
    while True:
        older = _open_times(premium, f"limit={page_size}&end={joined[0]}")
        if not older:
            break
        assert older[-1] < joined[0]
        joined = older + joined
        pages += 1
    assert joined == [T0 + h * HOUR_MS for h in range(CANDLES)]
    assert pages == -(-CANDLES // page_size)


def test_zones_formed_among_an_older_page_come_with_start_and_end(
    premium: FlaskClient, session: Session
) -> None:
    symbol_id = _store(session)
    formed = [T0 + h * HOUR_MS for h in (2, 9, 10, 17, 25)]
    ids = [
        add_pattern(session, symbol_id=symbol_id, candle_time=at - 2 * HOUR_MS, formed_at=at).id
        for at in formed
    ]
    session.commit()
    start, end = T0 + 9 * HOUR_MS, T0 + 17 * HOUR_MS
    body = premium.get(
        f"/api/chart/zones?symbol=BTC/USDT&timeframe=1h&start={start}&end={end}"
    ).get_json()
    assert [zone["id"] for zone in body["data"]] == ids[1:3]
    assert [zone["formed_at"] for zone in body["data"]] == formed[1:3]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("end=yesterday", "end must be a whole number (got 'yesterday')"),
        ("end=-5", "end must be between 0 and"),
        (f"end={2**62 + 1}", "end must be between 0 and"),
    ],
)
def test_a_bad_end_is_refused_with_a_message(
    premium: FlaskClient, session: Session, query: str, message: str
) -> None:
    _store(session)
    answer = premium.get(f"/api/chart/candles?symbol=BTC/USDT&{query}")
    assert answer.status_code == 400
    assert message in answer.get_json()["error"]
