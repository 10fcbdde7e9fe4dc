"""The typed runtime settings page, and each setting read by the code that uses it."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from cryptolens.db.accounts import User
from cryptolens.extensions import db
from cryptolens.services.ops.runtime_settings import load_runtime
from tests.web.accounts_helpers import PASSWORD, csrf_token, make_user, post_form, sign_in

FORM = {
    "registration_open": "on",
    "maintenance_banner": "",
    "scan_interval_seconds": "",
    "signal_min_confluence": "",
    "signal_cooldown_minutes": "",
}


def _save(client: FlaskClient, **values: str) -> tuple[int, str]:
    answer = post_form(client, "/admin/settings", {**FORM, **values}, form_path="/admin/settings")
    return answer.status_code, answer.text


def test_an_admin_saves_typed_settings_that_are_stored(app: Flask, client: FlaskClient) -> None:
    sign_in(client, make_user(app, "boss@example.com", admin=True))
    status, _ = _save(client, scan_interval_seconds="120", signal_min_confluence="3")
    assert status == 302
    with app.app_context():
        runtime = load_runtime(db.session())
    assert runtime.scan_interval_seconds == 120
    assert runtime.signal_min_confluence == 3
    assert runtime.signal_cooldown_minutes is None
    page = client.get("/admin/settings").text
    assert 'value="120"' in page
    assert "Saved: scan interval seconds, signal min confluence." in page


def test_a_bad_value_is_a_400_naming_the_field_and_nothing_is_stored(
    app: Flask, client: FlaskClient
) -> None:
    sign_in(client, make_user(app, "boss@example.com", admin=True))
    for field, bad in (
        ("scan_interval_seconds", "5"),
        ("scan_interval_seconds", "soon"),
        ("signal_min_confluence", "9"),
        ("signal_cooldown_minutes", "-1"),
        ("maintenance_banner", "x" * 301),
    ):
        status, page = _save(client, **{field: bad})
        assert status == 400, field
        assert field.replace("_", " ") in page
    with app.app_context():
        assert load_runtime(db.session()) == load_runtime(db.session()).model_construct()


def test_only_administrators_change_settings(app: Flask) -> None:
    user = app.test_client()
    sign_in(user, make_user(app, "premium@example.com", plan="premium"))
    assert user.get("/admin/settings").status_code == 403
    token = csrf_token(user, "/")
    refused = user.post("/admin/settings", data={**FORM, "csrf_token": token, "banner": "x"})
    assert refused.status_code == 403


def test_the_maintenance_banner_shows_on_every_page(app: Flask, client: FlaskClient) -> None:
    sign_in(client, make_user(app, "boss@example.com", admin=True))
    assert 'id="maintenance-banner"' not in client.get("/auth/login").text
    _save(client, maintenance_banner="Upgrade tonight at 22:00 UTC")
    visitor = app.test_client()
    for path in ("/auth/login", "/auth/register"):
        page = visitor.get(path).text
        assert 'id="maintenance-banner"' in page
        assert "Upgrade tonight at 22:00 UTC" in page
    assert "Upgrade tonight" in client.get("/").text


def test_closed_registration_refuses_new_accounts(app: Flask, client: FlaskClient) -> None:
    sign_in(client, make_user(app, "boss@example.com", admin=True))
    visitor = app.test_client()
    assert visitor.get("/auth/register").status_code == 200
    form = {k: v for k, v in FORM.items() if k != "registration_open"}  # unchecked box
    answer = post_form(client, "/admin/settings", form, form_path="/admin/settings")
    assert answer.status_code == 302
    page = visitor.get("/auth/register")
    assert page.status_code == 403
    assert "Registration is closed" in page.text
    token = csrf_token(visitor, "/auth/login")
    refused = visitor.post(
        "/auth/register",
        data={"csrf_token": token, "email": "new@example.com", "password": PASSWORD},
    )
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.query(User).filter_by(email="new@example.com").count() == 0
    _save(client)  # open again
    assert visitor.get("/auth/register").status_code == 200
