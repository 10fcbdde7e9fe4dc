"""Server-Sent Events at /stream: who may connect, what they get, and resuming."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import Engine

from tests.builders.stream import (
    ORIGIN,
    SseClient,
    SseEvent,
    record,
    session_cookie,
    signal_event,
    zone_event,
)

Sse = Callable[..., SseClient]


def test_a_stream_without_a_session_is_refused_with_401(sse: Sse) -> None:
    client = sse("signals")
    assert client.status == 401
    assert "Sign in" in client.body()["error"]


def test_a_forged_session_cookie_is_refused(sse: Sse, app: Flask) -> None:
    cookie = session_cookie(app, "pro@example.com", "pro")
    payload, _, signature = cookie.rpartition(".")
    forged = f"{payload}.{'A' * len(signature)}"
    assert sse("signals", cookie=forged).status == 401


def test_an_unknown_channel_is_refused_with_400_naming_it(sse: Sse) -> None:
    client = sse("signals,weather:BTC/USDT")
    assert client.status == 400
    assert "weather:BTC/USDT" in client.body()["error"]


def test_a_signed_in_user_gets_hello_then_new_signals_with_their_position_as_id(
    sse: Sse, app: Flask, migrated_engine: Engine, btc: int
) -> None:
    client = sse("signals", cookie=session_cookie(app, "p@example.com", "pro"))
    assert client.status == 200
    assert client.headers["content-type"].startswith("text/event-stream")
    [hello] = client.events(1)
    assert hello == SseEvent("hello", {"plan": "pro", "channels": ["signals"]}, None)
    record(migrated_engine, signal_event(btc, 41))
    [signal] = client.events(1)
    assert signal.type == "signal"
    assert signal.id is not None
    assert signal.id > 0
    assert signal.data["id"] == 41
    assert signal.data["symbol"] == "BTC/USDT"
    assert signal.data["targets"] == [105.0, 110.0, 115.0]
    assert signal.data["timeframes"] == ["1h", "4h"]
    assert signal.data["url"] == "/signals/41"


def test_heartbeats_are_sse_comments(sse: Sse, app: Flask) -> None:
    client = sse("signals", cookie=session_cookie(app, "h@example.com", "pro"))
    client.events(1)
    assert client.next(comments=True) == "ping"  # heartbeat 0.5 s in these tests


def test_a_reconnecting_client_gets_what_it_missed_after_its_last_event_id(
    sse: Sse, app: Flask, migrated_engine: Engine, btc: int
) -> None:
    cookie = session_cookie(app, "r@example.com", "premium")
    first = sse("signals,zones:BTC/USDT", cookie=cookie)
    first.events(1)
    record(migrated_engine, signal_event(btc, 1))
    [seen] = first.events(1)
    first.close()
    record(migrated_engine, zone_event(btc, formed_at=7), signal_event(btc, 2))
    record(migrated_engine, signal_event(btc, 3))
    assert seen.id is not None
    again = sse(
        "signals,zones:BTC/USDT",
        cookie=cookie,
        headers={"Last-Event-ID": str(seen.id)},
    )
    hello, *missed = again.events(4)
    assert hello.type == "hello"
    assert [(e.type, e.data.get("id")) for e in missed] == [
        ("zone", None),
        ("signal", 2),
        ("signal", 3),
    ]
    ids = [e.id for e in missed]
    assert ids == sorted(ids)
    assert all(i is not None and i > seen.id for i in ids)
    record(migrated_engine, signal_event(btc, 4))  # and then live, nothing twice
    [live] = again.events(1)
    assert live.data["id"] == 4


def test_the_app_origin_gets_cors_with_credentials_and_other_sites_cannot_use_the_cookie(
    sse: Sse, app: Flask
) -> None:
    cookie = session_cookie(app, "c@example.com", "pro")
    ours = sse("signals", cookie=cookie, headers={"Origin": ORIGIN})
    assert ours.status == 200
    assert ours.headers["access-control-allow-origin"] == ORIGIN
    assert ours.headers["access-control-allow-credentials"] == "true"
    theirs = sse("signals", cookie=cookie, headers={"Origin": "https://evil.example"})
    assert theirs.status == 401
    assert "access-control-allow-origin" not in theirs.headers


def test_a_development_page_on_localhost_may_use_the_stream_too(sse: Sse, app: Flask) -> None:
    cookie = session_cookie(app, "l@example.com", "pro")
    local = sse("signals", cookie=cookie, headers={"Origin": "http://localhost:5000"})
    assert local.status == 200
    assert local.headers["access-control-allow-origin"] == "http://localhost:5000"
