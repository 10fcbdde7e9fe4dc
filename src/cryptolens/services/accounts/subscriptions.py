"""Subscriptions: a user's plan is computed at read time from their subscription rows, so an
expired plan (past its grace period) falls back to Free without any scheduled job."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cryptolens.db.accounts import Subscription
from cryptolens.domain.accounts import SUBSCRIPTION_GRACE, subscription_in_force
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.plans import PLANS, Plan


@dataclass(frozen=True, slots=True)
class PlanStatus:
    plan: Plan
    expires_at: datetime | None  # None: Free, or a paid plan without end
    in_grace: bool


def plan_status(session: Session, *, user_id: int, now: datetime) -> PlanStatus:
    """The highest plan among the user's subscriptions in force at ``now`` (else Free)."""
    rows = session.scalars(
        select(Subscription).where(Subscription.user_id == user_id, Subscription.started_at <= now)
    ).all()
    best: Subscription | None = None
    for row in rows:
        if (
            not subscription_in_force(row.expires_at, now)
            or row.plan not in Plan.__members__.values()
        ):
            continue
        if best is None or PLANS[Plan(row.plan)].rank > PLANS[Plan(best.plan)].rank:
            best = row
    if best is None:
        return PlanStatus(plan=Plan.FREE, expires_at=None, in_grace=False)
    in_grace = best.expires_at is not None and best.expires_at <= now
    return PlanStatus(plan=Plan(best.plan), expires_at=best.expires_at, in_grace=in_grace)


def plan_in_force(subscriptions: Iterable[tuple[str, datetime | None]], now: datetime) -> Plan:
    """The highest plan among (plan, expires_at) pairs of subscriptions already started and
    still in force at ``now`` (else Free); for callers that joined them into another query."""
    best = Plan.FREE
    for plan, expires_at in subscriptions:
        if plan not in Plan.__members__.values() or not subscription_in_force(expires_at, now):
            continue
        if PLANS[Plan(plan)].rank > PLANS[best].rank:
            best = Plan(plan)
    return best


def grant_subscription(
    session: Session,
    *,
    user_id: int,
    plan: str,
    started_at: datetime,
    expires_at: datetime | None,
) -> int:
    """Record a subscription (payments and admins call this); returns its id."""
    try:
        chosen = Plan(plan)
    except ValueError:
        raise ValidationError(f"Unknown plan {plan!r}; use free, pro or premium.") from None
    if expires_at is not None and expires_at <= started_at:
        raise ValidationError("A subscription must end after it starts.")
    row = Subscription(
        user_id=user_id, plan=chosen.value, started_at=started_at, expires_at=expires_at
    )
    session.add(row)
    session.flush()
    return row.id


__all__ = [
    "SUBSCRIPTION_GRACE",
    "PlanStatus",
    "grant_subscription",
    "plan_in_force",
    "plan_status",
]
