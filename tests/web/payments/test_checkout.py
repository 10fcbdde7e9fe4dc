"""Checkout through the local provider APIs: the redirect, what the provider is asked for,
the return page, and choices that are refused."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from cryptolens import create_app
from cryptolens.config import Settings
from cryptolens.extensions import db
from cryptolens.services.ops.background import wait_for_background
from tests.builders.db import clear_tables
from tests.builders.payment_servers import LemonSqueezyServer, NowPaymentsServer
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import Person, make_user, post_form, sign_in

ACCOUNT = "/account/billing"


@pytest.fixture
def buyer(app: Flask) -> Person:
    return make_user(app, "buyer@example.com")


@pytest.fixture
def browser(app: Flask, buyer: Person) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, buyer).status_code == 302
    return client


def checkout(client: FlaskClient, **fields: str) -> tuple[int, str]:
    answer = post_form(client, "/payments/checkout", fields, form_path=ACCOUNT)
    return answer.status_code, answer.headers.get("Location", "") or answer.text


def test_card_checkout_redirects_to_the_provider_with_the_user_in_custom_data(
    browser: FlaskClient, buyer: Person, ls_server: LemonSqueezyServer, settings: Settings
) -> None:
    status, location = checkout(browser, plan="premium", period="yearly", provider="lemonsqueezy")
    assert status == 303
    assert location.startswith(f"{ls_server.url}/checkout/co-")
    [request] = ls_server.requests
    assert request.header("Authorization") == "Bearer ls-test-api-key"
    assert request.header("Content-Type") == "application/vnd.api+json"
    data = request.json["data"]
    assert data["relationships"]["variant"]["data"]["id"] == "202"
    assert data["relationships"]["store"]["data"]["id"] == "1"
    checkout_data = data["attributes"]["checkout_data"]
    assert checkout_data["custom"] == {
        "user_id": str(buyer.id),
        "plan": "premium",
        "period": "yearly",
    }
    assert checkout_data["email"] == buyer.email
    back = data["attributes"]["product_options"]["redirect_url"]
    assert back.startswith(settings.resolved_public_url + "/payments/return")
    assert parse_qs(urlsplit(back).query)["outcome"] == ["success"]


def test_crypto_checkout_creates_an_invoice_for_the_plan_price(
    browser: FlaskClient, buyer: Person, np_server: NowPaymentsServer, settings: Settings
) -> None:
    status, location = checkout(
        browser, plan="pro", period="monthly", provider="nowpayments", coin="BTC"
    )
    assert status == 303
    assert location.startswith(f"{np_server.url}/invoice/")
    [request] = np_server.requests
    assert request.header("x-api-key") == "np-test-api-key"
    invoice = request.json
    assert (invoice["price_amount"], invoice["price_currency"]) == (19, "usd")
    assert invoice["pay_currency"] == "btc"
    assert invoice["order_id"].startswith(f"cl:{buyer.id}:pro:monthly:")
    assert (
        invoice["ipn_callback_url"]
        == settings.resolved_public_url + "/payments/webhooks/nowpayments"
    )
    assert "outcome=cancel" in invoice["cancel_url"]


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"plan": "free", "period": "monthly", "provider": "lemonsqueezy"}, 400, "Unknown plan"),
        ({"plan": "pro", "period": "daily", "provider": "lemonsqueezy"}, 400, "billing period"),
        ({"plan": "pro", "period": "monthly", "provider": "paypal"}, 400, "provider"),
        (
            {"plan": "pro", "period": "monthly", "provider": "nowpayments", "coin": "b t c"},
            400,
            "coin",
        ),
    ],
)
def test_bad_choices_are_refused_and_nothing_is_asked_of_a_provider(
    browser: FlaskClient,
    ls_server: LemonSqueezyServer,
    np_server: NowPaymentsServer,
    fields: dict[str, str],
    status: int,
    message: str,
) -> None:
    code, page = checkout(browser, **fields)
    assert code == status
    assert message in page
    assert ls_server.requests == np_server.requests == []


def test_a_provider_failure_is_a_502_page_and_the_account_is_unchanged(
    app: Flask, browser: FlaskClient, buyer: Person, ls_server: LemonSqueezyServer
) -> None:
    ls_server.fail_next(500)
    code, page = checkout(browser, plan="pro", period="monthly", provider="lemonsqueezy")
    assert code == 502
    assert "try again" in page
    assert "Free" in browser.get(ACCOUNT).text


@pytest.mark.parametrize(
    ("outcome", "says"),
    [("success", "being confirmed"), ("cancel", "cancelled"), ("whatever", "did not go through")],
)
def test_the_return_page_says_what_happened_and_shows_the_plan_unchanged(
    browser: FlaskClient, outcome: str, says: str
) -> None:
    page = browser.get(f"/payments/return?provider=lemonsqueezy&outcome={outcome}")
    assert page.status_code == 200
    assert says in page.text
    assert "Your plan now: Free" in page.text


@pytest.fixture
def plans_off(settings: Settings, migrated_engine: Engine) -> Iterator[Flask]:
    """An app with PLANS_ENABLED=false (its own engine, disposed after the test)."""
    app = create_app(make_settings(**(settings.model_dump() | {"plans_enabled": False})))
    yield app
    wait_for_background()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    clear_tables(migrated_engine)


def test_with_plans_disabled_every_payment_route_is_gone(plans_off: Flask) -> None:
    user = make_user(plans_off, "off@example.com")
    client = plans_off.test_client()
    assert sign_in(client, user).status_code == 302
    assert client.get(ACCOUNT).status_code == 404
    assert client.get("/payments/return?outcome=success").status_code == 404
    assert client.post("/payments/webhooks/lemonsqueezy", data=b"{}").status_code == 404
    assert client.post("/payments/webhooks/nowpayments", data=b"{}").status_code == 404
