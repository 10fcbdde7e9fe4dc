"""An administrator cannot deactivate themselves or the last active administrator."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cryptolens.domain.errors import ConflictError
from cryptolens.extensions import db
from cryptolens.services.accounts.accounts import set_active
from tests.web.accounts_helpers import make_user, post_form, sign_in, user_row


def _deactivate(client: FlaskClient, user_id: int) -> tuple[int, str]:
    answer = post_form(
        client, f"/admin/users/{user_id}/active", {"active": ""}, form_path="/admin/users"
    )
    return answer.status_code, answer.text


def test_an_administrator_cannot_deactivate_their_own_account(
    app: Flask, client: FlaskClient
) -> None:
    boss = make_user(app, "boss@example.com", admin=True)
    make_user(app, "deputy@example.com", admin=True)
    sign_in(client, boss)
    status, page = _deactivate(client, boss.id)
    assert status == 409
    assert "You cannot deactivate your own account." in page
    assert user_row(app, boss.id).active


def test_the_last_active_administrator_stays_active(app: Flask) -> None:
    boss = make_user(app, "boss@example.com", admin=True)
    deputy = make_user(app, "deputy@example.com", admin=True)
    with app.app_context():
        set_active(db.session(), user_id=deputy.id, active=False, actor_id=boss.id)
        db.session.commit()
        with pytest.raises(ConflictError, match="last active administrator"):
            set_active(db.session(), user_id=boss.id, active=False)
        db.session.rollback()
    assert user_row(app, boss.id).active


def test_an_administrator_can_deactivate_another_while_one_stays(
    app: Flask, client: FlaskClient
) -> None:
    boss = make_user(app, "boss@example.com", admin=True)
    deputy = make_user(app, "deputy@example.com", admin=True)
    member = make_user(app, "member@example.com")
    sign_in(client, boss)
    assert _deactivate(client, deputy.id)[0] == 302
    assert _deactivate(client, member.id)[0] == 302
    assert not user_row(app, deputy.id).active
    assert not user_row(app, member.id).active
