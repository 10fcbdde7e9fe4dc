"""The account's billing page: plan, bought subscriptions, payment history, cancellation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.db.accounts import Subscription
from cryptolens.extensions import db
from cryptolens.services.accounts.subscriptions import plan_status
from tests.builders.payment_servers import (
    LemonSqueezyServer,
    NowPaymentsServer,
    lemonsqueezy_signed,
    ls_order,
    ls_subscription,
    nowpayments_signed,
    np_ipn,
    with_payments,
)
from tests.web.accounts_helpers import make_user, post_form, sign_in


@pytest.fixture
def settings(
    settings: Settings, ls_server: LemonSqueezyServer, np_server: NowPaymentsServer
) -> Settings:
    return with_payments(settings, ls_server, np_server)


def _buy_by_card(client: FlaskClient, user_id: int) -> None:
    now = utcnow()
    for event in (
        ls_order(user_id, at=now),
        ls_subscription(user_id, renews_at=now + timedelta(days=31)),
    ):
        body, headers = lemonsqueezy_signed(event)
        assert (
            client.post("/payments/webhooks/lemonsqueezy", data=body, headers=headers).status_code
            == 200
        )


def test_the_page_shows_the_plan_the_period_end_and_every_payment(app: Flask) -> None:
    user = make_user(app, "buyer@example.com")
    client = app.test_client()
    body, headers = nowpayments_signed(np_ipn(user.id))
    assert (
        client.post("/payments/webhooks/nowpayments", data=body, headers=headers).status_code == 200
    )
    assert sign_in(client, user).status_code == 302
    page = client.get("/account/billing").text
    assert 'data-plan="pro"' in page
    assert "19 USD" in page
    assert "4000001" in page
    assert "does not renew by itself" in page
    assert 'name="provider" value="lemonsqueezy"' in page
    assert 'name="provider" value="nowpayments"' in page


def test_cancelling_keeps_the_plan_to_the_period_end_through_the_provider(
    app: Flask, ls_server: LemonSqueezyServer
) -> None:
    user = make_user(app, "buyer@example.com")
    client = app.test_client()
    _buy_by_card(client, user.id)
    assert sign_in(client, user).status_code == 302
    with app.app_context():
        row = db.session.scalars(select(Subscription)).one()
        subscription_id = row.id
    answer = post_form(
        client,
        f"/account/billing/subscriptions/{subscription_id}/cancel",
        form_path="/account/billing",
    )
    assert answer.status_code == 200
    assert "will not renew" in answer.text
    [call] = [r for r in ls_server.requests if r.method == "DELETE"]
    assert call.path == "/v1/subscriptions/7001"
    with app.app_context():
        row = db.session.get(Subscription, subscription_id)
        assert row is not None
        assert row.cancel_at_period_end
        assert row.expires_at is not None
        assert row.expires_at > utcnow() + timedelta(days=19)
        assert plan_status(db.session(), user_id=user.id, now=utcnow()).plan.value == "pro"
    assert "Cancel at period end" not in client.get("/account/billing").text
    again = post_form(
        client,
        f"/account/billing/subscriptions/{subscription_id}/cancel",
        form_path="/account/billing",
    )
    assert again.status_code == 409


def test_nobody_cancels_someone_elses_subscription(
    app: Flask, ls_server: LemonSqueezyServer
) -> None:
    owner = make_user(app, "owner@example.com")
    other = make_user(app, "other@example.com")
    client = app.test_client()
    _buy_by_card(client, owner.id)
    with app.app_context():
        subscription_id = db.session.scalars(select(Subscription.id)).one()
    assert sign_in(client, other).status_code == 302
    answer = post_form(
        client,
        f"/account/billing/subscriptions/{subscription_id}/cancel",
        form_path="/account/billing",
    )
    assert answer.status_code == 404
    assert [r for r in ls_server.requests if r.method == "DELETE"] == []


def test_the_buy_buttons_may_lead_to_the_providers_pages(
    app: Flask, ls_server: LemonSqueezyServer, np_server: NowPaymentsServer
) -> None:
    """Checkout answers a buy button with a redirect to the provider; a browser checks that
    redirect against the page's CSP form-action, so the page names the providers' origins."""
    client = app.test_client()
    assert sign_in(client, make_user(app, "buyer@example.com")).status_code == 302
    policy = client.get("/account/billing").headers["Content-Security-Policy"]
    assert f"form-action 'self' {ls_server.url} {np_server.url};" in policy
