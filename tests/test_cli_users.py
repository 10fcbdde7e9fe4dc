from __future__ import annotations

from click.testing import Result
from flask import Flask

from cryptolens.cli import cli
from tests.web.accounts_helpers import Person, sign_in, user_row


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
