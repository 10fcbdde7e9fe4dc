"""The trade pages: "Take this trade" from a signal pre-fills and links the form; saving,
adding and removing fills, closing and editing; bad input is a 400 naming the problem with
nothing stored; Pro's five new trades a day; another owner's trade is a 404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from cryptolens.db.portfolio import Trade, TradeFill, TradeTag
from cryptolens.extensions import db
from tests.builders.portfolio_web import Trader, count_rows
from tests.web.accounts_helpers import post_form, signed_in_client
from tests.web.seeding import add_signal, add_symbol

FORM = "/portfolio"


def _signal(app: Flask, **values: object) -> int:
    with app.app_context():
        symbol_id = add_symbol(db.session, "ETH/USDT")
        signal_id = add_signal(db.session, symbol_id=symbol_id, **values).id
        db.session.commit()
    return signal_id


def _new_trade(trader: Trader, **changes: str | list[str]) -> TestResponse:
    data: dict[str, str | list[str]] = {
        "portfolio_id": str(trader.seeded.portfolio),
        "symbol": "BTC/USDT",
        "direction": "long",
        "planned_stop": "95",
        "fill_side": ["entry", "exit"],
        "fill_at": ["2025-03-03T09:00", "2025-03-03T12:00"],
        "fill_price": ["100", ""],
        "fill_quantity": ["2", ""],
        "fill_fee": ["0.5", ""],
        "tags": "breakout, Morning",
        "setup": "retest",
        **changes,
    }
    return post_form(trader.client, "/portfolio/trades", data, form_path=FORM)  # type: ignore[arg-type]


def _trade(app: Flask, trade_id: int) -> Trade:
    with app.app_context():
        row = db.session.get(Trade, trade_id)
        assert row is not None
        db.session.expunge(row)
        return row


def test_take_this_trade_is_offered_on_the_signal_page_to_plans_with_the_portfolio(
    app: Flask, pro: Trader
) -> None:
    signal_id = _signal(app)
    page = pro.client.get(f"/signals/{signal_id}")
    assert f'href="/portfolio/trades/new?signal={signal_id}"' in page.text
    premium = signed_in_client(app, "premium@example.com", plan="premium")
    assert 'id="take-trade"' in premium.get(f"/signals/{signal_id}").text


def test_the_form_from_a_signal_carries_its_levels_direction_and_id(
    app: Flask, pro: Trader
) -> None:
    signal_id = _signal(app, direction="bearish", entry=100.0, stop=104.5, target_1=90.25)
    page = pro.client.get(f"/portfolio/trades/new?signal={signal_id}")
    assert page.status_code == 200
    text = page.text
    assert f'name="signal_id" value="{signal_id}"' in text
    assert 'name="symbol" type="text" value="ETH/USDT"' in text
    assert '<option value="short" selected>' in text
    assert 'name="planned_stop" type="text" value="104.5' in text
    assert 'name="target_1" type="text" value="90.25' in text
    assert 'name="fill_price" inputmode="decimal" value="100' in text


def test_a_signal_that_does_not_exist_is_a_404(pro: Trader) -> None:
    assert pro.client.get("/portfolio/trades/new?signal=987654").status_code == 404
    assert pro.client.get("/portfolio/trades/new?signal=x").status_code == 400


def test_saving_the_form_stores_the_trade_with_its_fill_tags_and_signal(
    app: Flask, pro: Trader
) -> None:
    signal_id = _signal(app)
    response = _new_trade(pro, signal_id=str(signal_id))
    assert response.status_code == 302
    trade_id = int(response.headers["Location"].rsplit("/", 1)[1])
    row = _trade(app, trade_id)
    assert (row.symbol, row.direction, row.status, row.signal_id) == (
        "BTC/USDT",
        "long",
        "open",
        signal_id,
    )
    assert str(row.quantity) == "2"
    assert str(row.fees) == "0.5"
    assert count_rows(app, TradeFill, trade_id=trade_id) == 1
    assert count_rows(app, TradeTag, trade_id=trade_id, tag="morning") == 1
    page = pro.client.get(response.headers["Location"])
    assert f"signal #{signal_id}" in page.text


def test_a_trade_logged_with_its_exit_row_is_closed_with_its_r(app: Flask, pro: Trader) -> None:
    response = _new_trade(pro, fill_price=["100", "110"], fill_quantity=["2", "2"])
    row = _trade(app, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert row.status == "closed"
    assert row.r_multiple is not None
    assert float(row.r_multiple) == pytest.approx(1.95)


TOMORROW = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"fill_price": ["-100", ""]}, "Fill 1 (entry): price must be greater than 0"),
        ({"fill_quantity": ["0", ""]}, "Fill 1 (entry): quantity must be greater than 0"),
        ({"fill_price": ["100", "110"], "fill_quantity": ["2", "3"]}, "exit"),
        ({"fill_at": [TOMORROW, ""]}, "future"),
        (
            {
                "fill_at": ["2025-03-03T09:00", "2025-03-03T08:00"],
                "fill_price": ["100", "110"],
                "fill_quantity": ["2", "2"],
            },
            "before",
        ),
        ({"planned_stop": "120"}, "Planned stop of a long trade must be below the entry"),
        ({"symbol": "BT"}, "Symbol must be 3 to 20 characters"),
        ({"fill_at": ["yesterday", ""]}, "Fill row 1: Time must be a date and time"),
        ({"direction": "sideways"}, "Direction must be long or short"),
    ],
)
def test_bad_trade_input_is_a_400_with_a_message_and_nothing_is_stored(
    app: Flask, pro: Trader, changes: dict[str, str | list[str]], message: str
) -> None:
    before = count_rows(app, Trade)
    response = _new_trade(pro, **changes)
    assert response.status_code == 400
    assert message in response.text
    assert 'role="alert"' in response.text
    assert count_rows(app, Trade) == before


def test_a_pro_user_may_log_five_new_trades_a_day_and_no_sixth(app: Flask, pro: Trader) -> None:
    assert count_rows(app, Trade, user_id=pro.user_id) == 2  # seeded today
    answers = [_new_trade(pro).status_code for _ in range(4)]
    assert answers == [302] * 3 + [403]
    assert count_rows(app, Trade, user_id=pro.user_id) == 5
    assert "5 new trades a day" in _new_trade(pro).text


def test_an_exit_fill_closes_the_trade_and_removing_it_reopens_it(app: Flask, pro: Trader) -> None:
    trade_id = pro.seeded.open_trade
    data = {"side": "exit", "at": "2025-03-04T09:00", "price": "120", "quantity": "1"}
    response = post_form(pro.client, f"/portfolio/trades/{trade_id}/fills", data, form_path=FORM)
    assert response.status_code == 302
    assert _trade(app, trade_id).status == "closed"
    with app.app_context():
        exit_id = db.session.scalar(
            db.select(TradeFill.id).where(TradeFill.trade_id == trade_id, TradeFill.side == "exit")
        )
    path = f"/portfolio/trades/{trade_id}/fills/{exit_id}/delete"
    assert post_form(pro.client, path, form_path=FORM).status_code == 302
    assert _trade(app, trade_id).status == "open"


def test_an_exit_larger_than_the_position_is_refused(app: Flask, pro: Trader) -> None:
    trade_id = pro.seeded.open_trade
    data = {"side": "exit", "at": "2025-03-04T09:00", "price": "120", "quantity": "5"}
    response = post_form(pro.client, f"/portfolio/trades/{trade_id}/fills", data, form_path=FORM)
    assert response.status_code == 400
    assert count_rows(app, TradeFill, trade_id=trade_id) == 1


def test_closing_exits_the_open_quantity(app: Flask, pro: Trader) -> None:
    trade_id = pro.seeded.open_trade
    data = {"price": "90", "at": "2025-03-04T09:00", "fee": "1"}
    response = post_form(pro.client, f"/portfolio/trades/{trade_id}/close", data, form_path=FORM)
    assert response.status_code == 302
    row = _trade(app, trade_id)
    assert row.status == "closed"
    assert str(row.realized_pnl) == "-11"
    missing = post_form(pro.client, f"/portfolio/trades/{trade_id}/close", form_path=FORM)
    assert missing.status_code == 400


def test_editing_keeps_the_fills_and_changes_stop_tags_and_notes(app: Flask, pro: Trader) -> None:
    trade_id = pro.seeded.open_trade
    data = {
        "symbol": "BTC/USDT",
        "direction": "long",
        "planned_stop": "90",
        "tags": "a, b",
        "notes": "moved the stop",
        "mistakes": "late entry",
        "emotions": "calm",
    }
    response = post_form(pro.client, f"/portfolio/trades/{trade_id}", data, form_path=FORM)
    assert response.status_code == 302
    row = _trade(app, trade_id)
    assert (str(row.planned_stop), row.notes, row.mistakes, row.emotions) == (
        "90",
        "moved the stop",
        "late entry",
        "calm",
    )
    assert count_rows(app, TradeTag, trade_id=trade_id) == 2
    assert count_rows(app, TradeFill, trade_id=trade_id) == 1


@pytest.mark.parametrize(
    ("method", "suffix", "data"),
    [
        ("GET", "", {}),
        ("POST", "", {"symbol": "BTC/USDT", "direction": "long", "planned_stop": "1"}),
        (
            "POST",
            "/fills",
            {"side": "exit", "at": "2025-03-04T09:00", "price": "1", "quantity": "1"},
        ),
        ("POST", "/close", {"price": "1", "at": "2025-03-04T09:00"}),
        ("POST", "/delete", {}),
    ],
)
def test_another_owners_trade_is_a_404_and_stays_as_it_was(
    app: Flask, pro: Trader, rival: Trader, method: str, suffix: str, data: dict[str, str]
) -> None:
    theirs = rival.seeded.open_trade
    path = f"/portfolio/trades/{theirs}{suffix}"
    if method == "GET":
        response = pro.client.get(path)
    else:
        response = post_form(pro.client, path, data, form_path=FORM)
    assert response.status_code == 404
    row = _trade(app, theirs)
    assert (row.status, str(row.planned_stop)) == ("open", "95")


def test_a_trade_cannot_be_saved_into_another_owners_portfolio(
    app: Flask, pro: Trader, rival: Trader
) -> None:
    before = count_rows(app, Trade, portfolio_id=rival.seeded.portfolio)
    response = _new_trade(pro, portfolio_id=str(rival.seeded.portfolio))
    assert response.status_code == 404
    assert count_rows(app, Trade, portfolio_id=rival.seeded.portfolio) == before


def test_deleting_a_trade_goes_back_to_its_portfolio(app: Flask, pro: Trader) -> None:
    trade_id = pro.seeded.open_trade
    response = post_form(pro.client, f"/portfolio/trades/{trade_id}/delete", form_path=FORM)
    assert response.headers["Location"].endswith(f"/portfolio/{pro.seeded.portfolio}")
    assert count_rows(app, Trade, id=trade_id) == 0


def test_a_fill_without_the_csrf_token_is_refused(app: Flask, pro: Trader) -> None:
    trade_id = pro.seeded.open_trade
    data = {"side": "exit", "at": "2025-03-04T09:00", "price": "120", "quantity": "1"}
    assert pro.client.post(f"/portfolio/trades/{trade_id}/fills", data=data).status_code == 403
    assert count_rows(app, TradeFill, trade_id=trade_id) == 1
