"""The demo administrator: a fresh random password on every start, ready to sign in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.db.accounts import User
from cryptolens.services.accounts.passwords import Passwords
from cryptolens.services.ops.demo import DEMO_EMAIL, prepare_demo_login

CHEAP = Passwords(time_cost=1, memory_kib=1024)


def test_the_demo_login_is_a_verified_admin_with_a_new_password_each_time(
    session: Session,
) -> None:
    first = prepare_demo_login(session, passwords=CHEAP, now=utcnow())
    session.commit()
    second = prepare_demo_login(session, passwords=CHEAP, now=utcnow())
    session.commit()
    [user] = session.scalars(select(User).where(User.email == DEMO_EMAIL)).all()
    assert first.password != second.password
    assert len(second.password) >= 16
    assert user.role == "admin"
    assert user.email_verified_at is not None
    assert CHEAP.verify(user.password_hash, second.password)
    assert not CHEAP.verify(user.password_hash, first.password)
