"""The admin side: payments and subscriptions filtered by user and status, a manual grant
with its reason, and a crypto payment that extends a granted plan from its end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.db.accounts import Subscription
from cryptolens.domain.billing import BillingPeriod, add_period
from cryptolens.domain.errors import NotFoundError, ValidationError
from cryptolens.services.payments.admin import (
    grant_manually,
    list_payments,
    list_subscriptions,
)
from cryptolens.services.payments.lifecycle import apply_event
from cryptolens.services.payments.nowpayments import NowPayments
from tests.builders.payment_servers import NP_SECRET, nowpayments_signed, np_ipn
from tests.builders.payments import pro_payment, recording_billing
from tests.web.accounts_helpers import make_user


def _payment(session: Session, user_id: int, ref: str, status: str) -> None:
    session.add(pro_payment(user_id, ref, status))
    session.commit()


def test_payments_filter_by_user_and_status(app: Flask, session: Session) -> None:
    alice = make_user(app, "alice@example.com")
    bob = make_user(app, "bob@example.com")
    _payment(session, alice.id, "1", "paid")
    _payment(session, alice.id, "2", "partial")
    _payment(session, bob.id, "3", "paid")
    assert {p.line.reference for p in list_payments(session, email="ALICE")} == {"1", "2"}
    assert {p.line.reference for p in list_payments(session, status="paid")} == {"1", "3"}
    assert [p.line.reference for p in list_payments(session, email="bob", status="paid")] == ["3"]
    with pytest.raises(ValidationError, match="Unknown payment status"):
        list_payments(session, status="lost")


def test_a_manual_grant_needs_a_reason_and_is_listed_with_it(app: Flask, session: Session) -> None:
    user = make_user(app, "g@example.com")
    now = utcnow()
    with pytest.raises(ValidationError, match="why"):
        grant_manually(session, user_id=user.id, plan="pro", period="monthly", reason=" ", now=now)
    with pytest.raises(NotFoundError):
        grant_manually(session, user_id=99_999, plan="pro", period="monthly", reason="x", now=now)
    grant_manually(
        session, user_id=user.id, plan="premium", period="yearly", reason="press  review", now=now
    )
    session.commit()
    [row] = list_subscriptions(session, now=now, email="g@", state="active")
    assert (row.plan, row.provider, row.grant_reason) == ("premium", "manual", "press review")
    assert row.expires_at == add_period(now, BillingPeriod.YEARLY)
    assert list_subscriptions(session, now=now, state="ended") == []
    with pytest.raises(ValidationError):
        list_subscriptions(session, now=now, state="paused")


def test_a_crypto_payment_extends_a_granted_plan_from_its_end(
    app: Flask, session: Session, settings: Settings
) -> None:
    user = make_user(app, "e@example.com")
    now = utcnow()
    grant_manually(session, user_id=user.id, plan="pro", period="monthly", reason="trial", now=now)
    session.commit()
    provider = NowPayments(
        api_url="http://127.0.0.1:9", api_key="k", ipn_secret=NP_SECRET, timeout=1
    )
    event = provider.verify_webhook(*nowpayments_signed(np_ipn(user.id)), now=now)
    billing = recording_billing(settings)
    assert apply_event(session, event, billing=billing, now=now + timedelta(days=1)) == "credited"
    found = session.scalars(select(Subscription).where(Subscription.user_id == user.id))
    rows = {r.provider: r for r in found}
    granted_end = add_period(now, BillingPeriod.MONTHLY)
    assert rows["nowpayments"].expires_at == add_period(granted_end, BillingPeriod.MONTHLY)
