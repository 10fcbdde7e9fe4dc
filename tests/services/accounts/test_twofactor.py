from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from flask import Flask

from cryptolens.domain.errors import AuthenticationError
from cryptolens.extensions import db
from cryptolens.services.accounts import twofactor
from tests.builders.settings import TEST_SECRET
from tests.web.accounts_helpers import make_user

NOW = datetime(2026, 11, 21, 12, 0, 10, tzinfo=UTC)


def test_codes_from_one_step_either_side_pass_once_and_older_steps_never(app: Flask) -> None:
    user = make_user(app, "steps@example.com")
    box = twofactor.SecretBox(TEST_SECRET)
    with app.app_context():
        session = db.session()
        setup = twofactor.begin_setup(session, user_id=user.id, box=box)
        totp = pyotp.TOTP(setup.secret)
        codes = twofactor.confirm_setup(
            session, user_id=user.id, code=totp.at(NOW), box=box, now=NOW
        )
        assert len(set(codes)) == 10

        def check(code: str, at: datetime) -> None:
            twofactor.verify_second_factor(session, user_id=user.id, code=code, box=box, now=at)

        with pytest.raises(AuthenticationError):
            check(totp.at(NOW), NOW)  # same step again
        with pytest.raises(AuthenticationError):
            check(totp.at(NOW - timedelta(seconds=30)), NOW)  # earlier step
        check(totp.at(NOW + timedelta(seconds=30)), NOW)  # next step, clock drift allowed
        with pytest.raises(AuthenticationError):
            check(totp.at(NOW + timedelta(seconds=90)), NOW)  # too far ahead
        assert twofactor.verify_second_factor(
            session, user_id=user.id, code=codes[3].upper(), box=box, now=NOW
        )
        assert twofactor.remaining_backup_codes(session, user_id=user.id) == 9


def test_a_secret_sealed_under_another_key_cannot_be_read() -> None:
    sealed = twofactor.SecretBox(TEST_SECRET).seal("JBSWY3DPEHPK3PXP")
    assert "JBSWY3DPEHPK3PXP" not in sealed
    assert twofactor.SecretBox(TEST_SECRET).open(sealed) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(AuthenticationError):
        twofactor.SecretBox("another-secret-key-of-enough-length-000").open(sealed)
