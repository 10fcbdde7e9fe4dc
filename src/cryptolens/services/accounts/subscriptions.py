"""Subscriptions: a user's plan is computed at read time from their subscription rows, so an
expired plan (past its grace period) falls back to Free without any scheduled job."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
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
    best = _best(
        (row.plan, row.expires_at) for row in rows if _in_force(row.plan, row.expires_at, now)
    )
    if best is None:
        return PlanStatus(plan=Plan.FREE, expires_at=None, in_grace=False)
    plan, expires_at = best
    in_grace = expires_at is not None and expires_at <= now
    return PlanStatus(plan=plan, expires_at=expires_at, in_grace=in_grace)


def plans_in_force(session: Session, *, now: datetime) -> dict[int, Plan]:
    """Every user's paid plan in force at ``now``, in one query (users absent: Free); the
    bulk form of ``plan_status`` for fan-outs to thousands of users."""
    rows = session.execute(
        select(Subscription.user_id, Subscription.plan, Subscription.expires_at).where(
            Subscription.started_at <= now,
            or_(
                Subscription.expires_at.is_(None),
                Subscription.expires_at > now - SUBSCRIPTION_GRACE,
            ),
        )
    ).all()
    by_user: dict[int, list[tuple[str, datetime | None]]] = {}
    for user_id, plan, expires_at in rows:
        if _in_force(plan, expires_at, now):
            by_user.setdefault(user_id, []).append((plan, expires_at))
    plans: dict[int, Plan] = {}
    for user_id, candidates in by_user.items():
        best = _best(candidates)
        if best is not None:
            plans[user_id] = best[0]
    return plans


def _in_force(plan: str, expires_at: datetime | None, now: datetime) -> bool:
    return subscription_in_force(expires_at, now) and plan in Plan.__members__.values()


def _best(
    candidates: Iterable[tuple[str, datetime | None]],
) -> tuple[Plan, datetime | None] | None:
    """The highest-ranked (plan, expiry) among ``candidates`` (the first of equal rank)."""
    best: tuple[Plan, datetime | None] | None = None
    for plan, expires_at in candidates:
        if best is None or PLANS[Plan(plan)].rank > PLANS[best[0]].rank:
            best = (Plan(plan), expires_at)
    return best


def plan_in_force(subscriptions: Iterable[tuple[str, datetime | None]], now: datetime) -> Plan:
    """The highest plan among (plan, expires_at) pairs of subscriptions already started and
    still in force at ``now`` (else Free); for callers that joined them into another query."""
    best = _best(
        (plan, expires) for plan, expires in subscriptions if _in_force(plan, expires, now)
    )
    return Plan.FREE if best is None else best[0]


def grant_subscription(
    session: Session,
    *,
    user_id: int,
    plan: str,
    started_at: datetime,
    expires_at: datetime | None,
    reason: str | None = None,
) -> int:
    """Record a subscription (payments and admins call this, an administrator with its
    ``reason``); returns its id."""
    try:
        chosen = Plan(plan)
    except ValueError:
        raise ValidationError(f"Unknown plan {plan!r}; use free, pro or premium.") from None
    if expires_at is not None and expires_at <= started_at:
        raise ValidationError("A subscription must end after it starts.")
    row = Subscription(
        user_id=user_id,
        plan=chosen.value,
        started_at=started_at,
        expires_at=expires_at,
        grant_reason=reason,
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
    "plans_in_force",
]
