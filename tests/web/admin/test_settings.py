from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.web.accounts_helpers import make_user, post_form, sign_in


def test_only_admins_change_global_settings(app: Flask, client: FlaskClient) -> None:
    sign_in(client, make_user(app, "boss@example.com", admin=True))
    saved = post_form(
        client,
        "/admin/settings",
        {"key": "scan.interval", "value": "60"},
        form_path="/admin/settings",
    )
    assert saved.status_code == 302
    assert "scan.interval" in client.get("/admin/settings").text

    user = app.test_client()
    sign_in(user, make_user(app, "premium@example.com", plan="premium"))
    answer = user.post("/admin/settings", data={"key": "scan.interval", "value": "1"})
    assert answer.status_code in (400, 403)
    page = user.get("/admin/settings")
    assert page.status_code == 403
    assert "administrators" in page.text


def test_a_bad_setting_key_is_a_400_with_a_reason(app: Flask, client: FlaskClient) -> None:
    sign_in(client, make_user(app, "boss2@example.com", admin=True))
    answer = post_form(
        client, "/admin/settings", {"key": "Bad Key!", "value": "x"}, form_path="/admin/settings"
    )
    assert answer.status_code == 400
    assert "setting key" in answer.text


def test_an_admin_can_deactivate_a_user_who_is_then_signed_out(
    app: Flask, client: FlaskClient
) -> None:
    admin = make_user(app, "boss3@example.com", admin=True)
    target = make_user(app, "target@example.com")
    victim = app.test_client()
    sign_in(victim, target)
    sign_in(client, admin)
    answer = post_form(client, f"/admin/users/{target.id}/active", form_path="/admin/users")
    assert answer.status_code == 302
    assert victim.get("/account/").status_code == 302


def test_an_admin_grants_a_plan(app: Flask, client: FlaskClient) -> None:
    admin = make_user(app, "boss4@example.com", admin=True)
    target = make_user(app, "grantee@example.com")
    sign_in(client, admin)
    post_form(
        client,
        f"/admin/users/{target.id}/subscription",
        {"plan": "pro", "days": "30"},
        form_path="/admin/users",
    )
    assert "<td>pro</td>" in client.get("/admin/users").text
    missing = post_form(
        client, "/admin/users/999999/subscription", {"plan": "pro"}, form_path="/admin/users"
    )
    assert missing.status_code == 404
