"""The last-administrator rule under concurrency: two administrators deactivating each other
at the same moment leave one active (the service locks the active administrators' rows and
counts them in the same transaction)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.db.accounts import User
from cryptolens.domain.errors import ConflictError
from cryptolens.services.accounts.accounts import create_admin, set_active
from tests.web.accounts_helpers import PASSWORD, TEST_PASSWORDS


def _admins(engine: Engine) -> tuple[int, int]:
    with Session(engine) as s, s.begin():
        s.query(User).delete()
        ids = [
            create_admin(
                s,
                email=f"admin{n}@example.com",
                password=PASSWORD,
                passwords=TEST_PASSWORDS,
                now=utcnow(),
            )
            for n in (1, 2)
        ]
    return ids[0], ids[1]


def _blocked_on_a_lock(engine: Engine) -> bool:
    with engine.connect() as c:
        waiting = c.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        ).scalar_one()
    return bool(waiting)


@pytest.mark.db
def test_two_admins_deactivating_each_other_at_once_leave_one_active(
    migrated_engine: Engine,
) -> None:
    if migrated_engine.dialect.name != "postgresql":
        pytest.skip("interleaves two transactions through PostgreSQL's lock view")
    first, second = _admins(migrated_engine)
    outcome: list[BaseException | None] = []

    def other_side() -> None:
        try:
            with Session(migrated_engine) as s, s.begin():
                set_active(s, user_id=first, active=False, actor_id=second)
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)

    with Session(migrated_engine) as s, s.begin():
        set_active(s, user_id=second, active=False, actor_id=first)
        s.flush()
        thread = threading.Thread(target=other_side)
        thread.start()
        deadline = time.monotonic() + 30
        while not _blocked_on_a_lock(migrated_engine):  # the other side waits on our lock
            assert time.monotonic() < deadline, "the other transaction never blocked"
            time.sleep(0.01)
    thread.join(timeout=30)
    assert len(outcome) == 1
    assert isinstance(outcome[0], ConflictError)
    with Session(migrated_engine) as s:
        active = {u.id for u in s.query(User).filter(User.active.is_(True))}
    assert active == {first}
