"""What a verified event does: payments are recorded once per provider payment id and move
only forward; a paid NOWPayments payment extends the plan from its current end; LemonSqueezy
subscription events set the period the provider says, unless a later event already did; a
refund ends the plan now. The plan in force is still read by ``accounts.subscriptions``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cryptolens.db.accounts import Subscription, User
from cryptolens.db.payments import Payment
from cryptolens.domain.accounts import SUBSCRIPTION_GRACE, subscription_in_force
from cryptolens.domain.billing import (
    REMINDER_LEAD,
    BillingPeriod,
    EventKind,
    EventRejectedError,
    PaymentStatus,
    PriceList,
    Provider,
    ProviderEvent,
    check_amount,
    ended_now,
    next_period_end,
    payment_status_advances,
    reminder_due,
)
from cryptolens.domain.plans import PLANS, Plan
from cryptolens.services.accounts.subscriptions import plan_status
from cryptolens.services.ops.mail import Mailer, send_email

log = logging.getLogger(__name__)

CREDITED = "credited"
RECORDED = "recorded"
APPLIED = "applied"
STALE = "stale"
IGNORED = "ignored"
PARTIAL = "partial"
REFUNDED = "refunded"


@dataclass(frozen=True, slots=True)
class Billing:
    """What applying events needs besides the session: prices and a way to email."""

    prices: PriceList
    mailer: Mailer


def apply_event(session: Session, event: ProviderEvent, *, billing: Billing, now: datetime) -> str:
    """Apply one verified event (stored once by the caller); returns the outcome. Raises
    EventRejectedError for an unknown user, plan or a wrong amount (nothing changed)."""
    user = session.get(User, event.user_id) if event.user_id is not None else None
    if user is None and event.subscription_ref is not None:
        # A subscription event without custom data: the subscription already names its user.
        owner = session.scalar(
            select(Subscription.user_id).where(
                Subscription.provider == event.provider.value,
                Subscription.provider_ref == event.subscription_ref,
            )
        )
        user = session.get(User, owner) if owner is not None else None
    if user is None:
        raise EventRejectedError(f"The event names no known user ({event.user_id!r}).")
    if event.kind is EventKind.SUBSCRIPTION:
        return _apply_subscription(session, event, user, billing, now)
    return _apply_payment(session, event, user, billing, now)


def _date(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "—"


def _apply_payment(
    session: Session, event: ProviderEvent, user: User, billing: Billing, now: datetime
) -> str:
    if event.plan is None or event.period is None or event.status is None:
        raise EventRejectedError("The payment names no plan, period or status.")
    if event.amount is None or event.currency is None or event.payment_ref is None:
        raise EventRejectedError("The payment names no amount, currency or id.")
    check_amount(billing.prices.price(event.plan, event.period), event.amount, event.currency)
    if not event.credits:
        return IGNORED
    row = session.scalar(
        select(Payment)
        .where(
            Payment.provider == event.provider.value,
            Payment.provider_payment_id == event.payment_ref,
        )
        .with_for_update()
    )
    if row is None:
        row = Payment(
            provider=event.provider.value,
            provider_payment_id=event.payment_ref,
            user_id=user.id,
            plan=event.plan.value,
            period=event.period.value,
            amount=event.amount,
            currency=event.currency,
            status=PaymentStatus.PENDING.value,
            credited=False,
            created_at=now,
        )
        session.add(row)
    elif not payment_status_advances(PaymentStatus(row.status), event.status):
        return STALE
    row.status = event.status.value
    row.provider_order_id = row.provider_order_id or _order_ref(event)
    row.provider_subscription_id = row.provider_subscription_id or event.subscription_ref
    row.provider_invoice_id = row.provider_invoice_id or event.invoice_ref
    row.provider_updated_at = max(
        filter(None, (row.provider_updated_at, event.occurred_at)), default=None
    )
    row.raw_event = event.raw
    row.updated_at = now
    session.flush()
    return _settle(session, row, event, user, billing, now)


def _order_ref(event: ProviderEvent) -> str | None:
    ref = event.payment_ref or ""
    return ref.removeprefix("order:") if ref.startswith("order:") else None


def _settle(
    session: Session,
    row: Payment,
    event: ProviderEvent,
    user: User,
    billing: Billing,
    now: datetime,
) -> str:
    assert event.plan is not None
    assert event.period is not None
    link = billing.mailer.links.billing()
    context = {"plan": PLANS[event.plan].title, "period": event.period.value, "link": link}
    if event.status is PaymentStatus.REFUNDED:
        # Only money that bought time takes it back (a refund before any credit ends nothing).
        ended = (
            end_plans_now(
                session, user_id=user.id, provider=event.provider, reason="refunded", now=now
            )
            if row.credited
            else 0
        )
        log.info("payment %s refunded: %s plan(s) of user %s ended", row.id, ended, user.id)
        return REFUNDED
    if event.status is PaymentStatus.PARTIAL:
        send_email(
            session,
            mailer=billing.mailer,
            template="payment_partial",
            recipient=user.email,
            missing=event.missing or "part of the price",
            reference=row.provider_payment_id,
            **context,
        )
        return PARTIAL
    if event.status is not PaymentStatus.PAID or row.credited:
        return RECORDED
    row.credited = True
    period_end = None
    if event.provider is Provider.NOWPAYMENTS:
        period_end = _extend(session, user.id, event.plan, event.period, event.provider, now)
    else:
        period_end = plan_status(session, user_id=user.id, now=now).expires_at
    send_email(
        session,
        mailer=billing.mailer,
        template="payment_receipt",
        recipient=user.email,
        amount=f"{row.amount:f}",
        currency=row.currency,
        period_end=_date(period_end),
        reference=row.provider_payment_id,
        **context,
    )
    return CREDITED


def _extend(
    session: Session,
    user_id: int,
    plan: Plan,
    period: BillingPeriod,
    provider: Provider,
    now: datetime,
) -> datetime:
    """Add one paid period of ``plan``: from the latest end of the user's subscriptions to
    that plan still in force (bought or granted), else from now. The ``provider`` row carries
    it (made when there is none in force). Returns the new end."""
    rows = session.scalars(
        select(Subscription)
        .where(
            Subscription.user_id == user_id,
            Subscription.plan == plan.value,
            Subscription.ended_reason.is_(None),
            Subscription.started_at <= now,
            Subscription.expires_at.is_not(None),
        )
        .with_for_update()
    ).all()
    current = [r for r in rows if r.expires_at and subscription_in_force(r.expires_at, now)]
    base = max((r.expires_at for r in current if r.expires_at), default=None)
    end = next_period_end(base, now, period)
    own = [r for r in current if r.provider == provider.value]
    if own:
        row = max(own, key=lambda r: r.expires_at or now)
        row.expires_at, row.period = end, period.value
    else:
        session.add(
            Subscription(
                user_id=user_id,
                plan=plan.value,
                started_at=now,
                expires_at=end,
                period=period.value,
                provider=provider.value,
                provider_ref=f"user:{user_id}",
                created_at=now,
            )
        )
    session.flush()
    return end


def end_plans_now(
    session: Session, *, user_id: int, provider: Provider, reason: str, now: datetime
) -> int:
    """End every subscription the user bought through ``provider`` at once (a refund or a
    chargeback): API keys and pages fall back to the plan left. Returns how many ended."""
    rows = session.scalars(
        select(Subscription).where(
            Subscription.user_id == user_id,
            Subscription.provider == provider.value,
            Subscription.ended_reason.is_(None),
        )
    ).all()
    for row in rows:
        row.expires_at = ended_now(now)
        row.ended_at = now
        row.ended_reason = reason
        row.cancel_at_period_end = False
    session.flush()
    return len(rows)


def _apply_subscription(
    session: Session, event: ProviderEvent, user: User, billing: Billing, now: datetime
) -> str:
    if event.plan is None or event.period is None or event.subscription_ref is None:
        raise EventRejectedError("The subscription names no plan, period or id.")
    row = session.scalar(
        select(Subscription)
        .where(
            Subscription.provider == event.provider.value,
            Subscription.provider_ref == event.subscription_ref,
        )
        .with_for_update()
    )
    if row is None:
        row = Subscription(
            user_id=user.id,
            started_at=min(now, event.occurred_at),
            provider=event.provider.value,
            provider_ref=event.subscription_ref,
            created_at=now,
        )
        session.add(row)
    elif row.provider_updated_at is not None and event.occurred_at < row.provider_updated_at:
        return STALE  # a later event already set the subscription
    row.provider_updated_at = event.occurred_at
    if row.ended_reason == "refunded":
        session.flush()
        return IGNORED  # refunded: no later state brings the plan back
    row.plan = event.plan.value
    row.period = event.period.value
    row.expires_at = event.period_end
    row.cancel_at_period_end = event.cancelled and not event.expired
    if event.expired:
        row.ended_reason = "expired"
        row.ended_at = event.period_end or now
        _notify_expiry(session, row, user, billing, reason="")
    session.flush()
    return APPLIED


def _notify_expiry(
    session: Session, row: Subscription, user: User, billing: Billing, *, reason: str
) -> None:
    if row.expiry_notified_for is not None and row.expiry_notified_for == row.expires_at:
        return
    row.expiry_notified_for = row.expires_at
    send_email(
        session,
        mailer=billing.mailer,
        template="plan_expired",
        recipient=user.email,
        plan=PLANS[Plan(row.plan)].title,
        reason=reason,
        link=billing.mailer.links.billing(),
    )


@dataclass(frozen=True, slots=True)
class ReminderRun:
    reminded: int = 0
    expired: int = 0

    def counts(self) -> dict[str, int]:
        return {"reminded": self.reminded, "expired": self.expired}


def remind_and_expire(session: Session, *, billing: Billing, now: datetime) -> ReminderRun:
    """The daily billing emails: a reminder 7 days before a bought period ends (once per
    period end) and an email once a bought plan has lapsed (its grace over). Flushes; the
    caller commits."""
    due = session.execute(
        select(Subscription, User)
        .join(User, User.id == Subscription.user_id)
        .where(
            Subscription.provider.is_not(None),
            Subscription.ended_reason.is_(None),
            Subscription.expires_at > now,
            Subscription.expires_at <= now + REMINDER_LEAD,
        )
    ).all()
    reminded = 0
    for row, user in due:
        assert row.expires_at is not None
        if not reminder_due(row.expires_at, now, row.reminded_for):
            continue
        row.reminded_for = row.expires_at
        renews = row.provider == Provider.LEMONSQUEEZY.value and not row.cancel_at_period_end
        send_email(
            session,
            mailer=billing.mailer,
            template="plan_renewal_reminder",
            recipient=user.email,
            plan=PLANS[Plan(row.plan)].title,
            period_end=_date(row.expires_at),
            renews=renews,
            link=billing.mailer.links.billing(),
        )
        reminded += 1
    lapsed = session.execute(
        select(Subscription, User)
        .join(User, User.id == Subscription.user_id)
        .where(
            Subscription.provider.is_not(None),
            or_(Subscription.ended_reason.is_(None), Subscription.ended_reason == "expired"),
            Subscription.expires_at <= now - SUBSCRIPTION_GRACE,
            Subscription.expires_at > now - SUBSCRIPTION_GRACE - REMINDER_LEAD,
        )
    ).all()
    expired = 0
    for row, user in lapsed:
        if row.expiry_notified_for == row.expires_at:
            continue
        if (
            PLANS[plan_status(session, user_id=user.id, now=now).plan].rank
            >= PLANS[Plan(row.plan)].rank
        ):
            row.expiry_notified_for = row.expires_at  # another subscription carries the plan
            continue
        _notify_expiry(session, row, user, billing, reason="")
        expired += 1
    session.flush()
    return ReminderRun(reminded, expired)
