from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from cryptolens.domain.errors import AuthenticationError
from cryptolens.extensions import db
from cryptolens.services.accounts.tokens import LIFETIMES, TokenPurpose, consume_token, issue_token
from tests.web.accounts_helpers import make_user

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_a_reset_token_lives_one_hour_and_works_once(app: Flask) -> None:
    user = make_user(app, "tok@example.com")
    assert LIFETIMES[TokenPurpose.RESET] == timedelta(hours=1)
    with app.app_context():
        session = db.session()
        token = issue_token(session, user_id=user.id, purpose=TokenPurpose.RESET, now=NOW)
        late = NOW + timedelta(hours=1)
        with pytest.raises(AuthenticationError):
            consume_token(session, token=token, purpose=TokenPurpose.RESET, now=late)
        just_in_time = late - timedelta(seconds=1)
        row = consume_token(session, token=token, purpose=TokenPurpose.RESET, now=just_in_time)
        assert row.user_id == user.id
        with pytest.raises(AuthenticationError):
            consume_token(session, token=token, purpose=TokenPurpose.RESET, now=just_in_time)


def test_a_token_is_only_good_for_its_purpose_and_a_newer_one_replaces_it(app: Flask) -> None:
    user = make_user(app, "purpose@example.com")
    with app.app_context():
        session = db.session()
        first = issue_token(session, user_id=user.id, purpose=TokenPurpose.RESET, now=NOW)
        with pytest.raises(AuthenticationError):
            consume_token(session, token=first, purpose=TokenPurpose.VERIFY, now=NOW)
        second = issue_token(session, user_id=user.id, purpose=TokenPurpose.RESET, now=NOW)
        with pytest.raises(AuthenticationError):
            consume_token(session, token=first, purpose=TokenPurpose.RESET, now=NOW)
        consume_token(session, token=second, purpose=TokenPurpose.RESET, now=NOW)
