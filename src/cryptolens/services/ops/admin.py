"""Administration use cases: the users list (search, paging) and the grant of a plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cryptolens.db.accounts import User
from cryptolens.domain.errors import NotFoundError, ValidationError
from cryptolens.services.accounts.subscriptions import grant_subscription, plan_status
from cryptolens.services.ops.audit import clamp_page

PAGE_SIZE = 25
MAX_QUERY = 100
MAX_REASON = 255


@dataclass(frozen=True, slots=True)
class UserSummary:
    id: int
    email: str
    role: str
    active: bool
    verified: bool
    plan: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class UserPage:
    users: list[UserSummary]
    query: str
    page: int
    pages: int
    total: int


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_users(
    session: Session, *, now: datetime, query: str = "", page: int = 1, size: int = PAGE_SIZE
) -> UserPage:
    """Users whose address contains ``query`` (case-insensitive), a page at a time by id;
    ``page`` is clamped to the last one."""
    query = query.strip()[:MAX_QUERY]
    where = (
        func.lower(User.email).like(f"%{_escape_like(query.lower())}%", escape="\\")
        if query
        else None
    )
    count = select(func.count()).select_from(User)
    rows = select(User).order_by(User.id)
    if where is not None:
        count, rows = count.where(where), rows.where(where)
    total = session.scalar(count) or 0
    page, pages = clamp_page(total, page, size)
    users = session.scalars(rows.offset((page - 1) * size).limit(size)).all()
    summaries = [
        UserSummary(
            id=u.id,
            email=u.email,
            role=u.role,
            active=u.active,
            verified=u.email_verified_at is not None,
            plan=plan_status(session, user_id=u.id, now=now).plan.value,
            created_at=u.created_at,
        )
        for u in users
    ]
    return UserPage(users=summaries, query=query, page=page, pages=pages, total=total)


def grant_plan(
    session: Session, *, user_id: int, plan: str, days: int, reason: str, now: datetime
) -> int:
    """An administrator's grant of ``plan`` for ``days`` (1 to 3660) with its reason (kept
    with the subscription); returns the subscription id."""
    why = " ".join(reason.split())
    if not why:
        raise ValidationError("Say why the plan is granted (the reason is kept with it).")
    if len(why) > MAX_REASON:
        raise ValidationError(f"The reason may have at most {MAX_REASON} characters.")
    if not 1 <= days <= 3660:
        raise ValidationError("Days must be a whole number from 1 to 3660.")
    return grant_subscription(
        session,
        user_id=user_id,
        plan=plan,
        started_at=now,
        expires_at=now + timedelta(days=days),
        reason=why,
    )


def user_email(session: Session, *, user_id: int) -> str:
    """The user's address; NotFoundError for an unknown user."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("No such user.")
    return user.email
