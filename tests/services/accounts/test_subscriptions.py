from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cryptolens.domain.errors import ValidationError
from cryptolens.domain.plans import Plan
from cryptolens.extensions import db
from cryptolens.services.accounts.subscriptions import (
    grant_subscription,
    plan_status,
    plans_in_force,
)
from tests.web.accounts_helpers import make_user, sign_in

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_a_plan_lasts_through_three_days_of_grace_then_falls_to_free(app: Flask) -> None:
    user = make_user(app, "expiring@example.com")
    expires = NOW + timedelta(days=10)
    with app.app_context():
        session = db.session()
        grant_subscription(session, user_id=user.id, plan="pro", started_at=NOW, expires_at=expires)

        def at(moment: datetime) -> tuple[Plan, bool]:
            status = plan_status(session, user_id=user.id, now=moment)
            return status.plan, status.in_grace

        assert at(NOW - timedelta(seconds=1)) == (Plan.FREE, False)  # not started yet
        assert at(NOW) == (Plan.PRO, False)
        assert at(expires + timedelta(hours=1)) == (Plan.PRO, True)
        assert at(expires + timedelta(days=3) - timedelta(seconds=1)) == (Plan.PRO, True)
        assert at(expires + timedelta(days=3)) == (Plan.FREE, False)


def test_the_highest_plan_in_force_wins(app: Flask) -> None:
    user = make_user(app, "stacked@example.com")
    with app.app_context():
        session = db.session()
        grant_subscription(session, user_id=user.id, plan="pro", started_at=NOW, expires_at=None)
        grant_subscription(
            session,
            user_id=user.id,
            plan="premium",
            started_at=NOW,
            expires_at=NOW + timedelta(days=1),
        )
        assert plan_status(session, user_id=user.id, now=NOW).plan is Plan.PREMIUM
        later = NOW + timedelta(days=5)
        assert plan_status(session, user_id=user.id, now=later).plan is Plan.PRO


def test_bad_subscriptions_are_refused(app: Flask) -> None:
    user = make_user(app, "bad@example.com")
    with app.app_context():
        with pytest.raises(ValidationError, match="Unknown plan"):
            grant_subscription(
                db.session(), user_id=user.id, plan="gold", started_at=NOW, expires_at=None
            )
        with pytest.raises(ValidationError, match="end after"):
            grant_subscription(
                db.session(), user_id=user.id, plan="pro", started_at=NOW, expires_at=NOW
            )


def test_an_expired_subscription_drops_the_profile_page_to_free(
    app: Flask, client: FlaskClient
) -> None:
    ended = datetime.now(UTC) - timedelta(days=4)
    user = make_user(app, "lapsed@example.com", plan="premium", expires_at=ended)
    sign_in(client, user)
    page = client.get("/account/")
    assert '<p id="plan-name">Free' in page.text
    in_grace = make_user(
        app, "grace@example.com", plan="premium", expires_at=datetime.now(UTC) - timedelta(days=1)
    )
    browser = app.test_client()
    sign_in(browser, in_grace)
    assert "(expired: grace period)" in browser.get("/account/").text


def test_plans_in_force_agrees_with_each_users_plan_status(app: Flask) -> None:
    users = [make_user(app, f"bulk{i}@example.com").id for i in range(4)]
    expires = NOW + timedelta(days=10)
    with app.app_context():
        session = db.session()
        grant = grant_subscription
        grant(session, user_id=users[0], plan="pro", started_at=NOW, expires_at=expires)
        grant(session, user_id=users[1], plan="premium", started_at=NOW, expires_at=None)
        grant(session, user_id=users[1], plan="pro", started_at=NOW, expires_at=None)
        grant(
            session,
            user_id=users[2],
            plan="premium",
            started_at=NOW - timedelta(days=9),
            expires_at=NOW,
        )
        moments = (
            NOW - timedelta(days=1),
            NOW,
            expires + timedelta(days=2),
            NOW + timedelta(days=4),
        )
        for moment in moments:
            bulk = plans_in_force(session, now=moment)
            each = {u: plan_status(session, user_id=u, now=moment).plan for u in users}
            assert {u: bulk.get(u, Plan.FREE) for u in users} == each
        assert plans_in_force(session, now=NOW) == {
            users[0]: Plan.PRO,
            users[1]: Plan.PREMIUM,
            users[2]: Plan.PREMIUM,
        }
