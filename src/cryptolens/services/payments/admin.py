"""What the admin payment pages read and do: payments, subscriptions and webhook events,
filtered by user and status, and a manual grant with its reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cryptolens.db.accounts import Subscription, User
from cryptolens.db.payments import Payment, PaymentEvent
from cryptolens.domain.accounts import SUBSCRIPTION_GRACE
from cryptolens.domain.billing import PaymentStatus, add_period, parse_period, parse_plan
from cryptolens.domain.errors import NotFoundError, ValidationError
from cryptolens.services.payments.billing import PaymentLine, payment_line
from cryptolens.services.payments.webhooks import REJECTED_SIGNATURES

MANUAL = "manual"
MAX_ROWS = 200
MAX_REASON = 255
SUBSCRIPTION_STATES = ("active", "ended")


@dataclass(frozen=True, slots=True)
class PaymentRow:
    """A payment as the admin list shows it: the account page's line, and whose it is."""

    id: int
    email: str | None
    credited: bool
    line: PaymentLine


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    id: int
    email: str
    plan: str
    period: str | None
    provider: str | None
    started_at: datetime
    expires_at: datetime | None
    cancel_at_period_end: bool
    ended_reason: str | None
    grant_reason: str | None


def _user_filter(email: str | None) -> str | None:
    text = (email or "").strip().lower()
    return f"%{text.replace('%', '').replace('_', '')}%" if text else None


def list_payments(
    session: Session, *, email: str | None = None, status: str | None = None, limit: int = MAX_ROWS
) -> list[PaymentRow]:
    """The newest payments, optionally of users whose email contains ``email`` and in one
    ``status`` (ValidationError naming an unknown one)."""
    query = select(Payment, User.email).outerjoin(User, User.id == Payment.user_id)
    if status:
        if status not in {s.value for s in PaymentStatus}:
            raise ValidationError(f"Unknown payment status {status!r}.")
        query = query.where(Payment.status == status)
    pattern = _user_filter(email)
    if pattern:
        query = query.where(User.email.like(pattern))
    rows = session.execute(
        query.order_by(Payment.created_at.desc(), Payment.id.desc()).limit(min(limit, MAX_ROWS))
    ).all()
    return [PaymentRow(p.id, user_email, p.credited, payment_line(p)) for p, user_email in rows]


def list_subscriptions(
    session: Session,
    *,
    now: datetime,
    email: str | None = None,
    state: str | None = None,
    limit: int = MAX_ROWS,
) -> list[SubscriptionRow]:
    """Subscriptions, newest first; ``state`` "active" (in force, grace included) or "ended"."""
    query = select(Subscription, User.email).join(User, User.id == Subscription.user_id)
    in_force = or_(
        Subscription.expires_at.is_(None), Subscription.expires_at > now - SUBSCRIPTION_GRACE
    )
    if state == "active":
        query = query.where(in_force, Subscription.started_at <= now)
    elif state == "ended":
        query = query.where(~in_force)
    elif state:
        raise ValidationError(f"Unknown state {state!r}; use active or ended.")
    pattern = _user_filter(email)
    if pattern:
        query = query.where(User.email.like(pattern))
    rows = session.execute(
        query.order_by(Subscription.started_at.desc(), Subscription.id.desc()).limit(
            min(limit, MAX_ROWS)
        )
    ).all()
    return [
        SubscriptionRow(
            s.id,
            user_email,
            s.plan,
            s.period,
            s.provider,
            s.started_at,
            s.expires_at,
            s.cancel_at_period_end,
            s.ended_reason,
            s.grant_reason,
        )
        for s, user_email in rows
    ]


def grant_manually(
    session: Session, *, user_id: int, plan: str, period: str, reason: str, now: datetime
) -> int:
    """An administrator's grant of ``plan`` for one ``period`` from now, with its reason
    (required); returns the subscription id. Flushes, the caller commits."""
    chosen, every = parse_plan(plan), parse_period(period)
    why = " ".join(reason.split())
    if not why:
        raise ValidationError("Say why the plan is granted (the reason is kept with it).")
    if len(why) > MAX_REASON:
        raise ValidationError(f"The reason may have at most {MAX_REASON} characters.")
    if session.get(User, user_id) is None:
        raise NotFoundError("No such user.")
    row = Subscription(
        user_id=user_id,
        plan=chosen.value,
        started_at=now,
        expires_at=add_period(now, every),
        period=every.value,
        provider=MANUAL,
        grant_reason=why,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row.id


@dataclass(frozen=True, slots=True)
class EventRow:
    provider: str
    event_id: str
    event_type: str
    received_at: datetime
    outcome: str
    detail: str | None


def list_events(
    session: Session, *, outcome: str | None = None, limit: int = MAX_ROWS
) -> list[EventRow]:
    """The newest webhook events received (``outcome`` e.g. "rejected")."""
    query = select(PaymentEvent)
    if outcome:
        query = query.where(PaymentEvent.outcome == outcome)
    rows = session.scalars(
        query.order_by(PaymentEvent.received_at.desc()).limit(min(limit, MAX_ROWS))
    ).all()
    return [
        EventRow(r.provider, r.event_id, r.event_type, r.received_at, r.outcome, r.detail)
        for r in rows
    ]


def rejected_signatures() -> dict[str, int]:
    """Webhooks refused for their signature per provider, since this process started."""
    return dict(REJECTED_SIGNATURES)
