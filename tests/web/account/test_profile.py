from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from cryptolens.db.accounts import Subscription, User, UserToken
from cryptolens.extensions import db
from tests.web.accounts_helpers import (
    Mailbox,
    link_in,
    make_user,
    post_form,
    sign_in,
    user_row,
)


def _save(client: FlaskClient, **fields: str) -> int:
    data = {"timezone": "UTC", "watchlist": "", **fields}
    return post_form(client, "/account/", data, form_path="/account/").status_code


def test_preferences_are_saved_within_the_plan(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, "prefs@example.com")
    sign_in(client, user)
    assert _save(client, timezone="Europe/Paris", watchlist="btc/usdt") == 302
    row = user_row(app, user.id)
    assert (row.timezone, row.watchlist) == ("Europe/Paris", ["BTC/USDT"])
    page = client.get("/account/")
    assert "Europe/Paris" in page.text


def test_the_profile_links_to_the_alerts_page_instead_of_a_topic_field(
    app: Flask, client: FlaskClient
) -> None:
    sign_in(client, make_user(app, "topic@example.com"))
    page = client.get("/account/").text
    assert 'name="notification_topic"' not in page
    assert 'href="/account/notifications"' in page


def test_a_free_watchlist_beyond_btc_needs_pro_and_pro_is_capped_at_five(
    app: Flask, client: FlaskClient
) -> None:
    free = make_user(app, "free@example.com")
    sign_in(client, free)
    refused = post_form(
        client, "/account/", {"timezone": "UTC", "watchlist": "ETH/USDT"}, form_path="/account/"
    )
    assert refused.status_code == 403
    assert "needs the Pro plan" in refused.text

    pro = make_user(app, "pro@example.com", plan="pro")
    browser = app.test_client()
    sign_in(browser, pro)
    five = "BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT,ADA/USDT"
    assert _save(browser, watchlist=five) == 302
    assert _save(browser, watchlist=five + ",DOT/USDT") == 403


def test_bad_preferences_are_a_400_with_a_reason(app: Flask, client: FlaskClient) -> None:
    sign_in(client, make_user(app, "tz@example.com"))
    answer = post_form(client, "/account/", {"timezone": "Mars/Olympus"}, form_path="/account/")
    assert answer.status_code == 400
    assert "Unknown time zone" in answer.text


def test_changing_email_is_confirmed_from_the_new_inbox(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    user = make_user(app, "old@example.com")
    sign_in(client, user)
    answer = post_form(
        client,
        "/account/email",
        {"new_email": "new@example.com", "password": user.password},
        form_path="/account/",
    )
    assert answer.status_code == 200
    assert user_row(app, user.id).email == "old@example.com"
    assert client.get(link_in(mailbox.wait_for("new@example.com"))).status_code == 200
    assert user_row(app, user.id).email == "new@example.com"


def test_deleting_the_account_removes_its_data(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, "bye@example.com", plan="pro")
    sign_in(client, user)
    wrong = post_form(client, "/account/delete", {"password": "nope nope"}, form_path="/account/")
    assert wrong.status_code == 400
    done = post_form(client, "/account/delete", {"password": user.password}, form_path="/account/")
    assert done.status_code == 200
    assert client.get("/account/").status_code == 302
    with app.app_context():
        for model in (User, Subscription, UserToken):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0


def test_a_password_change_is_emailed_to_the_user(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    user = make_user(app, "changed@example.com")
    sign_in(client, user)
    answer = post_form(
        client,
        "/account/password",
        {"current_password": user.password, "new_password": "another long passphrase 7"},
        form_path="/account/",
    )
    assert answer.status_code == 200
    assert mailbox.wait_for(user.email)["Subject"] == "Your CryptoLens password was changed"


def test_an_email_change_is_told_to_the_old_address(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    user = make_user(app, "was@example.com")
    sign_in(client, user)
    post_form(
        client,
        "/account/email",
        {"new_email": "now@example.com", "password": user.password},
        form_path="/account/",
    )
    client.get(link_in(mailbox.wait_for("now@example.com")))
    notice = mailbox.wait_for("was@example.com")
    assert notice["Subject"] == "Your CryptoLens email address was changed"
    body = notice.get_body(preferencelist=("plain",))
    assert body is not None
    assert "now@example.com" in body.get_content()


def test_an_administrators_account_page_says_administrator_not_free(app: Flask) -> None:
    admin = make_user(app, "boss@example.com", admin=True)
    client = app.test_client()
    sign_in(client, admin)
    page = client.get("/account/").get_data(as_text=True)
    plan = page.split('id="plan-name">', 1)[1].split("</section>", 1)[0]
    assert plan.startswith("Administrator")
    assert "Free" not in plan
