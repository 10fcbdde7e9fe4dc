"""The chart page opened for one signal (``/symbols/BTC/USDT?signal=N``): the page carries that
signal (not the newest), says whether its levels are live, and follows the signals page's rule
on who may open it."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.web.accounts_helpers import signed_in_client
from tests.web.seeding import add_signal, add_symbol

_SIGNAL_DATA = re.compile(r"data-signal='([^']*)'")


def _chart_signal(client: FlaskClient, url: str) -> Any:
    answer = client.get(url)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    found = _SIGNAL_DATA.search(answer.get_data(as_text=True))
    assert found, "the chart element has no data-signal attribute"
    raw = html.unescape(found.group(1))
    return json.loads(raw) if raw else None


def test_chart_for_an_older_signal_carries_that_signal_and_not_the_newest(
    premium: FlaskClient, session: Session
) -> None:
    btc = add_symbol(session, "BTC/USDT")
    old = add_signal(session, symbol_id=btc, entry=90.0, status="expired", outcome="unfilled")
    add_signal(session, symbol_id=btc, entry=100.0)  # newer and live
    session.commit()

    chosen = _chart_signal(premium, f"/symbols/BTC/USDT?signal={old.id}")

    assert chosen["signal"]["id"] == old.id
    assert chosen["signal"]["entry"] == 90.0
    assert chosen["signal"]["created_at"] == old.created_at  # where the chart scrolls to
    assert chosen["live"] is False


def test_chart_says_a_finished_signal_is_history_and_a_pending_one_is_live(
    premium: FlaskClient, session: Session
) -> None:
    btc = add_symbol(session, "BTC/USDT")
    closed = add_signal(session, symbol_id=btc, status="closed", outcome="stop", r_multiple=-1.0)
    pending = add_signal(session, symbol_id=btc)
    session.commit()

    page = premium.get(f"/symbols/BTC/USDT?signal={closed.id}").get_data(as_text=True)
    assert "is finished (stop): its levels are history, not open orders" in page
    assert _chart_signal(premium, f"/symbols/BTC/USDT?signal={pending.id}")["live"] is True


def test_chart_without_a_signal_asked_for_carries_none(
    premium: FlaskClient, session: Session
) -> None:
    add_signal(session, symbol_id=add_symbol(session, "BTC/USDT"))
    session.commit()
    assert _chart_signal(premium, "/symbols/BTC/USDT") is None


def test_chart_refuses_a_signal_of_another_symbol_or_not_a_number(
    premium: FlaskClient, session: Session
) -> None:
    add_symbol(session, "BTC/USDT")
    eth_signal = add_signal(session, symbol_id=add_symbol(session, "ETH/USDT"))
    session.commit()

    other = premium.get(f"/symbols/BTC/USDT?signal={eth_signal.id}")
    assert other.status_code == 404
    assert f"signal {eth_signal.id} is not a BTC/USDT signal" in other.get_data(as_text=True)
    assert premium.get("/symbols/BTC/USDT?signal=abc").status_code == 400


def test_free_users_cannot_open_a_signal_on_the_chart(app: Flask, session: Session) -> None:
    signal = add_signal(session, symbol_id=add_symbol(session, "BTC/USDT"))
    session.commit()
    free = signed_in_client(app, "free@example.com")
    assert free.get(f"/symbols/BTC/USDT?signal={signal.id}").status_code == 403
    assert free.get("/symbols/BTC/USDT").status_code == 200


def test_chart_signals_json_marks_only_pending_and_triggered_signals_live(
    premium: FlaskClient, session: Session
) -> None:
    btc = add_symbol(session, "BTC/USDT")
    for status, outcome in (
        ("pending", None),
        ("triggered", None),
        ("closed", "tp1"),
        ("expired", "unfilled"),
    ):
        add_signal(session, symbol_id=btc, status=status, outcome=outcome)
    session.commit()
    body = premium.get("/api/chart/signals?symbol=BTC/USDT").get_json()
    live = {row["status"]: row["live"] for row in body["data"]}
    assert live == {"pending": True, "triggered": True, "closed": False, "expired": False}
