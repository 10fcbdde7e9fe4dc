"""User administration commands: ``cryptolens users create-admin`` and ``users verify``."""

from __future__ import annotations

import sys

import click
from flask import current_app

from cryptolens.clock import utcnow
from cryptolens.domain.errors import CryptoLensError
from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.accounts.accounts import create_admin, mark_email_verified
from cryptolens.services.accounts.passwords import Passwords


@click.group("users")
def users_group() -> None:
    """User accounts."""


@users_group.command("create-admin")
@click.option("--email", required=True, help="The administrator's email address.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of prompting.",
)
def create_admin_command(email: str, password_stdin: bool) -> None:
    """Create a verified administrator (or promote an existing user)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = app_settings(current_app)
    passwords = Passwords(
        time_cost=settings.password_hash_time_cost, memory_kib=settings.password_hash_memory_kib
    )
    try:
        user_id = create_admin(
            db.session(), email=email, password=password, passwords=passwords, now=utcnow()
        )
    except CryptoLensError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"administrator {email.strip().lower()} ready (user id {user_id})")


class _UserError(click.ClickException):
    """A bad argument such as an unknown email: one line, exit status 2."""

    exit_code = 2


@users_group.command("verify")
@click.argument("email")
def verify_command(email: str) -> None:
    """Mark EMAIL's address verified without the emailed link (e.g. when no SMTP is set)."""
    try:
        user_id, already = mark_email_verified(db.session(), email=email, now=utcnow())
    except CryptoLensError as exc:
        db.session.rollback()
        raise _UserError(str(exc)) from None
    db.session.commit()
    state = "was already verified" if already else "verified"
    click.echo(f"{email.strip().lower()} {state} (user id {user_id})")
