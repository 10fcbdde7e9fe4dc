"""What the live pages need from the app (issue 19): where the stream is (the meta tag, the
CSP's connect-src), the connection indicator, and each user's toast filter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cryptolens import create_app
from cryptolens.config import Settings
from cryptolens.db.models import NotificationPreference, User
from cryptolens.extensions import db
from cryptolens.services.ops.background import wait_for_background
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import make_user, sign_in, signed_in_client

GATEWAY = "http://127.0.0.1:5001"


def _app(settings: Settings, **changes: object) -> Iterator[Flask]:
    application = create_app(settings.model_copy(update=changes))
    yield application
    wait_for_background()
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def streaming_app(app: Flask, settings: Settings) -> Iterator[Flask]:
    """Pages that open the stream at a gateway of its own origin (the tables: ``app``'s)."""
    yield from _app(settings, stream_pages=True, stream_public_url=GATEWAY)


@pytest.fixture
def same_origin_app(app: Flask, settings: Settings) -> Iterator[Flask]:
    """Pages that open the stream on the site's own origin (nginx routes /stream)."""
    yield from _app(settings, stream_pages=True)


def _connect_src(client: FlaskClient, path: str = "/") -> str:
    policy = client.get(path).headers["Content-Security-Policy"]
    return next(part for part in policy.split("; ") if part.startswith("connect-src"))


def test_signed_in_pages_name_the_stream_and_show_the_connection_indicator(
    streaming_app: Flask,
) -> None:
    client = signed_in_client(streaming_app, "live@example.com", plan="premium")
    page = client.get("/stats").get_data(as_text=True)
    assert f'<meta name="stream-url" content="{GATEWAY}/stream">' in page
    assert '<meta name="toasts-url" content="/api/live/toasts">' in page
    assert 'id="live-state"' in page
    assert 'id="toasts"' in page
    assert "/static/js/live.js" in page
    assert _connect_src(client, "/stats") == f"connect-src 'self' {GATEWAY}"


def test_signed_out_visitors_get_no_stream(streaming_app: Flask) -> None:
    page = streaming_app.test_client().get("/").get_data(as_text=True)
    assert "stream-url" not in page
    assert "live.js" not in page


def test_an_unverified_users_pages_do_not_open_the_stream(streaming_app: Flask) -> None:
    client = streaming_app.test_client()
    assert sign_in(client, make_user(streaming_app, "new@example.com", verified=False))
    page = client.get("/auth/verify-pending").get_data(as_text=True)
    assert "Verify" in page or "verify" in page
    assert "stream-url" not in page


def test_same_origin_stream_is_at_slash_stream_and_the_csp_adds_nothing(
    same_origin_app: Flask,
) -> None:
    client = signed_in_client(same_origin_app, "same@example.com")
    page = client.get("/").get_data(as_text=True)
    assert '<meta name="stream-url" content="/stream">' in page
    assert _connect_src(client) == "connect-src 'self'"


def test_with_stream_pages_off_no_page_opens_the_stream(premium: FlaskClient) -> None:
    page = premium.get("/").get_data(as_text=True)
    assert "stream-url" not in page
    assert "live-state" not in page
    assert _connect_src(premium) == "connect-src 'self'"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ftp://127.0.0.1:5001", "must be an absolute http:// or https:// URL"),
        ("127.0.0.1:5001", "must be an absolute http:// or https:// URL"),
        ("http://127.0.0.1:5001/?x=1", "must not have a query or fragment"),
    ],
)
def test_a_bad_stream_public_url_is_refused_naming_the_setting(value: str, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        make_settings(stream_public_url=value)
    assert "stream_public_url" in str(raised.value).lower()
    assert message in str(raised.value)


def test_stream_public_url_may_carry_a_path_but_the_csp_names_its_origin() -> None:
    settings = make_settings(stream_pages=True, stream_public_url="https://live.example.com/lens/")
    assert settings.page_stream_url == "https://live.example.com/lens/stream"
    assert settings.stream_origin == "https://live.example.com"
    assert make_settings(stream_public_url=GATEWAY).page_stream_url is None  # pages off


def _toasts(client: FlaskClient) -> dict[str, object]:
    answer = client.get("/api/live/toasts")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["success"] is True
    data: dict[str, object] = body["data"]
    return data


def _user_id(session: Session, email: str) -> int:
    found = session.scalars(select(User.id).where(User.email == email)).one()
    return int(found)


def test_toasts_by_default_announce_every_signal_the_plan_shows(
    app: Flask, settings: Settings
) -> None:
    client = signed_in_client(app, "plain@example.com", plan="premium")
    assert _toasts(client) == {
        "directions": ["bullish", "bearish"],
        "min_confluence": settings.signal_min_confluence,
        "symbols": None,
        "timeframes": None,
    }


def test_toasts_follow_the_watchlist_then_the_saved_preferences(
    app: Flask, session: Session
) -> None:
    client = signed_in_client(app, "watcher@example.com", plan="pro")
    user_id = _user_id(session, "watcher@example.com")
    session.execute(update(User).where(User.id == user_id).values(watchlist=["ETH/USDT"]))
    session.commit()
    assert _toasts(client)["symbols"] == ["ETH/USDT"]
    session.add(
        NotificationPreference(
            user_id=user_id,
            directions=["bearish"],
            min_confluence=4,
            symbols=["SOL/USDT", "BTC/USDT"],
            timeframes=["4h"],
        )
    )
    session.commit()
    assert _toasts(client) == {
        "directions": ["bearish"],
        "min_confluence": 4,
        "symbols": ["SOL/USDT", "BTC/USDT"],
        "timeframes": ["4h"],
    }


def test_toasts_never_name_a_symbol_outside_the_free_plan(app: Flask, session: Session) -> None:
    client = signed_in_client(app, "free@example.com")
    assert _toasts(client)["symbols"] == ["BTC/USDT"]
    # Saved on a paid plan, then downgraded: ETH/USDT is no longer shown to this user.
    session.add(
        NotificationPreference(
            user_id=_user_id(session, "free@example.com"),
            directions=["bullish", "bearish"],
            min_confluence=2,
            symbols=["ETH/USDT", "BTC/USDT"],
        )
    )
    session.commit()
    assert _toasts(client)["symbols"] == ["BTC/USDT"]
