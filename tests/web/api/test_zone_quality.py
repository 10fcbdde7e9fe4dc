"""The zone-quality probability on the zones page, the signal page, the chart API and API v1."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from cryptolens.extensions import db
from tests.builders.api import call, make_key
from tests.web.accounts_helpers import Person, sign_in
from tests.web.seeding import add_pattern, add_signal, add_symbol

VERSION = "20260105T040000Z"


def seed(app: Flask) -> int:
    with app.app_context():
        btc = add_symbol(db.session, "BTC/USDT")
        scored = add_pattern(
            db.session, symbol_id=btc, quality_probability=0.625, quality_model_version=VERSION
        )
        plain = add_pattern(db.session, symbol_id=btc)
        signal = add_signal(db.session, symbol_id=btc, patterns=(scored, plain))
        db.session.commit()
        return signal.id


def test_api_v1_and_the_chart_answer_each_zones_probability(
    app: Flask, premium_user: Person
) -> None:
    seed(app)
    answer = call(app.test_client(), "GET", "/api/v1/patterns", make_key(app, premium_user.id))
    assert answer.status_code == 200
    got = {(z["quality_probability"], z["quality_model_version"]) for z in answer.json["data"]}
    assert got == {(0.625, VERSION), (None, None)}
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    assert "quality_probability" in str(spec)
    client = app.test_client()
    sign_in(client, premium_user)
    zones = client.get("/api/chart/zones?symbol=BTC/USDT&timeframe=1h").get_json()["data"]
    assert sorted(z["quality_probability"] or 0 for z in zones) == [0, 0.625]


def test_the_zones_and_signal_pages_show_the_hold_probability(
    app: Flask, premium_user: Person
) -> None:
    signal_id = seed(app)
    client: FlaskClient = app.test_client()
    sign_in(client, premium_user)
    for path in ("/patterns", f"/signals/{signal_id}"):
        page = client.get(path).get_data(as_text=True)
        assert "Hold&nbsp;%" in page, path
        assert "62%" in page or "62.5%" in page, path
