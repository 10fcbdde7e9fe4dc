"""The daily billing emails: renewal reminders and lapsed-plan emails, once each."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.db.accounts import OutboxEmail, Subscription
from cryptolens.domain.accounts import SUBSCRIPTION_GRACE
from cryptolens.services.payments.lifecycle import remind_and_expire
from tests.builders.payments import recording_billing
from tests.web.accounts_helpers import make_user


def _bought(session: Session, user_id: int, *, ends_in: timedelta, provider: str) -> Subscription:
    now = utcnow()
    row = Subscription(
        user_id=user_id,
        plan="pro",
        started_at=now - timedelta(days=30),
        expires_at=now + ends_in,
        period="monthly",
        provider=provider,
        provider_ref="7001",
    )
    session.add(row)
    session.commit()
    return row


def _subjects(session: Session) -> list[str]:
    return list(session.scalars(select(OutboxEmail.subject).order_by(OutboxEmail.id)))


def test_a_reminder_goes_out_once_seven_days_before_the_end(
    app: Flask, session: Session, settings: Settings
) -> None:
    user = make_user(app, "r@example.com")
    _bought(session, user.id, ends_in=timedelta(days=6), provider="lemonsqueezy")
    far = make_user(app, "far@example.com")
    _bought(session, far.id, ends_in=timedelta(days=20), provider="nowpayments")
    billing = recording_billing(settings)
    first = remind_and_expire(session, billing=billing, now=utcnow())
    again = remind_and_expire(session, billing=billing, now=utcnow() + timedelta(hours=1))
    session.commit()
    assert (first.reminded, again.reminded) == (1, 0)
    assert _subjects(session) == ["Your CryptoLens plan renews soon"]


def test_a_lapsed_plan_is_emailed_once_its_grace_is_over(
    app: Flask, session: Session, settings: Settings
) -> None:
    user = make_user(app, "l@example.com")
    _bought(
        session, user.id, ends_in=-SUBSCRIPTION_GRACE - timedelta(hours=1), provider="nowpayments"
    )
    billing = recording_billing(settings)
    assert remind_and_expire(session, billing=billing, now=utcnow()).expired == 1
    assert remind_and_expire(session, billing=billing, now=utcnow()).expired == 0
    session.commit()
    assert _subjects(session) == ["Your CryptoLens plan has ended"]


def test_no_lapse_email_while_another_subscription_carries_the_plan(
    app: Flask, session: Session, settings: Settings
) -> None:
    user = make_user(app, "k@example.com", plan="pro")
    _bought(
        session, user.id, ends_in=-SUBSCRIPTION_GRACE - timedelta(hours=1), provider="nowpayments"
    )
    assert (
        remind_and_expire(session, billing=recording_billing(settings), now=utcnow()).expired == 0
    )
