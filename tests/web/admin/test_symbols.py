"""The admin symbols page: add after the exchange check, (de)activate, purge typed back."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cryptolens.config import Settings
from cryptolens.db.models import Symbol
from cryptolens.domain.errors import UnknownSymbolError
from cryptolens.extensions import db
from cryptolens.services.market import symbols_admin
from tests.web.accounts_helpers import make_user, post_form, sign_in

LISTED = {"BTC/USDT", "ETH/USDT"}


@pytest.fixture(autouse=True)
def exchange(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The exchange check, answered here: it lists LISTED only."""
    asked: list[str] = []

    def check(_settings: Settings, symbol: str) -> str:
        name = symbol.strip().upper()
        asked.append(name)
        if name not in LISTED:
            raise UnknownSymbolError(f"binance does not list {name}")
        return name

    monkeypatch.setattr(symbols_admin, "check_listed", check)
    return asked


def _symbol(app: Flask, name: str) -> Symbol | None:
    with app.app_context():
        found = db.session.query(Symbol).filter_by(symbol=name).one_or_none()
        if found is not None:
            db.session.expunge(found)
        return found


def test_a_listed_pair_is_added_and_an_unlisted_one_refused(
    app: Flask, client: FlaskClient, exchange: list[str]
) -> None:
    sign_in(client, make_user(app, "boss@example.com", admin=True))
    added = post_form(client, "/admin/symbols", {"symbol": "eth/usdt"}, form_path="/admin/symbols")
    assert added.status_code == 302
    page = client.get("/admin/symbols").text
    assert "Watching ETH/USDT on binance" in page
    assert "<td>ETH/USDT</td>" in page
    refused = post_form(
        client, "/admin/symbols", {"symbol": "NOPE/USDT"}, form_path="/admin/symbols"
    )
    assert refused.status_code == 404
    assert "does not list NOPE/USDT" in refused.text
    assert _symbol(app, "NOPE/USDT") is None
    assert exchange == ["ETH/USDT", "NOPE/USDT"]


def test_deactivate_activate_and_purge(app: Flask, client: FlaskClient) -> None:
    sign_in(client, make_user(app, "boss@example.com", admin=True))
    post_form(client, "/admin/symbols", {"symbol": "BTC/USDT"}, form_path="/admin/symbols")
    found = _symbol(app, "BTC/USDT")
    assert found is not None
    path = f"/admin/symbols/{found.id}"
    assert post_form(client, f"{path}/active", form_path="/admin/symbols").status_code == 302
    assert not _symbol(app, "BTC/USDT").active  # type: ignore[union-attr]
    again = post_form(client, f"{path}/active", {"active": "on"}, form_path="/admin/symbols")
    assert again.status_code == 302
    assert _symbol(app, "BTC/USDT").active  # type: ignore[union-attr]
    wrong = post_form(client, f"{path}/purge", {"confirm": "ETH/USDT"}, form_path="/admin/symbols")
    assert wrong.status_code == 400
    assert "Type BTC/USDT to confirm" in wrong.text
    assert _symbol(app, "BTC/USDT") is not None
    purged = post_form(client, f"{path}/purge", {"confirm": "BTC/USDT"}, form_path="/admin/symbols")
    assert purged.status_code == 302
    assert _symbol(app, "BTC/USDT") is None
    log = client.get("/admin/audit").text
    for action in ("symbol.add", "symbol.deactivate", "symbol.activate", "symbol.purge"):
        assert f"<td>{action}</td>" in log
