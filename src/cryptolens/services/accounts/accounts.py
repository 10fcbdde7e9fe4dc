"""Account use cases: register, verify, log in, reset, change password/email, delete.

Answers never reveal whether an email is registered: callers get the same result shape
and the web layer shows the same page either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import available_timezones

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cryptolens.db.accounts import User
from cryptolens.domain.accounts import normalize_email
from cryptolens.domain.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from cryptolens.domain.plans import Plan
from cryptolens.services.accounts import policy
from cryptolens.services.accounts.passwords import Passwords
from cryptolens.services.accounts.subscriptions import plan_status
from cryptolens.services.accounts.tokens import TokenPurpose, consume_token, issue_token
from cryptolens.services.accounts.user_sessions import revoke_all_sessions

ADMIN_ROLE = "admin"
USER_ROLE = "user"
BAD_LOGIN = "Email or password is incorrect."


@dataclass(frozen=True, slots=True)
class Account:
    """A user as the rest of the app sees them, with the plan in force right now."""

    id: int
    email: str
    is_admin: bool
    active: bool
    verified: bool
    session_version: int
    totp_enabled: bool
    plan: Plan
    plan_expires_at: datetime | None
    plan_in_grace: bool
    timezone: str
    watchlist: tuple[str, ...]
    notification_topic: str | None


@dataclass(frozen=True, slots=True)
class Registration:
    """Who to email: a verification link for a new user, a notice for an existing one."""

    email: str
    new_user_id: int | None
    verify_token: str | None


def _account(session: Session, user: User, now: datetime) -> Account:
    status = plan_status(session, user_id=user.id, now=now)
    return Account(
        id=user.id,
        email=user.email,
        is_admin=user.role == ADMIN_ROLE,
        active=user.active,
        verified=user.email_verified_at is not None,
        session_version=user.session_version,
        totp_enabled=user.totp_enabled,
        plan=status.plan,
        plan_expires_at=status.expires_at,
        plan_in_grace=status.in_grace,
        timezone=user.timezone,
        watchlist=tuple(user.watchlist or ()),
        notification_topic=user.notification_topic,
    )


def _end_sessions(session: Session, user: User, now: datetime) -> int:
    """End every session and remember cookie: bump the version the cookies carry and revoke
    the server-side records."""
    user.session_version += 1
    revoke_all_sessions(session, user_id=user.id, now=now)
    return user.session_version


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("No such user.")
    return user


def _by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email)).one_or_none()


def load_account(session: Session, *, user_id: int, now: datetime) -> Account | None:
    user = session.get(User, user_id)
    return None if user is None else _account(session, user, now)


def find_account(session: Session, *, email: str, now: datetime) -> Account | None:
    user = _by_email(session, normalize_email(email))
    return None if user is None else _account(session, user, now)


def register(
    session: Session, *, email: str, password: str, passwords: Passwords, now: datetime
) -> Registration:
    """Create an unverified user, or (same cost) note that the email is already taken."""
    address = normalize_email(email)
    passwords.check_policy(password, email=address)
    hashed = passwords.hash(password)  # also for a taken email: same time either way
    if _by_email(session, address) is not None:
        return Registration(email=address, new_user_id=None, verify_token=None)
    user = User(email=address, password_hash=hashed, created_at=now)
    session.add(user)
    session.flush()
    token = issue_token(session, user_id=user.id, purpose=TokenPurpose.VERIFY, now=now)
    return Registration(email=address, new_user_id=user.id, verify_token=token)


def new_verification(session: Session, *, user_id: int, now: datetime) -> str | None:
    """A fresh verification token, or None if the user is already verified."""
    user = _user(session, user_id)
    if user.email_verified_at is not None:
        return None
    return issue_token(session, user_id=user.id, purpose=TokenPurpose.VERIFY, now=now)


def verify_email(session: Session, *, token: str, now: datetime) -> int:
    row = consume_token(session, token=token, purpose=TokenPurpose.VERIFY, now=now)
    user = _user(session, row.user_id)
    if user.email_verified_at is None:
        user.email_verified_at = now
    return user.id


def mark_email_verified(session: Session, *, email: str, now: datetime) -> tuple[int, bool]:
    """Mark a user's email verified by an operator (no emailed link); returns the user's id
    and whether it was already verified. Raises NotFoundError for an unknown address."""
    address = normalize_email(email)
    user = _by_email(session, address)
    if user is None:
        raise NotFoundError(f"no user with the email {address}")
    already = user.email_verified_at is not None
    if not already:
        user.email_verified_at = now
    return user.id, already


def authenticate(
    session: Session, *, email: str, password: str, passwords: Passwords, now: datetime
) -> Account:
    """The account for these credentials; AuthenticationError with one message otherwise."""
    try:
        address = normalize_email(email)
    except ValidationError:
        address = ""
    user = _by_email(session, address) if address else None
    ok = passwords.verify(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        raise AuthenticationError(BAD_LOGIN)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash(password)
    user.last_login_at = now
    return _account(session, user, now)


def request_password_reset(
    session: Session, *, email: str, now: datetime
) -> tuple[str, str] | None:
    """(address, token) to email if the account exists and is active; otherwise None."""
    try:
        address = normalize_email(email)
    except ValidationError:
        return None
    user = _by_email(session, address)
    if user is None or not user.active:
        return None
    return address, issue_token(session, user_id=user.id, purpose=TokenPurpose.RESET, now=now)


def reset_password(
    session: Session, *, token: str, password: str, passwords: Passwords, now: datetime
) -> int:
    """Set a new password from a reset link; ends every session. Returns the user id."""
    row = consume_token(session, token=token, purpose=TokenPurpose.RESET, now=now)
    user = _user(session, row.user_id)
    passwords.check_policy(password, email=user.email)
    user.password_hash = passwords.hash(password)
    _end_sessions(session, user, now)
    if user.email_verified_at is None:  # the link proved control of the inbox
        user.email_verified_at = now
    return user.id


def _check_current(user: User, password: str, passwords: Passwords) -> None:
    if not passwords.verify(user.password_hash, password):
        raise AuthenticationError("The current password is incorrect.")


def change_password(
    session: Session,
    *,
    user_id: int,
    current: str,
    new: str,
    passwords: Passwords,
    now: datetime,
) -> int:
    """Change the password and end every session; returns the new session version."""
    user = _user(session, user_id)
    _check_current(user, current, passwords)
    passwords.check_policy(new, email=user.email)
    user.password_hash = passwords.hash(new)
    return _end_sessions(session, user, now)


def request_email_change(
    session: Session,
    *,
    user_id: int,
    password: str,
    new_email: str,
    passwords: Passwords,
    now: datetime,
) -> tuple[str, str] | None:
    """(new address, token) to verify, or None if the address is taken (not revealed)."""
    user = _user(session, user_id)
    _check_current(user, password, passwords)
    address = normalize_email(new_email)
    if address == user.email:
        raise ValidationError("That is already your email address.")
    if _by_email(session, address) is not None:
        return None
    token = issue_token(
        session, user_id=user.id, purpose=TokenPurpose.CHANGE_EMAIL, now=now, new_email=address
    )
    return address, token


@dataclass(frozen=True, slots=True)
class EmailChange:
    user_id: int
    old_email: str
    new_email: str


def confirm_email_change(session: Session, *, token: str, now: datetime) -> EmailChange:
    row = consume_token(session, token=token, purpose=TokenPurpose.CHANGE_EMAIL, now=now)
    user = _user(session, row.user_id)
    if row.new_email is None or _by_email(session, row.new_email) is not None:
        raise ValidationError("That email address is no longer available.")
    change = EmailChange(user_id=user.id, old_email=user.email, new_email=row.new_email)
    user.email = row.new_email
    user.email_verified_at = now
    return change


def end_all_sessions(session: Session, *, user_id: int, now: datetime) -> int:
    """Invalidate every session and remember cookie of the user; returns the new version."""
    return _end_sessions(session, _user(session, user_id), now)


def delete_account(session: Session, *, user_id: int, password: str, passwords: Passwords) -> None:
    """Delete the user and (by cascade) their tokens, codes and subscriptions."""
    user = _user(session, user_id)
    _check_current(user, password, passwords)
    session.execute(delete(User).where(User.id == user_id))


def set_active(
    session: Session, *, user_id: int, active: bool, actor_id: int | None = None
) -> None:
    """(De)activate an account; ConflictError for the acting administrator's own account
    and for the last active administrator (nobody could administer the site afterwards)."""
    user = _user(session, user_id)
    if not active and user.active and user.role == ADMIN_ROLE:
        if user_id == actor_id:
            raise ConflictError("You cannot deactivate your own account.")
        # Lock the active administrators so two of them cannot deactivate each other at once.
        admins = session.scalars(
            select(User.id).where(User.role == ADMIN_ROLE, User.active.is_(True)).with_for_update()
        ).all()
        if not set(admins) - {user_id}:
            raise ConflictError("That is the last active administrator; it stays active.")
    user.active = active


def create_admin(
    session: Session, *, email: str, password: str, passwords: Passwords, now: datetime
) -> int:
    """Create a verified administrator, or promote (and re-password) an existing user."""
    address = normalize_email(email)
    passwords.check_policy(password, email=address)
    user = _by_email(session, address)
    if user is None:
        user = User(email=address, password_hash="", created_at=now)
        session.add(user)
    user.password_hash = passwords.hash(password)
    user.role = ADMIN_ROLE
    user.active = True
    user.email_verified_at = user.email_verified_at or now
    user.session_version = (user.session_version or 1) + 1
    session.flush()
    return user.id


def update_preferences(
    session: Session,
    *,
    account: Account,
    timezone: str,
    watchlist: list[str],
) -> None:
    """Save the user's own time zone and watchlist; the watchlist must fit their plan.
    (Alert channels and preferences live in ``services.notifications``.)"""
    if timezone not in available_timezones():
        raise ValidationError(f"Unknown time zone {timezone!r}; use a name like Europe/Paris.")
    symbols = policy.check_symbols(account, watchlist)
    user = _user(session, account.id)
    user.timezone = timezone
    user.watchlist = list(symbols)


def require_user(session: Session, *, user_id: int) -> None:
    """Raise NotFoundError unless the user exists."""
    _user(session, user_id)
