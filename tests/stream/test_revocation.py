"""Ending a session, deactivating an account or revoking a key closes open streams within a
heartbeat (0.5 s in these tests), with a reason the client can read."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

import aiohttp
from flask import Flask

from cryptolens.extensions import db
from cryptolens.services.accounts.accounts import end_all_sessions, set_active
from cryptolens.services.accounts.api_keys import revoke_key
from tests.builders.api_keys import make_key
from tests.builders.stream import GatewayServer, SseClient, SseEvent, session_cookie
from tests.web.accounts_helpers import make_user

Sse = Callable[..., SseClient]


def _closing_after(client: SseClient, change: Callable[[], None]) -> tuple[SseEvent, float]:
    client.events(1)
    started = time.monotonic()
    change()
    while True:
        event = client.next()
        assert isinstance(event, SseEvent), "the stream ended without a close event"
        if event.type == "close":
            return event, time.monotonic() - started


def _user_id(app: Flask, email: str) -> int:
    from sqlalchemy import select

    from cryptolens.db.accounts import User

    with app.app_context():
        return int(db.session.scalar(select(User.id).where(User.email == email)) or 0)


def test_signing_out_everywhere_closes_the_stream_within_a_heartbeat(sse: Sse, app: Flask) -> None:
    client = sse("signals", cookie=session_cookie(app, "out@example.com", "pro"))
    user_id = _user_id(app, "out@example.com")

    def sign_out_everywhere() -> None:
        with app.app_context():
            end_all_sessions(db.session(), user_id=user_id, now=datetime.now(UTC))
            db.session.commit()

    event, took = _closing_after(client, sign_out_everywhere)
    assert event.data == {"reason": "session_ended"}
    assert took < 1.5
    assert client.next() is None  # and the connection ends


def test_deactivating_the_account_closes_the_stream(sse: Sse, app: Flask) -> None:
    client = sse("signals", cookie=session_cookie(app, "gone@example.com", "pro"))
    user_id = _user_id(app, "gone@example.com")

    def deactivate() -> None:
        with app.app_context():
            set_active(db.session(), user_id=user_id, active=False)
            db.session.commit()

    event, _ = _closing_after(client, deactivate)
    assert event.data == {"reason": "session_ended"}


def test_revoking_the_api_key_closes_its_websocket_with_4401(
    gateway: GatewayServer, app: Flask
) -> None:
    person = make_user(app, "bot@example.com", plan="premium")
    key_id, key = make_key(app, person.id, scopes=("read:stream",))

    async def scenario() -> tuple[int | None, str, float]:
        async with aiohttp.ClientSession() as http:
            headers = {"Authorization": f"Bearer {key}"}
            async with http.ws_connect(f"{gateway.base}/ws", headers=headers) as ws:
                hello = await ws.receive_json(timeout=5)
                assert hello["type"] == "hello"
                started = time.monotonic()
                with app.app_context():
                    revoke_key(db.session(), key_id=key_id, user_id=None, now=datetime.now(UTC))
                    db.session.commit()
                message = await ws.receive(timeout=5)
                assert message.type is aiohttp.WSMsgType.CLOSE
                return ws.close_code, str(message.extra), time.monotonic() - started

    code, reason, took = asyncio.run(scenario())
    assert code == 4401
    assert reason == "session_ended"
    assert took < 1.5
