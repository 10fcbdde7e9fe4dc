from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import HOUR_MS
from cryptolens.services.market.clock import record_market_now
from cryptolens.services.views.listing import PageRequest
from cryptolens.services.views.zone_list import PatternFilters, list_patterns, parse_pattern_filters
from tests.web.seeding import EXCHANGE, T0, add_pattern, add_symbol


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ({"timeframe": "7m"}, "timeframe"),
        ({"type": "triangle"}, "type"),
        ({"direction": "up"}, "direction"),
        ({"status": "gone"}, "status"),
        ({"symbol": "BTCUSDT"}, "BASE/QUOTE"),
    ],
)
def test_bad_filter_values_are_refused_naming_the_argument(
    args: dict[str, str], named: str
) -> None:
    with pytest.raises(ValidationError, match=named):
        parse_pattern_filters(args)


def test_filters_parse_and_round_trip_to_query_arguments() -> None:
    args = {"symbol": "eth/usdt", "timeframe": "4h", "type": "fvg", "status": "open"}
    filters = parse_pattern_filters(args)
    assert filters.symbol == "ETH/USDT"
    assert parse_pattern_filters(filters.as_args()) == filters


def test_lists_newest_first_with_age_on_the_market_clock(session: Session) -> None:
    btc = add_symbol(session, "BTC/USDT")
    old = add_pattern(session, symbol_id=btc, formed_at=T0)
    new = add_pattern(session, symbol_id=btc, formed_at=T0 + 5 * HOUR_MS)
    record_market_now(session, exchange=EXCHANGE, now_ms=T0 + 6 * HOUR_MS)
    session.commit()
    page = list_patterns(
        session, exchange=EXCHANGE, filters=PatternFilters(), page=PageRequest(1, 10)
    )
    assert [row.id for row in page.rows] == [new.id, old.id]
    assert [row.age_ms for row in page.rows] == [HOUR_MS, 6 * HOUR_MS]
    assert not page.has_next


def test_filters_select_symbol_timeframe_and_open_status(session: Session) -> None:
    btc = add_symbol(session, "BTC/USDT")
    eth = add_symbol(session, "ETH/USDT")
    wanted = add_pattern(session, symbol_id=btc, timeframe="4h", status="touched")
    add_pattern(session, symbol_id=btc, timeframe="4h", status="filled")
    add_pattern(session, symbol_id=btc, timeframe="1h", status="active")
    add_pattern(session, symbol_id=eth, timeframe="4h", status="active")
    session.commit()
    filters = parse_pattern_filters({"symbol": "BTC/USDT", "timeframe": "4h", "status": "open"})
    page = list_patterns(session, exchange=EXCHANGE, filters=filters, page=PageRequest(1, 10))
    assert [row.id for row in page.rows] == [wanted.id]
    assert page.rows[0].age_ms is None  # no market clock recorded yet


def test_pages_follow_each_other_and_limit_total_caps_the_history(session: Session) -> None:
    btc = add_symbol(session)
    ids = [add_pattern(session, symbol_id=btc).id for _ in range(7)]
    session.commit()
    newest_first = ids[::-1]

    def page(number: int, limit_total: int | None = None) -> list[int]:
        found = list_patterns(
            session,
            exchange=EXCHANGE,
            filters=PatternFilters(),
            page=PageRequest(number, 3),
            limit_total=limit_total,
        )
        return [row.id for row in found.rows] + (["more"] if found.has_next else [])  # type: ignore[list-item]

    assert page(1) == [*newest_first[:3], "more"]
    assert page(3) == newest_first[6:]
    assert page(1, limit_total=4) == [*newest_first[:3], "more"]
    assert page(2, limit_total=4) == newest_first[3:4]
    assert page(3, limit_total=4) == []
