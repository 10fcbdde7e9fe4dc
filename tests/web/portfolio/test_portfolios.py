"""The portfolio list, creation (validation, plan limits, CSRF), a portfolio's page, its
edit form (the same validation) and its deletion; another owner's portfolio is a 404 and is
left alone."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from cryptolens.db.portfolio import Portfolio, Trade
from cryptolens.extensions import db
from tests.builders.portfolio_web import Trader, count_rows
from tests.web.accounts_helpers import post_form, signed_in_client

GOOD = {"name": "Swing", "quote_currency": "USDT", "initial_balance": "5000"}


def _create(client: FlaskClient, data: dict[str, str]) -> TestResponse:
    return post_form(client, "/portfolio", data, form_path="/portfolio")


def test_the_list_shows_the_owners_portfolios_and_not_anyone_elses(
    pro: Trader, rival: Trader
) -> None:
    page = pro.client.get("/portfolio")
    assert page.status_code == 200
    assert f'href="/portfolio/{pro.seeded.portfolio}"' in page.text
    assert f'href="/portfolio/{rival.seeded.portfolio}"' not in page.text


def test_a_premium_user_creates_a_portfolio_and_lands_on_it(app: Flask) -> None:
    client = signed_in_client(app, "premium@example.com", plan="premium")
    response = _create(client, GOOD)
    assert response.status_code == 302
    assert count_rows(app, Portfolio, name="Swing") == 1
    page = client.get(response.headers["Location"])
    assert "Swing" in page.text
    assert "5,000.00" in page.text


#: Bad values of the portfolio form, each with the message naming its field.
BAD = [
    ("initial_balance", "0", "Initial balance must be greater than 0"),
    ("initial_balance", "-5", "Initial balance must be greater than 0"),
    ("initial_balance", "1000000000", "below 1,000,000,000"),
    ("initial_balance", "lots", "Initial balance must be a number"),
    ("initial_balance", "0.00000000001", "more than 10 decimal places"),
    ("quote_currency", "DOGE", "Quote currency &#39;DOGE&#39; is not one of"),
    ("name", "  ", "Name is required"),
    ("name", "n" * 101, "Name is longer than 100 characters"),
    ("description", "d" * 10_001, "Description is longer than 10,000 characters"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD)
def test_bad_portfolio_input_is_a_400_naming_the_field_and_nothing_is_stored(
    app: Flask, field: str, value: str, message: str
) -> None:
    client = signed_in_client(app, "premium@example.com", plan="premium")
    response = _create(client, {**GOOD, field: value})
    assert response.status_code == 400
    assert message in response.text
    assert count_rows(app, Portfolio) == 0


def test_a_second_portfolio_of_a_pro_user_is_refused_with_the_upgrade_message(
    app: Flask, pro: Trader
) -> None:
    response = _create(pro.client, GOOD)
    assert response.status_code == 403
    assert "needs the Premium plan" in response.text
    assert count_rows(app, Portfolio, user_id=pro.user_id) == 1


def test_a_free_user_gets_the_upgrade_page_and_no_portfolio_link(app: Flask) -> None:
    client = signed_in_client(app, "free@example.com")
    page = client.get("/portfolio")
    assert page.status_code == 403
    assert "needs the Pro plan" in page.text
    assert 'id="nav-portfolio"' not in client.get("/").text


def test_pro_users_see_the_portfolio_link(pro: Trader) -> None:
    assert 'id="nav-portfolio"' in pro.client.get("/").text


def test_creating_without_the_csrf_token_is_refused(app: Flask) -> None:
    client = signed_in_client(app, "premium@example.com", plan="premium")
    response = client.post("/portfolio", data=GOOD)
    assert response.status_code == 403
    assert count_rows(app, Portfolio) == 0


def test_a_portfolio_page_lists_open_and_closed_trades_and_the_journal(pro: Trader) -> None:
    page = pro.client.get(f"/portfolio/{pro.seeded.portfolio}")
    assert page.status_code == 200
    open_table = page.text.split('id="open-trades"')[1].split("</table>")[0]
    closed_table = page.text.split('id="closed-trades"')[1].split("</table>")[0]
    assert f'data-id="{pro.seeded.open_trade}"' in open_table
    assert f'data-id="{pro.seeded.closed_trade}"' in closed_table
    assert "Waited for the <strong>retest</strong>." in page.text


def test_another_owners_portfolio_is_not_found_and_cannot_be_deleted(
    app: Flask, pro: Trader, rival: Trader
) -> None:
    theirs = rival.seeded.portfolio
    assert pro.client.get(f"/portfolio/{theirs}").status_code == 404
    response = post_form(pro.client, f"/portfolio/{theirs}/delete", form_path="/portfolio")
    assert response.status_code == 404
    assert count_rows(app, Portfolio, id=theirs) == 1


def test_deleting_a_portfolio_deletes_its_trades(app: Flask, pro: Trader) -> None:
    mine = pro.seeded.portfolio
    response = post_form(pro.client, f"/portfolio/{mine}/delete", form_path="/portfolio")
    assert response.status_code == 302
    assert count_rows(app, Portfolio, id=mine) == 0
    assert count_rows(app, Trade, portfolio_id=mine) == 0


def _edit(client: FlaskClient, portfolio_id: int, data: dict[str, str]) -> TestResponse:
    return post_form(client, f"/portfolio/{portfolio_id}/edit", data, form_path="/portfolio")


def _stored(app: Flask, portfolio_id: int) -> tuple[str, str, str, Decimal]:
    with app.app_context():
        row = db.session.get(Portfolio, portfolio_id)
        assert row is not None
        return row.name, row.description, row.quote_currency, row.initial_balance


def test_the_portfolio_page_links_to_its_edit_form_filled_with_what_it_holds(
    app: Flask, pro: Trader
) -> None:
    mine = pro.seeded.portfolio
    page = pro.client.get(f"/portfolio/{mine}")
    assert f'href="/portfolio/{mine}/edit"' in page.text
    form = pro.client.get(f"/portfolio/{mine}/edit")
    assert form.status_code == 200
    assert 'name="csrf_token"' in form.text
    assert 'name="name" maxlength="100" required value="Main"' in form.text
    assert '<option value="USDT" selected>' in form.text
    assert 'name="initial_balance" inputmode="decimal" required value="10000"' in form.text


def test_an_owner_edits_every_field_and_keeps_the_trades(app: Flask, pro: Trader) -> None:
    mine = pro.seeded.portfolio
    changed = {
        "name": "  Swing 2026 ",
        "description": "Daily closes only.",
        "quote_currency": "eur",
        "initial_balance": "2500.75",
    }
    response = _edit(pro.client, mine, changed)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/portfolio/{mine}")
    assert _stored(app, mine) == ("Swing 2026", "Daily closes only.", "EUR", Decimal("2500.75"))
    assert count_rows(app, Trade, portfolio_id=mine) == 2
    page = pro.client.get(f"/portfolio/{mine}")
    assert "Swing 2026" in page.text
    assert "2,500.75" in page.text


@pytest.mark.parametrize(("field", "value", "message"), BAD)
def test_bad_edits_are_a_400_naming_the_field_and_change_nothing(
    app: Flask, pro: Trader, field: str, value: str, message: str
) -> None:
    mine = pro.seeded.portfolio
    before = _stored(app, mine)
    response = _edit(pro.client, mine, {**GOOD, field: value})
    assert response.status_code == 400
    assert message in response.text
    assert 'id="edit-portfolio-form"' in response.text  # the form again, with the error
    assert _stored(app, mine) == before


def test_an_edit_cannot_take_the_name_of_the_owners_other_portfolio(
    app: Flask, rival: Trader
) -> None:
    assert _create(rival.client, GOOD).status_code == 302
    response = _edit(rival.client, rival.seeded.portfolio, GOOD)
    assert response.status_code == 400
    assert "You already have a portfolio named &#39;Swing&#39;" in response.text
    assert _stored(app, rival.seeded.portfolio)[0] == "Main"


def test_another_owners_portfolio_can_be_neither_shown_for_editing_nor_edited(
    app: Flask, pro: Trader, rival: Trader
) -> None:
    theirs = rival.seeded.portfolio
    before = _stored(app, theirs)
    assert pro.client.get(f"/portfolio/{theirs}/edit").status_code == 404
    assert _edit(pro.client, theirs, GOOD).status_code == 404
    assert _edit(pro.client, theirs, {**GOOD, "initial_balance": "0"}).status_code == 404
    assert _stored(app, theirs) == before


def test_editing_without_the_csrf_token_is_refused(app: Flask, pro: Trader) -> None:
    mine = pro.seeded.portfolio
    before = _stored(app, mine)
    response = pro.client.post(f"/portfolio/{mine}/edit", data=GOOD)
    assert response.status_code == 403
    assert _stored(app, mine) == before
