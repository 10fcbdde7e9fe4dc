from __future__ import annotations

from click.testing import Result
from flask import Flask

from cryptolens.cli import cli
from tests.web.accounts_helpers import Person, make_user, sign_in, user_row


def _create_admin(app: Flask, email: str, password: str) -> Result:
    # The cryptolens CLI uses an app context already pushed instead of building an app.
    with app.app_context():
        return app.test_cli_runner().invoke(
            cli,
            args=["users", "create-admin", "--email", email, "--password-stdin"],
            input=password + "\n",
        )


def test_create_admin_reads_the_password_from_stdin_and_the_admin_can_sign_in(app: Flask) -> None:
    result = _create_admin(app, "Root@Example.com", "an admin passphrase 99")
    assert result.exit_code == 0, result.output
    assert "administrator root@example.com ready" in result.output
    user_id = int(result.output.rsplit("user id ", 1)[1].rstrip(")\n"))
    assert user_row(app, user_id).role == "admin"
    client = app.test_client()
    sign_in(client, Person(id=user_id, email="root@example.com", password="an admin passphrase 99"))
    assert client.get("/admin/settings").status_code == 200


def test_create_admin_refuses_a_weak_password_with_a_message(app: Flask) -> None:
    result = _create_admin(app, "root@example.com", "short")
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output


def _verify(app: Flask, email: str) -> Result:
    with app.app_context():
        return app.test_cli_runner().invoke(cli, args=["users", "verify", email])


def test_users_verify_marks_an_unverified_address_verified_so_the_user_reaches_the_pages(
    app: Flask,
) -> None:
    person = make_user(app, "late@example.com", verified=False)
    assert user_row(app, person.id).email_verified_at is None

    result = _verify(app, " Late@Example.com ")

    assert result.exit_code == 0, result.output
    assert result.output == f"late@example.com verified (user id {person.id})\n"
    assert user_row(app, person.id).email_verified_at is not None
    client = app.test_client()
    sign_in(client, person)
    assert client.get("/account/").status_code == 200


def test_users_verify_says_when_the_address_was_already_verified(app: Flask) -> None:
    person = make_user(app, "done@example.com")
    result = _verify(app, "done@example.com")
    assert result.exit_code == 0, result.output
    assert result.output == f"done@example.com was already verified (user id {person.id})\n"


def test_users_verify_of_an_unknown_email_is_a_one_line_error_with_exit_status_2(
    app: Flask,
) -> None:
    result = _verify(app, "nobody@example.com")
    assert result.exit_code == 2
    assert result.output == "Error: no user with the email nobody@example.com\n"
    assert _verify(app, "not-an-email").output.startswith("Error: Enter a valid email address")
