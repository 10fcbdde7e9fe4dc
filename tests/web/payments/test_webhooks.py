"""Webhooks as the providers send them (signed by tests.builders.payment_servers), through the
app: signatures, replays, out-of-order delivery, partial payments, refunds, renewals."""

from __future__ import annotations

import hashlib
import hmac
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from cryptolens.clock import utcnow
from cryptolens.db.accounts import Subscription
from cryptolens.db.payments import Payment, PaymentEvent
from cryptolens.domain.billing import BillingPeriod, add_period
from cryptolens.domain.plans import Plan
from cryptolens.extensions import db
from cryptolens.services.accounts.subscriptions import PlanStatus, plan_status
from cryptolens.services.payments.webhooks import REJECTED_SIGNATURES
from tests.builders.api_keys import make_key
from tests.builders.payment_servers import (
    LS_SECRET,
    NP_SECRET,
    lemonsqueezy_signed,
    ls_invoice,
    ls_order,
    ls_subscription,
    nowpayments_signed,
    np_ipn,
)
from tests.web.accounts_helpers import Mailbox, Person, make_user

LS_URL = "/payments/webhooks/lemonsqueezy"
NP_URL = "/payments/webhooks/nowpayments"


def post_ls(client: FlaskClient, payload: dict[str, Any], secret: str = LS_SECRET) -> TestResponse:
    body, headers = lemonsqueezy_signed(payload, secret)
    return client.post(LS_URL, data=body, headers=headers)


def post_np(client: FlaskClient, payload: dict[str, Any], secret: str = NP_SECRET) -> TestResponse:
    body, headers = nowpayments_signed(payload, secret)
    return client.post(NP_URL, data=body, headers=headers)


def count(app: Flask, model: type[Any]) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def status_of(app: Flask, user_id: int, at: datetime | None = None) -> PlanStatus:
    with app.app_context():
        return plan_status(db.session(), user_id=user_id, now=at or utcnow())


def only_payment(app: Flask) -> Payment:
    with app.app_context():
        row = db.session.scalars(select(Payment)).one()
        db.session.expunge(row)
        return row


def subscriptions(app: Flask, user_id: int) -> list[Subscription]:
    with app.app_context():
        rows = list(db.session.scalars(select(Subscription).where(Subscription.user_id == user_id)))
        for row in rows:
            db.session.expunge(row)
        return rows


@pytest.fixture
def buyer(app: Flask) -> Person:
    return make_user(app, "buyer@example.com")


# --- signatures ------------------------------------------------------------------------


def test_a_signed_nowpayments_payment_credits_pro_for_a_month(
    app: Flask, client: FlaskClient, buyer: Person, mailbox: Mailbox
) -> None:
    before = utcnow()
    answer = post_np(client, np_ipn(buyer.id))
    assert (answer.status_code, answer.json) == (200, {"outcome": "credited", "detail": ""})
    status = status_of(app, buyer.id)
    assert status.plan is Plan.PRO
    assert status.expires_at is not None
    assert add_period(before, BillingPeriod.MONTHLY) <= status.expires_at
    payment = only_payment(app)
    assert (payment.amount, payment.currency, payment.status) == (Decimal("19"), "USD", "paid")
    assert payment.raw_event is not None
    assert payment.raw_event["pay_address"] == "[redacted]"
    receipt = mailbox.wait_for(buyer.email)
    assert "receipt" in receipt["Subject"]
    assert "19 USD" in receipt.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


@pytest.mark.parametrize("provider", ["lemonsqueezy", "nowpayments"])
@pytest.mark.parametrize("fault", ["tampered byte", "wrong secret", "missing header"])
def test_a_bad_signature_is_401_and_stores_nothing(
    app: Flask, client: FlaskClient, buyer: Person, provider: str, fault: str
) -> None:
    if provider == "lemonsqueezy":
        url, (body, headers) = LS_URL, lemonsqueezy_signed(ls_order(buyer.id))
        name, wrong = "X-Signature", lemonsqueezy_signed(ls_order(buyer.id), "another-secret")[1]
    else:
        url, (body, headers) = NP_URL, nowpayments_signed(np_ipn(buyer.id))
        name, wrong = "x-nowpayments-sig", nowpayments_signed(np_ipn(buyer.id), "other")[1]
    if fault == "tampered byte":
        at = body.index(b"19")
        body = body[:at] + b"9" + body[at + 1 :]
    elif fault == "wrong secret":
        headers = wrong
    else:
        headers = {k: v for k, v in headers.items() if k != name}
    before = REJECTED_SIGNATURES[provider]
    answer = client.post(url, data=body, headers=headers)
    assert answer.status_code == 401
    assert REJECTED_SIGNATURES[provider] == before + 1
    assert count(app, PaymentEvent) == count(app, Payment) == 0
    assert status_of(app, buyer.id).plan is Plan.FREE


# --- replays and order -----------------------------------------------------------------


def test_a_payment_replayed_ten_times_credits_once(
    app: Flask, client: FlaskClient, buyer: Person, mailbox: Mailbox
) -> None:
    payload = np_ipn(buyer.id)
    outcomes = [post_np(client, payload).json["outcome"] for _ in range(10)]  # type: ignore[index]
    assert outcomes == ["credited"] + ["duplicate"] * 9
    assert count(app, Payment) == count(app, PaymentEvent) == 1
    [row] = subscriptions(app, buyer.id)
    assert row.expires_at is not None
    assert row.expires_at <= add_period(utcnow(), BillingPeriod.MONTHLY)
    mailbox.wait_for(buyer.email)
    assert len([m for m in mailbox.parsed() if buyer.email in str(m["To"])]) == 1


def test_a_lemonsqueezy_purchase_replayed_ten_times_gives_one_subscription(
    app: Flask, client: FlaskClient, buyer: Person
) -> None:
    renews = utcnow() + timedelta(days=31)
    events = [ls_order(buyer.id), ls_subscription(buyer.id, renews_at=renews)]
    for _ in range(10):
        for event in events:
            assert post_ls(client, event).status_code == 200
    assert count(app, Payment) == 1
    [row] = subscriptions(app, buyer.id)
    assert (row.plan, row.period, row.provider_ref) == ("pro", "monthly", "7001")
    assert row.expires_at == renews.replace(microsecond=renews.microsecond)
    assert status_of(app, buyer.id).plan is Plan.PRO


def test_out_of_order_subscription_events_leave_the_latest_state(
    app: Flask, client: FlaskClient, buyer: Person
) -> None:
    now = utcnow()
    first_end, second_end = now + timedelta(days=31), now + timedelta(days=62)
    created = ls_subscription(buyer.id, renews_at=first_end, updated_at=now - timedelta(days=1))
    renewed = ls_subscription(
        buyer.id, name="subscription_updated", renews_at=second_end, updated_at=now
    )
    cancelled = ls_subscription(
        buyer.id,
        name="subscription_cancelled",
        status="cancelled",
        renews_at=second_end,
        ends_at=second_end,
        updated_at=now + timedelta(minutes=5),
    )
    outcomes = [post_ls(client, e).json["outcome"] for e in (cancelled, created, renewed)]  # type: ignore[index]
    assert outcomes == ["applied", "stale", "stale"]
    [row] = subscriptions(app, buyer.id)
    assert row.expires_at == second_end
    assert row.cancel_at_period_end
    assert status_of(app, buyer.id).plan is Plan.PRO


def test_a_late_confirming_status_never_undoes_a_finished_payment(
    app: Flask, client: FlaskClient, buyer: Person
) -> None:
    now = utcnow()
    finished = np_ipn(buyer.id, status="finished", updated_at=now)
    confirming = np_ipn(buyer.id, status="confirming", updated_at=now - timedelta(minutes=3))
    assert post_np(client, finished).json["outcome"] == "credited"  # type: ignore[index]
    assert post_np(client, confirming).json["outcome"] == "stale"  # type: ignore[index]
    assert only_payment(app).status == "paid"
    assert len(subscriptions(app, buyer.id)) == 1


def test_waiting_then_finished_credits_once_at_finished(
    app: Flask, client: FlaskClient, buyer: Person
) -> None:
    for status in ("waiting", "confirming", "confirmed"):
        assert post_np(client, np_ipn(buyer.id, status=status)).json["outcome"] == "recorded"  # type: ignore[index]
        assert status_of(app, buyer.id).plan is Plan.FREE
    assert post_np(client, np_ipn(buyer.id)).json["outcome"] == "credited"  # type: ignore[index]
    assert status_of(app, buyer.id).plan is Plan.PRO


# --- partial payments, refunds, renewals -----------------------------------------------


def test_a_partial_payment_credits_nothing_and_tells_the_user_what_is_missing(
    app: Flask, client: FlaskClient, buyer: Person, mailbox: Mailbox
) -> None:
    partial = np_ipn(buyer.id, status="partially_paid", pay_amount=0.00031, actually_paid=0.0003)
    assert post_np(client, partial).json["outcome"] == "partial"  # type: ignore[index]
    assert status_of(app, buyer.id).plan is Plan.FREE
    assert only_payment(app).status == "partial"
    message = mailbox.wait_for(buyer.email)
    assert "incomplete" in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "0.00001 BTC is still missing" in text
    assert post_np(client, np_ipn(buyer.id)).json["outcome"] == "credited"  # type: ignore[index]
    assert status_of(app, buyer.id).plan is Plan.PRO


def test_a_refund_ends_the_plan_now_and_the_api_key_lapses(
    app: Flask, client: FlaskClient, buyer: Person
) -> None:
    assert post_np(client, np_ipn(buyer.id, plan="premium", price=49)).status_code == 200
    _key_id, key = make_key(app, buyer.id, scopes=("read:account",))
    api = app.test_client()
    assert api.get("/api/v1/account", headers={"X-API-Key": key}).status_code == 200
    refund = np_ipn(buyer.id, plan="premium", price=49, status="refunded")
    assert post_np(client, refund).json["outcome"] == "refunded"  # type: ignore[index]
    assert status_of(app, buyer.id).plan is Plan.FREE
    answer = api.get("/api/v1/account", headers={"X-API-Key": key})
    assert answer.status_code in (401, 403)
    assert "lapsed" in answer.text
    [row] = subscriptions(app, buyer.id)
    assert row.ended_reason == "refunded"
    # The "finished" replayed after the refund changes nothing.
    replay = post_np(client, np_ipn(buyer.id, plan="premium", price=49))
    assert replay.json["outcome"] == "duplicate"  # type: ignore[index]
    assert status_of(app, buyer.id).plan is Plan.FREE


def test_a_refund_delivered_before_its_payment_leaves_nothing_credited(
    app: Flask, client: FlaskClient, buyer: Person
) -> None:
    now = utcnow()
    refund = np_ipn(buyer.id, status="refunded", updated_at=now)
    finished = np_ipn(buyer.id, updated_at=now - timedelta(minutes=10))
    assert post_np(client, refund).json["outcome"] == "refunded"  # type: ignore[index]
    assert post_np(client, finished).json["outcome"] == "stale"  # type: ignore[index]
    assert status_of(app, buyer.id).plan is Plan.FREE
    with app.app_context():
        row = db.session.scalars(select(Payment)).one()
        assert (row.status, row.credited) == ("refunded", False)


def test_a_refund_of_a_payment_never_credited_leaves_other_paid_periods(
    app: Flask, client: FlaskClient, buyer: Person
) -> None:
    assert post_np(client, np_ipn(buyer.id, payment_id=1)).status_code == 200
    refund = np_ipn(buyer.id, payment_id=2, status="refunded")
    assert post_np(client, refund).json["outcome"] == "refunded"  # type: ignore[index]
    assert status_of(app, buyer.id).plan is Plan.PRO


def test_a_lemonsqueezy_refund_ends_the_subscription_now_and_later_states_do_not_revive_it(
    app: Flask, client: FlaskClient, buyer: Person
) -> None:
    now = utcnow()
    renews = now + timedelta(days=31)
    post_ls(client, ls_order(buyer.id, at=now))
    post_ls(client, ls_subscription(buyer.id, renews_at=renews, updated_at=now))
    assert status_of(app, buyer.id).plan is Plan.PRO
    later = now + timedelta(minutes=1)
    assert post_ls(client, ls_order(buyer.id, refunded=True, at=later)).json["outcome"] == (  # type: ignore[index]
        "refunded"
    )
    assert status_of(app, buyer.id).plan is Plan.FREE
    update = ls_subscription(
        buyer.id, name="subscription_updated", renews_at=renews, updated_at=later
    )
    assert post_ls(client, update).json["outcome"] == "ignored"  # type: ignore[index]
    assert status_of(app, buyer.id).plan is Plan.FREE


def test_paying_again_extends_from_the_current_end_not_from_today(
    app: Flask, client: FlaskClient, buyer: Person
) -> None:
    assert post_np(client, np_ipn(buyer.id, payment_id=1)).status_code == 200
    [first] = subscriptions(app, buyer.id)
    assert first.expires_at is not None
    second = np_ipn(buyer.id, payment_id=2, period="yearly", price=190)
    assert post_np(client, second).json["outcome"] == "credited"  # type: ignore[index]
    [row] = subscriptions(app, buyer.id)
    assert row.expires_at == add_period(first.expires_at, BillingPeriod.YEARLY)
    assert row.period == "yearly"


def test_a_renewal_invoice_is_recorded_and_the_first_is_counted_as_its_order(
    app: Flask, client: FlaskClient, buyer: Person
) -> None:
    post_ls(client, ls_order(buyer.id))
    first = ls_invoice(buyer.id, invoice_id="9000", billing_reason="initial")
    assert post_ls(client, first).json["outcome"] == "ignored"  # type: ignore[index]
    assert post_ls(client, ls_invoice(buyer.id)).json["outcome"] == "credited"  # type: ignore[index]
    assert count(app, Payment) == 2


def test_an_expired_subscription_ends_the_plan_and_emails_once(
    app: Flask, client: FlaskClient, buyer: Person, mailbox: Mailbox
) -> None:
    now = utcnow()
    ended = now - timedelta(days=4)
    post_ls(client, ls_subscription(buyer.id, renews_at=ended, updated_at=now - timedelta(days=40)))
    expired = ls_subscription(
        buyer.id,
        name="subscription_expired",
        status="expired",
        renews_at=ended,
        ends_at=ended,
        updated_at=now,
    )
    for _ in range(3):
        post_ls(client, expired)
    assert status_of(app, buyer.id).plan is Plan.FREE
    assert "ended" in mailbox.wait_for(buyer.email)["Subject"]
    assert len(mailbox.parsed()) == 1


# --- bad input -------------------------------------------------------------------------


def _raw_np(client: FlaskClient, body: bytes) -> TestResponse:
    signature = hmac.new(NP_SECRET.encode(), body, hashlib.sha512).hexdigest()
    return client.post(NP_URL, data=body, headers={"x-nowpayments-sig": signature})


def _raw_ls(client: FlaskClient, body: bytes) -> TestResponse:
    signature = hmac.new(LS_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return client.post(LS_URL, data=body, headers={"X-Signature": signature})


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"meta": {"event_name": "order_exploded"}}, 422, "lacks"),
        (
            {**ls_order(1), "meta": {"event_name": "license_key_created", "custom_data": {}}},
            422,
            "Unknown event",
        ),
        (ls_order(999_999), 422, "no known user"),
        (ls_order(0, cents=1800), 422, "not the pro monthly price"),
        (ls_order(0, currency="EUR"), 422, "currency"),
        (ls_order(0, variant="555"), 422, "Variant"),
    ],
)
def test_unusable_lemonsqueezy_events_are_refused_and_credit_nothing(
    app: Flask,
    client: FlaskClient,
    buyer: Person,
    payload: dict[str, Any],
    status: int,
    message: str,
) -> None:
    custom = payload.get("meta", {}).get("custom_data")
    if custom and custom.get("user_id") == "0":
        custom["user_id"] = str(buyer.id)
    answer = post_ls(client, payload)
    assert answer.status_code == status
    assert message in answer.json["detail"]  # type: ignore[index]
    assert count(app, Payment) == 0
    assert status_of(app, buyer.id).plan is Plan.FREE


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"price_amount": 18}, "not the pro monthly price"),
        ({"price_amount": 19.01}, "not the pro monthly price"),
        ({"price_currency": "eur"}, "currency"),
        ({"order_id": "someone-else:1"}, "not created here"),
        ({"order_id": "cl:1:gold:monthly:x"}, "Unknown plan"),
        ({"payment_status": "teleported"}, "Unknown payment status"),
        ({"price_amount": "lots"}, "not an amount"),
    ],
)
def test_unusable_nowpayments_events_are_refused_and_credit_nothing(
    app: Flask, client: FlaskClient, buyer: Person, overrides: dict[str, Any], message: str
) -> None:
    payload = {**np_ipn(buyer.id), **overrides}
    answer = post_np(client, payload)
    assert answer.status_code == 422
    assert message in answer.json["detail"]  # type: ignore[index]
    assert count(app, Payment) == 0
    assert status_of(app, buyer.id).plan is Plan.FREE


def test_a_rejected_event_is_kept_and_refused_again_on_replay(
    app: Flask, client: FlaskClient, buyer: Person
) -> None:
    payload = np_ipn(buyer.id, price=1)
    assert [post_np(client, payload).status_code for _ in range(3)] == [422, 422, 422]
    with app.app_context():
        stored = db.session.scalars(select(PaymentEvent)).one()
        assert (stored.outcome, stored.detail is not None) == ("rejected", True)


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_malformed_json_is_400_and_stores_nothing(
    app: Flask, client: FlaskClient, body: bytes
) -> None:
    assert _raw_ls(client, body).status_code == 400
    assert count(app, PaymentEvent) == 0


def test_malformed_json_to_nowpayments_is_400_and_unsigned_401(
    app: Flask, client: FlaskClient
) -> None:
    assert _raw_np(client, b"{not json").status_code == 400
    assert client.post(NP_URL, data=b"{not json").status_code == 401
    assert count(app, PaymentEvent) == 0


@pytest.mark.parametrize("url", [LS_URL, NP_URL])
def test_a_one_megabyte_body_is_413(app: Flask, client: FlaskClient, url: str) -> None:
    answer = client.post(url, data=b"{" + b" " * (1024 * 1024) + b"}")
    assert answer.status_code == 413
    assert count(app, PaymentEvent) == 0


def test_an_unsigned_event_for_a_user_never_touches_their_plan(
    app: Flask, client: FlaskClient, buyer: Person
) -> None:
    body, _headers = nowpayments_signed(np_ipn(buyer.id))
    assert (
        client.post(NP_URL, data=body, headers={"Content-Type": "application/json"}).status_code
        == 401
    )
    assert status_of(app, buyer.id, at=datetime.now(UTC)).plan is Plan.FREE


def test_the_same_event_delivered_by_eight_senders_at_once_credits_once(
    app: Flask, buyer: Person
) -> None:
    body, headers = nowpayments_signed(np_ipn(buyer.id))
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def deliver() -> None:
        client = app.test_client()
        start.wait()
        answer = client.post(NP_URL, data=body, headers=headers)
        outcomes.append(f"{answer.status_code} {answer.json['outcome']}")  # type: ignore[index]

    senders = [threading.Thread(target=deliver) for _ in range(8)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(30)
    assert sorted(outcomes) == ["200 credited"] + ["200 duplicate"] * 7
    assert count(app, Payment) == count(app, PaymentEvent) == 1
    assert len(subscriptions(app, buyer.id)) == 1


def test_a_subscription_event_without_custom_data_finds_its_user_by_the_subscription(
    app: Flask, client: FlaskClient, buyer: Person
) -> None:
    now = utcnow()
    post_ls(client, ls_subscription(buyer.id, renews_at=now + timedelta(days=31), updated_at=now))
    later_end = now + timedelta(days=62)
    update = ls_subscription(
        buyer.id, name="subscription_updated", renews_at=later_end, updated_at=now + timedelta(1)
    )
    update["meta"]["custom_data"] = None
    assert post_ls(client, update).json["outcome"] == "applied"  # type: ignore[index]
    [row] = subscriptions(app, buyer.id)
    assert row.expires_at == later_end
    stranger = ls_subscription(
        buyer.id, subscription_id="8888", renews_at=later_end, updated_at=now
    )
    stranger["meta"]["custom_data"] = None
    assert post_ls(client, stranger).status_code == 422
