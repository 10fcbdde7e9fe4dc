from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from cryptolens.db.accounts import User
from cryptolens.db.api_keys import ApiKey
from cryptolens.domain.api_scopes import RateLimits
from cryptolens.domain.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    TierRequiredError,
    ValidationError,
)
from cryptolens.domain.plans import Plan
from cryptolens.extensions import db
from cryptolens.services.accounts.accounts import Account, load_account
from cryptolens.services.accounts.api_key_check import (
    KEY_REPLACED,
    KEY_REVOKED,
    PLAN_LAPSED,
    UNKNOWN_KEY,
    KeyRefused,
    ResolvedKey,
    verify_key,
)
from cryptolens.services.accounts.api_keys import (
    KeyOptions,
    create_key,
    key_pepper,
    list_keys,
    revoke_key,
    rotate_key,
)
from cryptolens.services.accounts.subscriptions import grant_subscription
from tests.builders.settings import TEST_SECRET
from tests.web.accounts_helpers import make_user

PEPPER = key_pepper(TEST_SECRET)
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with app.app_context():
        yield db.session()
        db.session.rollback()


def _account(app: Flask, email: str, **kwargs: Any) -> Account:
    person = make_user(app, email, **kwargs)
    with app.app_context():
        account = load_account(db.session(), user_id=person.id, now=NOW)
    assert account is not None
    return account


@pytest.fixture
def premium(app: Flask) -> Account:
    return _account(app, "premium@example.com", plan="premium")


def _create(session: Session, owner: Account, **options: Any) -> tuple[int, str]:
    options.setdefault("name", "bot")
    options.setdefault("scopes", ["read:signals"])
    info, plaintext = create_key(
        session, owner=owner, options=KeyOptions(**options), pepper=PEPPER, now=NOW
    )
    session.commit()
    return info.id, plaintext


def _verify(
    session: Session, plaintext: str, *, ip: str = "203.0.113.7", at: datetime = NOW
) -> Any:
    return verify_key(session, plaintext, ip=ip, now=at, pepper=PEPPER)


def test_a_new_key_is_prefixed_shown_once_and_stored_only_as_a_keyed_hash(
    session: Session, premium: Account
) -> None:
    key_id, plaintext = _create(session, premium)
    assert plaintext.startswith("cl_")
    assert len(plaintext) == 3 + 12 + 1 + 43
    row = session.get(ApiKey, key_id)
    assert row is not None
    lookup, secret = plaintext[3:15], plaintext[16:]
    assert row.lookup_id == lookup
    assert row.secret_hash == hmac.new(PEPPER, secret.encode(), hashlib.sha256).hexdigest()
    stored = " ".join(str(v) for v in vars(row).values())
    assert secret not in stored
    assert row.secret_hash != hashlib.sha256(secret.encode()).hexdigest()  # peppered


def test_verification_resolves_the_owner_plan_scopes_and_plan_limits(
    session: Session, premium: Account
) -> None:
    key_id, plaintext = _create(session, premium, scopes=["read:signals", "write:scan"])
    check = _verify(session, plaintext)
    assert check == ResolvedKey(
        key_id=key_id,
        user_id=premium.id,
        plan=Plan.PREMIUM,
        role="user",
        verified=True,
        scopes=frozenset({"read:signals", "write:scan"}),
        limits=RateLimits(200, 5000, 50_000),
    )


def test_a_keys_own_lower_limits_apply_and_the_rest_follow_the_plan(
    session: Session, premium: Account
) -> None:
    _, plaintext = _create(session, premium, limits=RateLimits(minute=5, day=100))
    assert _verify(session, plaintext).limits == RateLimits(5, 5000, 100)


def test_limits_above_the_plans_are_refused(session: Session, premium: Account) -> None:
    with pytest.raises(ValidationError, match="per minute may be at most 200"):
        _create(session, premium, limits=RateLimits(minute=201))


def test_verification_is_one_query(app: Flask, session: Session, premium: Account) -> None:
    _, plaintext = _create(session, premium)
    grant_subscription(
        session, user_id=premium.id, plan="pro", started_at=NOW - timedelta(days=1), expires_at=None
    )
    session.commit()
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        check = _verify(session, plaintext)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert isinstance(check, ResolvedKey)
    assert check.plan is Plan.PREMIUM
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


@pytest.mark.parametrize(
    "mangle",
    [
        lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"),  # wrong secret
        lambda k: k[:3] + "zzzzzzzzzzzz" + k[15:],  # unknown lookup id
        lambda k: k[:20],  # malformed
        lambda k: "Bearer " + k,
    ],
)
def test_a_wrong_unknown_or_malformed_key_is_a_401(
    session: Session, premium: Account, mangle: Any
) -> None:
    _, plaintext = _create(session, premium)
    assert _verify(session, mangle(plaintext)) == KeyRefused(UNKNOWN_KEY, status=401)


def test_free_and_pro_users_cannot_create_keys(app: Flask, session: Session) -> None:
    for email, plan in (("free@example.com", None), ("pro@example.com", "pro")):
        owner = _account(app, email, plan=plan)
        with pytest.raises(TierRequiredError, match="Premium plan"):
            _create(session, owner)


def test_admin_scopes_are_for_admins_only(app: Flask, session: Session, premium: Account) -> None:
    with pytest.raises(ForbiddenError, match="admin:scheduler is for administrators"):
        _create(session, premium, scopes=["read:signals", "admin:scheduler"])
    admin = _account(app, "admin@example.com", admin=True)
    _, plaintext = _create(session, admin, scopes=["admin:scheduler", "admin:symbols"])
    check = _verify(session, plaintext)
    assert check.scopes == {"admin:scheduler", "admin:symbols"}
    assert check.plan is Plan.FREE
    assert check.role == "admin"


def test_an_admin_key_loses_admin_scopes_with_the_role(app: Flask, session: Session) -> None:
    admin = _account(app, "admin@example.com", admin=True, plan="premium")
    _, plaintext = _create(session, admin, scopes=["admin:symbols", "read:signals"])
    session.execute(update(User).where(User.id == admin.id).values(role="user"))
    session.commit()
    assert _verify(session, plaintext).scopes == {"read:signals"}


def test_bad_fields_are_named(session: Session, premium: Account) -> None:
    with pytest.raises(ValidationError, match="expires: the expiry must be in the future"):
        _create(session, premium, expires_at=NOW - timedelta(seconds=1))
    with pytest.raises(ValidationError, match="allow: 'nope' is not an IP address"):
        _create(session, premium, allow=["nope"])
    with pytest.raises(ValidationError, match="name: at most 100"):
        _create(session, premium, name="x" * 101)
    with pytest.raises(ValidationError, match="Unknown scope"):
        _create(session, premium, scopes=["read:all"])


def test_a_key_works_until_it_expires(session: Session, premium: Account) -> None:
    expires = NOW + timedelta(days=2)
    _, plaintext = _create(session, premium, expires_at=expires)
    assert isinstance(_verify(session, plaintext, at=expires - timedelta(seconds=1)), ResolvedKey)
    refused = _verify(session, plaintext, at=expires)
    assert isinstance(refused, KeyRefused)
    assert refused.status == 403
    assert "expired" in refused.message


def test_a_revoked_key_is_refused_at_once_and_only_its_owner_may_revoke_it(
    app: Flask, session: Session, premium: Account
) -> None:
    key_id, plaintext = _create(session, premium)
    other = _account(app, "other@example.com", plan="premium")
    with pytest.raises(NotFoundError):
        revoke_key(session, key_id=key_id, user_id=other.id, now=NOW)
    revoke_key(session, key_id=key_id, user_id=premium.id, now=NOW)
    session.commit()
    assert _verify(session, plaintext) == KeyRefused(KEY_REVOKED)


def test_rotation_keeps_the_old_key_working_through_its_grace_period(
    session: Session, premium: Account
) -> None:
    key_id, old = _create(
        session, premium, scopes=["read:market", "write:scan"], allow=["10.0.0.0/8"]
    )
    info, new = rotate_key(
        session, key_id=key_id, user_id=premium.id, grace=timedelta(hours=2), pepper=PEPPER, now=NOW
    )
    session.commit()
    assert info.scopes == ("read:market", "write:scan")
    assert info.allow == ("10.0.0.0/8",)
    before_end = NOW + timedelta(hours=2) - timedelta(seconds=1)
    assert _verify(session, old, ip="10.0.0.1", at=before_end).key_id == key_id
    assert _verify(session, new, ip="10.0.0.1", at=before_end).key_id == info.id
    assert _verify(session, old, ip="10.0.0.1", at=NOW + timedelta(hours=2)) == KeyRefused(
        KEY_REPLACED
    )
    assert _verify(session, new, ip="10.0.0.1", at=NOW + timedelta(hours=2)).key_id == info.id
    with pytest.raises(ConflictError, match="rotated"):
        rotate_key(
            session, key_id=key_id, user_id=premium.id, grace=timedelta(0), pepper=PEPPER, now=NOW
        )


def test_rotation_refuses_a_grace_period_beyond_thirty_days(
    session: Session, premium: Account
) -> None:
    key_id, _ = _create(session, premium)
    with pytest.raises(ValidationError, match="grace"):
        rotate_key(
            session, key_id=key_id, user_id=None, grace=timedelta(days=31), pepper=PEPPER, now=NOW
        )


def test_ip_rules_with_cidr_and_ipv6_deny_winning(session: Session, premium: Account) -> None:
    _, plaintext = _create(
        session,
        premium,
        allow=["192.0.2.0/24", "2001:db8::/32"],
        deny=["192.0.2.66", "2001:db8:bad::/48"],
    )
    assert isinstance(_verify(session, plaintext, ip="192.0.2.10"), ResolvedKey)
    assert isinstance(_verify(session, plaintext, ip="2001:db8:1::5"), ResolvedKey)
    for ip in ("192.0.2.66", "198.51.100.1", "2001:db8:bad::1", "2001:db9::1"):
        refused = _verify(session, plaintext, ip=ip)
        assert isinstance(refused, KeyRefused)
        assert refused.status == 403
        assert ip in refused.message


def test_a_key_stops_when_the_plan_lapses_and_works_again_on_renewal(
    app: Flask, session: Session
) -> None:
    ends = NOW + timedelta(days=1)
    owner = _account(app, "lapsing@example.com", plan="premium", expires_at=ends)
    _, plaintext = _create(session, owner)
    after_grace = ends + timedelta(days=3)
    assert isinstance(
        _verify(session, plaintext, at=after_grace - timedelta(minutes=1)), ResolvedKey
    )
    assert _verify(session, plaintext, at=after_grace) == KeyRefused(PLAN_LAPSED)
    grant_subscription(
        session,
        user_id=owner.id,
        plan="premium",
        started_at=after_grace,
        expires_at=after_grace + timedelta(days=30),
    )
    session.commit()
    assert isinstance(_verify(session, plaintext, at=after_grace + timedelta(hours=1)), ResolvedKey)


def test_a_deactivated_account_s_keys_are_refused(session: Session, premium: Account) -> None:
    _, plaintext = _create(session, premium)
    session.execute(update(User).where(User.id == premium.id).values(active=False))
    session.commit()
    refused = _verify(session, plaintext)
    assert isinstance(refused, KeyRefused)
    assert "deactivated" in refused.message


def test_list_keys_shows_the_owners_keys_newest_first_without_secrets(
    app: Flask, session: Session, premium: Account
) -> None:
    first, _ = _create(session, premium, name="first")
    second, plaintext = _create(session, premium, name="second")
    other = _account(app, "other@example.com", plan="premium")
    _create(session, other)
    keys = list_keys(session, user_id=premium.id, now=NOW)
    assert [k.id for k in keys] == [second, first]
    assert keys[0].prefix == plaintext[:15]
    assert keys[0].state(NOW) == "active"
    assert len(list_keys(session, user_id=None, now=NOW)) == 3
    assert session.scalars(select(ApiKey.name).where(ApiKey.id == first)).one() == "first"
