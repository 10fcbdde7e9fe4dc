"""``cryptolens api-keys``: create (the key printed once, alone on the last line), list,
revoke and rotate users' API keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from flask import current_app

from cryptolens.clock import utcnow
from cryptolens.domain.api_scopes import RateLimits
from cryptolens.domain.errors import CryptoLensError, ValidationError
from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.accounts.accounts import find_account
from cryptolens.services.accounts.api_keys import (
    KeyInfo,
    KeyOptions,
    create_key,
    key_owner_email,
    key_pepper,
    list_keys,
    revoke_key,
    rotate_key,
)


class _KeyError(click.ClickException):
    """A bad argument or a refused request: one line, exit status 2."""

    exit_code = 2


def _pepper() -> bytes:
    return key_pepper(app_settings(current_app).secret_key)


def _expiry(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(
            f"--expires: {value!r} is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC)."
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _fail(exc: CryptoLensError) -> _KeyError:
    db.session.rollback()
    return _KeyError(str(exc))


@click.group("api-keys")
def api_keys_group() -> None:
    """API keys: create, list, revoke, rotate."""


@api_keys_group.command("create")
@click.option("--email", required=True, help="The owner's email address (Premium or admin).")
@click.option("--scopes", required=True, help="Comma-separated, e.g. read:signals,write:scan.")
@click.option("--name", default="API key", show_default=True, help="A label for the key.")
@click.option("--expires", default=None, help="Expiry date, UTC (e.g. 2027-01-01).")
@click.option("--allow", multiple=True, help="Allowed address or CIDR range (repeatable).")
@click.option("--deny", multiple=True, help="Denied address or CIDR range (repeatable).")
@click.option("--per-minute", type=click.IntRange(min=1), default=None, help="Own limit.")
@click.option("--per-hour", type=click.IntRange(min=1), default=None, help="Own limit.")
@click.option("--per-day", type=click.IntRange(min=1), default=None, help="Own limit.")
def create_command(
    email: str,
    scopes: str,
    name: str,
    expires: str | None,
    allow: tuple[str, ...],
    deny: tuple[str, ...],
    per_minute: int | None,
    per_hour: int | None,
    per_day: int | None,
) -> None:
    """Create an API key for EMAIL's account; the key is printed once, on the last line."""
    now = utcnow()
    try:
        owner = find_account(db.session(), email=email, now=now)
        if owner is None:
            raise ValidationError(f"No user with the email {email.strip().lower()}.")
        options = KeyOptions(
            name=name,
            scopes=scopes.split(","),
            expires_at=_expiry(expires),
            allow=allow,
            deny=deny,
            limits=RateLimits(per_minute, per_hour, per_day),
        )
        info, plaintext = create_key(
            db.session(), owner=owner, options=options, pepper=_pepper(), now=now
        )
    except CryptoLensError as exc:
        raise _fail(exc) from None
    db.session.commit()
    click.echo(f"API key {info.id} ({info.prefix}…) for {owner.email}: {', '.join(info.scopes)}")
    click.echo("Shown once; store it now:")
    click.echo(plaintext)


def _line(info: KeyInfo, owner: str, now: datetime) -> str:
    expires = f"{info.expires_at:%Y-%m-%d}" if info.expires_at else "never"
    used = (
        f"{info.last_used_at:%Y-%m-%d %H:%M} from {info.last_used_ip or '?'}"
        if info.last_used_at
        else "never"
    )
    return (
        f"{info.id}\t{info.prefix}\t{owner}\t{info.name}\t{info.state(now)}\t"
        f"{','.join(info.scopes)}\texpires {expires}\tlast used {used}"
    )


@api_keys_group.command("list")
@click.option("--email", default=None, help="Only this user's keys.")
def list_command(email: str | None) -> None:
    """List API keys (id, prefix, owner, name, state, scopes, expiry, last use)."""
    now = utcnow()
    user_id = None
    if email is not None:
        owner = find_account(db.session(), email=email, now=now)
        if owner is None:
            raise _KeyError(f"No user with the email {email.strip().lower()}.")
        user_id = owner.id
    keys = list_keys(db.session(), user_id=user_id, now=now)
    emails = key_owner_email(db.session(), user_ids=(k.user_id for k in keys))
    if not keys:
        click.echo("no API keys")
    for info in keys:
        click.echo(_line(info, emails.get(info.user_id, "?"), now))


@api_keys_group.command("revoke")
@click.argument("key_id", type=click.IntRange(min=1, max=2**31 - 1))
def revoke_command(key_id: int) -> None:
    """Revoke the API key KEY_ID at once."""
    try:
        info = revoke_key(db.session(), key_id=key_id, user_id=None, now=utcnow())
    except CryptoLensError as exc:
        raise _fail(exc) from None
    db.session.commit()
    click.echo(f"API key {info.id} ({info.prefix}…) revoked")


@api_keys_group.command("rotate")
@click.argument("key_id", type=click.IntRange(min=1, max=2**31 - 1))
@click.option(
    "--grace-hours",
    type=click.IntRange(min=0, max=720),
    default=24,
    show_default=True,
    help="How long the old key keeps working.",
)
def rotate_command(key_id: int, grace_hours: int) -> None:
    """Replace the API key KEY_ID by a new one with its settings; the new key is printed once,
    on the last line, and the old one keeps working for the grace period."""
    now = utcnow()
    try:
        info, plaintext = rotate_key(
            db.session(),
            key_id=key_id,
            user_id=None,
            grace=timedelta(hours=grace_hours),
            pepper=_pepper(),
            now=now,
        )
    except CryptoLensError as exc:
        raise _fail(exc) from None
    db.session.commit()
    until = f"{now + timedelta(hours=grace_hours):%Y-%m-%d %H:%M} UTC"
    click.echo(f"API key {key_id} replaced by {info.id}; the old key works until {until}")
    click.echo("Shown once; store it now:")
    click.echo(plaintext)
