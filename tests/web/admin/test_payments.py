"""The admin payment pages: payments and subscriptions filtered by user and status, the
rejected webhook events, a manual grant with its reason (CSRF, bad input as a 4xx page), and
all of it gone with PLANS_ENABLED=false."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import Engine
from werkzeug.test import TestResponse

from cryptolens import create_app
from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.db.payments import PaymentEvent
from cryptolens.domain.plans import Plan
from cryptolens.extensions import db
from cryptolens.services.accounts.subscriptions import plan_status
from tests.builders.db import clear_tables
from tests.builders.payments import pro_payment
from tests.web.accounts_helpers import make_user, post_form, signed_in_client


def _payment(app: Flask, user_id: int, ref: str, status: str) -> None:
    with app.app_context():
        db.session.add(pro_payment(user_id, ref, status))
        db.session.commit()


def _refs(page: str) -> list[str]:
    return re.findall(r"<code>([^<]+)</code>", page)


def test_payments_are_listed_and_filtered_by_user_and_status(app: Flask) -> None:
    alice, bob = make_user(app, "alice@example.com"), make_user(app, "bob@example.com")
    _payment(app, alice.id, "np-1", "paid")
    _payment(app, alice.id, "np-2", "partial")
    _payment(app, bob.id, "np-3", "paid")
    admin = signed_in_client(app, "root@example.com", admin=True)
    assert sorted(_refs(admin.get("/admin/payments").text)) == ["np-1", "np-2", "np-3"]
    assert sorted(_refs(admin.get("/admin/payments?email=ALICE").text)) == ["np-1", "np-2"]
    page = admin.get("/admin/payments?email=alice&status=paid").text
    assert _refs(page) == ["np-1"]
    assert re.search(r"19(\.0+)? USD", page)
    bad = admin.get("/admin/payments?status=lost")
    assert bad.status_code == 400
    assert "Unknown payment status" in bad.text


def test_a_manual_grant_needs_a_reason_and_shows_in_the_subscriptions(app: Flask) -> None:
    user = make_user(app, "gift@example.com")
    admin = signed_in_client(app, "root@example.com", admin=True)
    form = "/admin/subscriptions"
    fields = {"email": "gift@example.com", "plan": "premium", "period": "yearly"}
    refused = post_form(
        admin, "/admin/subscriptions/grant", fields | {"reason": " "}, form_path=form
    )
    assert refused.status_code == 400
    assert "Say why the plan is granted" in refused.text
    assert 'value="gift@example.com"' in refused.text  # the form keeps what was typed
    granted = post_form(
        admin, "/admin/subscriptions/grant", fields | {"reason": "Conference prize"}, form_path=form
    )
    assert granted.status_code == 302
    with app.app_context():
        assert plan_status(db.session(), user_id=user.id, now=utcnow()).plan is Plan.PREMIUM
    page = admin.get("/admin/subscriptions?email=gift&state=active").text
    assert "granted: Conference prize" in page
    assert "No subscriptions match." in admin.get("/admin/subscriptions?state=ended").text


def test_a_grant_to_an_unknown_address_or_plan_is_a_clear_4xx(app: Flask) -> None:
    make_user(app, "known@example.com")
    admin = signed_in_client(app, "root@example.com", admin=True)

    def grant(email: str, plan: str) -> TestResponse:
        fields = {"email": email, "plan": plan, "period": "monthly", "reason": "x"}
        return post_form(
            admin, "/admin/subscriptions/grant", fields, form_path="/admin/subscriptions"
        )

    unknown = grant("nobody@example.com", "pro")
    assert unknown.status_code == 404
    assert "No user has that email address." in unknown.text
    bad_plan = grant("known@example.com", "gold")
    assert bad_plan.status_code == 400
    assert "Unknown plan" in bad_plan.text


def test_a_grant_without_the_csrf_token_is_refused(app: Flask) -> None:
    user = make_user(app, "gift@example.com")
    admin = signed_in_client(app, "root@example.com", admin=True)
    answer = admin.post(
        "/admin/subscriptions/grant",
        data={"email": "gift@example.com", "plan": "pro", "period": "monthly", "reason": "x"},
    )
    assert answer.status_code == 403
    with app.app_context():
        assert plan_status(db.session(), user_id=user.id, now=utcnow()).plan is Plan.FREE


def test_rejected_webhook_events_are_listed(app: Flask) -> None:
    with app.app_context():
        db.session.add_all(
            [
                PaymentEvent(
                    provider="lemonsqueezy",
                    event_id="ev-bad",
                    event_type="order_created",
                    outcome="rejected",
                    detail="amount 5 does not match the price 19",
                ),
                PaymentEvent(
                    provider="lemonsqueezy",
                    event_id="ev-good",
                    event_type="order_created",
                    outcome="credited",
                ),
            ]
        )
        db.session.commit()
    admin = signed_in_client(app, "root@example.com", admin=True)
    page = admin.get("/admin/payments/events").text
    assert "ev-bad" in page
    assert "amount 5 does not match the price 19" in page
    assert "ev-good" not in page
    assert 'id="rejected-signatures"' in page


def test_the_pages_are_for_administrators_only(app: Flask) -> None:
    user = signed_in_client(app, "user@example.com", plan="premium")
    for path in ("/admin/payments", "/admin/subscriptions", "/admin/payments/events"):
        assert user.get(path).status_code == 403, path


def test_plans_off_the_payment_pages_are_gone(settings: Settings, migrated_engine: Engine) -> None:
    app = create_app(settings.model_copy(update={"plans_enabled": False}))
    admin = signed_in_client(app, "root@example.com", admin=True)
    for path in ("/admin/payments", "/admin/subscriptions", "/admin/payments/events"):
        assert admin.get(path).status_code == 404, path
    assert "/admin/payments" not in admin.get("/admin/users").text
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    clear_tables(migrated_engine)
