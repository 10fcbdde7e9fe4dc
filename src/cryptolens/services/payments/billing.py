"""The account's billing page and its cancel button: the plan in force, the bought
subscription behind it, the payment history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cryptolens.db.accounts import Subscription
from cryptolens.db.payments import Payment
from cryptolens.domain.accounts import subscription_in_force
from cryptolens.domain.billing import Provider
from cryptolens.domain.errors import ConflictError, NotFoundError
from cryptolens.services.accounts.subscriptions import PlanStatus, plan_status
from cryptolens.services.payments.providers import PaymentProvider

HISTORY_ROWS = 50


@dataclass(frozen=True, slots=True)
class BoughtPlan:
    id: int
    plan: str
    period: str | None
    provider: str | None
    expires_at: datetime | None
    cancel_at_period_end: bool
    #: A LemonSqueezy subscription that still renews: the cancel button applies.
    cancellable: bool


@dataclass(frozen=True, slots=True)
class PaymentLine:
    created_at: datetime
    provider: str
    reference: str
    plan: str
    period: str
    amount: Decimal
    currency: str
    status: str


def payment_line(row: Payment) -> PaymentLine:
    return PaymentLine(
        created_at=row.created_at,
        provider=row.provider,
        reference=row.provider_payment_id,
        plan=row.plan,
        period=row.period,
        amount=row.amount,
        currency=row.currency,
        status=row.status,
    )


@dataclass(frozen=True, slots=True)
class BillingSummary:
    status: PlanStatus
    subscriptions: list[BoughtPlan]
    payments: list[PaymentLine]


def billing_summary(session: Session, *, user_id: int, now: datetime) -> BillingSummary:
    """The plan in force, the bought subscriptions still in force, the newest payments."""
    rows = session.scalars(
        select(Subscription)
        .where(Subscription.user_id == user_id, Subscription.provider.is_not(None))
        .order_by(Subscription.expires_at.desc())
    ).all()
    bought = [
        BoughtPlan(
            id=row.id,
            plan=row.plan,
            period=row.period,
            provider=row.provider,
            expires_at=row.expires_at,
            cancel_at_period_end=row.cancel_at_period_end,
            cancellable=_cancellable(row),
        )
        for row in rows
        if row.ended_reason is None and subscription_in_force(row.expires_at, now)
    ]
    payments = session.scalars(
        select(Payment)
        .where(Payment.user_id == user_id)
        .order_by(Payment.created_at.desc(), Payment.id.desc())
        .limit(HISTORY_ROWS)
    ).all()
    return BillingSummary(
        status=plan_status(session, user_id=user_id, now=now),
        subscriptions=bought,
        payments=[payment_line(p) for p in payments],
    )


def _cancellable(row: Subscription) -> bool:
    return (
        row.provider == Provider.LEMONSQUEEZY.value
        and row.provider_ref is not None
        and not row.cancel_at_period_end
    )


def cancel_at_period_end(
    session: Session,
    *,
    user_id: int,
    subscription_id: int,
    providers: dict[Provider, PaymentProvider],
) -> datetime | None:
    """Stop the user's LemonSqueezy subscription from renewing: the plan stays until the
    period's end. Raises NotFoundError (not theirs), ConflictError (nothing renews), and
    ProviderError (the provider failed: nothing changed). Returns the period end."""
    row = session.get(Subscription, subscription_id)
    if row is None or row.user_id != user_id:
        raise NotFoundError("No such subscription.")
    if not _cancellable(row):
        raise ConflictError("This plan does not renew by itself: nothing to cancel.")
    provider = providers.get(Provider.LEMONSQUEEZY)
    if provider is None:
        raise ConflictError("Card payments are not available now; try again later.")
    assert row.provider_ref is not None
    ends_at = provider.cancel_subscription(row.provider_ref)
    row.cancel_at_period_end = True
    if ends_at is not None:
        row.expires_at = ends_at
    session.flush()
    return row.expires_at
