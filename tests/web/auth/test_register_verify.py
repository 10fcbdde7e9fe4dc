from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.web.accounts_helpers import (
    PASSWORD,
    Mailbox,
    Person,
    link_in,
    make_user,
    post_form,
    sign_in,
)


def test_registration_email_link_verifies_and_unlocks_the_dashboard(
    client: FlaskClient, mailbox: Mailbox
) -> None:
    answer = post_form(
        client, "/auth/register", {"email": "New@Example.com ", "password": PASSWORD}
    )
    assert answer.status_code == 200
    assert "Check your inbox" in answer.text
    message = mailbox.wait_for("new@example.com")
    assert message["Subject"] == "Confirm your email address"
    assert message.get_body(preferencelist=("html",)) is not None

    sign_in(client, Person(id=0, email="new@example.com"))
    assert client.get("/").headers["Location"] == "/auth/verify-pending"
    assert client.get("/auth/verify-pending").status_code == 200

    assert client.get(link_in(message)).status_code == 200
    assert client.get("/").status_code == 200


def test_a_verification_link_works_once(client: FlaskClient, mailbox: Mailbox) -> None:
    post_form(client, "/auth/register", {"email": "once@example.com", "password": PASSWORD})
    link = link_in(mailbox.wait_for("once@example.com"))
    assert client.get(link).status_code == 200
    again = client.get(link)
    assert again.status_code == 400
    assert "invalid, already used or expired" in again.text


def test_registering_a_taken_email_answers_exactly_like_a_new_one(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    make_user(app, "taken@example.com")
    taken = post_form(
        client, "/auth/register", {"email": "taken@example.com", "password": PASSWORD}
    )
    fresh = post_form(
        client, "/auth/register", {"email": "fresh@example.com", "password": PASSWORD}
    )
    assert taken.status_code == fresh.status_code == 200
    assert taken.text == fresh.text
    notice = mailbox.wait_for("taken@example.com")
    assert notice["Subject"] == "Someone tried to register with your address"


def test_weak_passwords_are_refused_with_a_reason(client: FlaskClient) -> None:
    cases = {
        "short": "at least 10 characters",
        "password123": "most common",
        "weak@example.com": "may not be your email",
    }
    for password, reason in cases.items():
        answer = post_form(
            client, "/auth/register", {"email": "weak@example.com", "password": password}
        )
        assert answer.status_code == 400
        assert reason in answer.text


def test_a_malformed_email_is_a_400_with_a_message(client: FlaskClient) -> None:
    answer = post_form(client, "/auth/register", {"email": "not-an-email", "password": PASSWORD})
    assert answer.status_code == 400
    assert "valid email address" in answer.text
