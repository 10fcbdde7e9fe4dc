"""Every time on the pages is shown in the reader's time zone (``users.timezone``), with its
abbreviation, DST-correct; anonymous visitors and new accounts see UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient

from cryptolens.domain.timeframes import datetime_to_ms
from cryptolens.extensions import db
from tests.web.accounts_helpers import make_user, post_form, sign_in
from tests.web.seeding import add_signal, add_symbol

WINTER = datetime(2026, 1, 15, 17, 5, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 17, 5, tzinfo=UTC)


def _signals(app: Flask) -> tuple[int, int]:
    with app.app_context():
        btc = add_symbol(db.session, "BTC/USDT")
        winter = add_signal(db.session, symbol_id=btc, created_at=datetime_to_ms(WINTER)).id
        summer = add_signal(db.session, symbol_id=btc, created_at=datetime_to_ms(SUMMER)).id
        db.session.commit()
    return winter, summer


def _pro_in(app: Flask, client: FlaskClient, zone: str | None) -> None:
    sign_in(client, make_user(app, "trader@example.com", plan="pro"))
    if zone is not None:
        saved = post_form(client, "/account/", {"timezone": zone}, form_path="/account/")
        assert saved.status_code == 302


def test_a_new_york_trader_sees_signal_times_shifted_by_the_season(
    app: Flask, client: FlaskClient
) -> None:
    winter, summer = _signals(app)
    _pro_in(app, client, "America/New_York")
    page = client.get("/signals").text
    assert "2026-01-15 12:05 EST" in page
    assert "2026-07-15 13:05 EDT" in page
    assert "17:05" not in page
    assert "2026-07-15 13:05 EDT" in client.get(f"/signals/{summer}").text
    assert "2026-01-15 12:05 EST" in client.get(f"/signals/{winter}").text
    assert "times in America/New_York" in page


def test_a_new_account_sees_utc(app: Flask, client: FlaskClient) -> None:
    _signals(app)
    _pro_in(app, client, None)
    page = client.get("/signals").text
    assert "2026-01-15 17:05 UTC" in page
    assert "2026-07-15 17:05 UTC" in page


def test_session_times_on_the_profile_follow_the_zone(app: Flask, client: FlaskClient) -> None:
    _pro_in(app, client, "Asia/Tokyo")
    assert " JST" in client.get("/account/").text


def test_the_profile_offers_every_zone_and_refuses_an_unknown_one(
    app: Flask, client: FlaskClient
) -> None:
    _pro_in(app, client, "Europe/Paris")
    page = client.get("/account/").text
    assert '<select name="timezone"' in page
    assert "<option selected>Europe/Paris</option>" in page
    assert "<option>Pacific/Auckland</option>" in page
    refused = post_form(client, "/account/", {"timezone": "Europe/Atlantis"}, form_path="/account/")
    assert refused.status_code == 400
    assert "Unknown time zone &#39;Europe/Atlantis&#39;" in refused.text
