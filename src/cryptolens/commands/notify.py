"""Signal alert commands: ``cryptolens notify channel``, ``notify test``, ``notify deliveries``."""

from __future__ import annotations

import click
from flask import current_app

from cryptolens.clock import utcnow
from cryptolens.domain.errors import CryptoLensError
from cryptolens.extensions import db
from cryptolens.notify.channel import Delivered
from cryptolens.notify.targets import ChannelKind
from cryptolens.runtime import app_settings
from cryptolens.services.accounts.accounts import find_account
from cryptolens.services.notifications.channels import (
    ChannelView,
    disable_channel,
    send_test,
    set_channel,
)
from cryptolens.services.notifications.history import deliveries

KINDS = [kind.value for kind in ChannelKind]


class _NotifyError(click.ClickException):
    """A bad argument (unknown user, bad URL, no such channel): one line, exit status 2."""

    exit_code = 2


@click.group("notify")
def notify_group() -> None:
    """Signal alerts: set a user's channel, send a test, list deliveries."""


def _user_id(email: str) -> int:
    account = find_account(db.session(), email=email, now=utcnow())
    if account is None:
        raise _NotifyError(f"no user with the email {email.strip().lower()}")
    return account.id


def _chosen(
    ntfy: str | None, webhook: str | None, apprise: str | None, email_channel: bool, off: str | None
) -> tuple[ChannelKind, str]:
    given = [
        (ChannelKind.NTFY, ntfy),
        (ChannelKind.WEBHOOK, webhook),
        (ChannelKind.APPRISE, apprise),
        (ChannelKind.EMAIL, "" if email_channel else None),
    ]
    chosen = [(kind, value) for kind, value in given if value is not None]
    if off is not None:
        chosen.append((ChannelKind(off), "off"))
    if len(chosen) != 1:
        raise click.UsageError(
            "give exactly one of --ntfy, --webhook, --apprise, --email-channel or --off"
        )
    return chosen[0]


def _describe(view: ChannelView) -> str:
    state = "on" if view.enabled else "off"
    mode = f", {view.email_mode.replace('_', ' ')}" if view.kind is ChannelKind.EMAIL else ""
    return f"{view.kind.value} channel {state}: {view.display}{mode}"


@notify_group.command("channel")
@click.option("--email", "user_email", required=True, help="The user's email address.")
@click.option("--ntfy", help="An ntfy topic, or https://server/topic.")
@click.option("--token", help="The ntfy access token (tk_…), if the server needs one.")
@click.option("--webhook", help="A webhook URL (signed JSON POSTs).")
@click.option("--secret", help="The webhook's signing secret (default: a random one).")
@click.option("--apprise", help="An Apprise URL (tgram://…, discord://…, …).")
@click.option("--email-channel", is_flag=True, help="Alerts by email to the user's address.")
@click.option("--digest", is_flag=True, help="With --email-channel: one digest email per run.")
@click.option("--off", type=click.Choice(KINDS), help="Turn this kind of channel off.")
def channel_command(
    user_email: str,
    ntfy: str | None,
    token: str | None,
    webhook: str | None,
    secret: str | None,
    apprise: str | None,
    email_channel: bool,
    digest: bool,
    off: str | None,
) -> None:
    """Set (or turn off) one of a user's alert channels."""
    kind, address = _chosen(ntfy, webhook, apprise, email_channel, off)
    session = db.session()
    try:
        user_id = _user_id(user_email)
        if off is not None:
            view = disable_channel(session, user_id=user_id, kind=kind)
        else:
            view = set_channel(
                session,
                app_settings(current_app),
                user_id=user_id,
                kind=kind,
                address=address,
                token=secret if kind is ChannelKind.WEBHOOK else token,
                email_mode=("digest" if digest else "per_signal") if email_channel else None,
            )
    except CryptoLensError as exc:
        session.rollback()
        raise _NotifyError(str(exc)) from None
    session.commit()
    click.echo(_describe(view))
    if view.secret:
        click.echo(f"webhook secret (shown once): {view.secret}")


@notify_group.command("test")
@click.option("--email", "user_email", required=True, help="The user's email address.")
@click.option(
    "--channel",
    "kind",
    type=click.Choice(KINDS),
    default=ChannelKind.NTFY.value,
    show_default=True,
    help="The channel to test.",
)
def test_command(user_email: str, kind: str) -> None:
    """Send a test alert through a user's channel now; exits 1 with the reason if it fails."""
    try:
        user_id = _user_id(user_email)
        db.session.rollback()  # the test runs in sessions of its own
        outcome = send_test(
            db.engine, app_settings(current_app), user_id=user_id, kind=ChannelKind(kind)
        )
    except CryptoLensError as exc:
        raise _NotifyError(str(exc)) from None
    if not isinstance(outcome.result, Delivered):
        click.echo(f"{kind}: not sent: {outcome.result.reason}", err=True)
        raise SystemExit(1)
    status = f" (HTTP {outcome.status})" if outcome.status else ""
    click.echo(f"{kind}: sent{status} in {outcome.seconds:.2f} s")


@notify_group.command("deliveries")
@click.option("--signal", "signal_id", type=int, help="Only deliveries of this signal.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
def deliveries_command(signal_id: int | None, limit: int) -> None:
    """Delivery rows, newest first: user, channel, status, attempts, last error."""
    rows = deliveries(db.session(), signal_id=signal_id, limit=limit)
    if not rows:
        click.echo("no deliveries")
        return
    width = max(len(row.user_email) for row in rows)
    click.echo(f"{'id':>8}  {'user':{width}}  {'kind':8} {'status':8} {'tries':>5}  last error")
    for row in rows:
        click.echo(
            f"{row.id:>8}  {row.user_email:{width}}  {row.kind:8} {row.status:8} "
            f"{row.attempts:>5}  {row.last_error or ''}"
        )
