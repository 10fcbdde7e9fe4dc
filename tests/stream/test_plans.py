"""Plan policy on the stream: a Free user gets nothing the Free plan hides."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import Engine

from tests.builders.stream import SseClient, record, session_cookie, signal_event, zone_event

Sse = Callable[..., SseClient]


def test_free_gets_only_btc_fair_value_gaps_and_no_undelayed_signals_while_pro_gets_all(
    sse: Sse, app: Flask, migrated_engine: Engine, btc: int, eth: int
) -> None:
    channels = "signals,zones:BTC/USDT"
    free = sse(channels, cookie=session_cookie(app, "free@example.com", None))
    pro = sse(channels, cookie=session_cookie(app, "pro@example.com", "pro"))
    assert free.events(1)[0].data["plan"] == "free"
    assert pro.events(1)[0].data["plan"] == "pro"
    record(
        migrated_engine,
        zone_event(btc, pattern_type="order_block", formed_at=1),
        zone_event(btc, pattern_type="fvg", formed_at=2),
        signal_event(btc, 10, pattern_types=("fvg",)),  # Free: only after its 10-minute delay
        signal_event(eth, 11, pattern_types=("fvg",)),  # Free: not its symbol
        signal_event(btc, 12, pattern_types=("fvg", "order_block")),
        zone_event(btc, pattern_type="fvg", formed_at=3),  # the end marker
    )
    seen_free = [(e.type, e.data.get("formed_at"), e.data.get("id")) for e in free.events(2)]
    assert seen_free == [("zone", 2, None), ("zone", 3, None)]
    seen_pro = [
        (e.type, e.data["type"] if e.type == "zone" else e.data["id"]) for e in pro.events(6)
    ]
    assert seen_pro == [
        ("zone", "order_block"),
        ("zone", "fvg"),
        ("signal", 10),
        ("signal", 11),
        ("signal", 12),
        ("zone", "fvg"),
    ]


def test_free_cannot_open_another_symbols_channels(sse: Sse, app: Flask) -> None:
    cookie = session_cookie(app, "free2@example.com", None)
    refused = sse("signals,zones:ETH/USDT", cookie=cookie)
    assert refused.status == 403
    assert "ETH/USDT" in refused.body()["error"]
    assert sse("candles:ETH/USDT:1h", cookie=cookie).status == 403
    assert sse("price:BTC/USDT:1h", cookie=cookie).status == 200


def test_an_unverified_account_is_refused(sse: Sse, app: Flask) -> None:
    from tests.web.accounts_helpers import make_user, sign_in

    client = app.test_client()
    person = make_user(app, "new@example.com", verified=False)
    sign_in(client, person)
    cookie = client.get_cookie("session")
    assert cookie is not None
    refused = sse("signals", cookie=cookie.value)
    assert refused.status == 403
    assert "Verify" in refused.body()["error"]
