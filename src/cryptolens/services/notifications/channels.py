"""A user's notification channels: set (validated, the target sealed), list (redacted), turn
off, resume, and "send a test" through one of them now.

Targets (server, topic, URL, token, secret) are stored only sealed under a key derived from
SECRET_KEY for this purpose; pages and logs see ``display``, the redacted form."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.db.accounts import User
from cryptolens.db.notifications import (
    Notification,
    NotificationAttempt,
    NotificationChannel,
    NotificationDelivery,
)
from cryptolens.domain.errors import NotFoundError, ValidationError
from cryptolens.notify.addresses import check_target_address
from cryptolens.notify.channel import Delivered, Message, Permanent
from cryptolens.notify.email import EmailChannel
from cryptolens.notify.links import PublicLinks
from cryptolens.notify.send import Outcome, deliver
from cryptolens.notify.targets import (
    ChannelKind,
    Target,
    apprise_target,
    ntfy_target,
    random_topic,
    random_webhook_secret,
    redact,
    target_from_json,
    target_to_json,
    webhook_target,
)
from cryptolens.services.accounts.twofactor import SecretBox
from cryptolens.services.notifications.emails import alert_email
from cryptolens.services.notifications.messages import message_to_json
from cryptolens.services.ops.outbox import smtp_from_settings

EMAIL_MODES = ("per_signal", "digest")
_PURPOSE = b"cryptolens notification targets"
#: The order channels are listed in.
KINDS = (ChannelKind.NTFY, ChannelKind.EMAIL, ChannelKind.WEBHOOK, ChannelKind.APPRISE)


def target_box(settings: Settings) -> SecretBox:
    """The box channel targets are sealed in (its own key, derived from SECRET_KEY)."""
    return SecretBox(settings.secret_key, purpose=_PURPOSE)


@dataclass(frozen=True, slots=True)
class ChannelView:
    """One kind of channel as a page shows it. ``configured`` is False for a kind the user
    has not set up; ``suggested_topic`` is the ntfy topic stored on the account before
    channels existed (offered, never applied silently); ``secret`` is a webhook secret just
    created or changed, returned by ``set_channel`` only, to be shown once."""

    kind: ChannelKind
    configured: bool
    enabled: bool
    display: str
    paused: bool
    pause_reason: str | None
    email_mode: str
    last_success_at: datetime | None
    suggested_topic: str | None = None
    secret: str | None = None


def _view(row: NotificationChannel) -> ChannelView:
    return ChannelView(
        kind=ChannelKind(row.kind),
        configured=True,
        enabled=row.enabled,
        display=row.display,
        paused=row.paused_at is not None,
        pause_reason=row.pause_reason,
        email_mode=row.email_mode,
        last_success_at=row.last_success_at,
    )


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("No such user.")
    return user


def _row(session: Session, user_id: int, kind: ChannelKind) -> NotificationChannel | None:
    return session.scalars(
        select(NotificationChannel).where(
            NotificationChannel.user_id == user_id, NotificationChannel.kind == kind.value
        )
    ).one_or_none()


def _require_row(session: Session, user_id: int, kind: ChannelKind) -> NotificationChannel:
    row = _row(session, user_id, kind)
    if row is None:
        raise NotFoundError(f"No {kind.value} channel is set up.")
    return row


def list_channels(session: Session, *, user_id: int) -> list[ChannelView]:
    """One view per channel kind (ntfy, email, webhook, Apprise), configured or not."""
    user = _user(session, user_id)
    rows = {
        row.kind: row
        for row in session.scalars(
            select(NotificationChannel).where(NotificationChannel.user_id == user_id)
        )
    }
    views = []
    for kind in KINDS:
        row = rows.get(kind.value)
        if row is not None:
            views.append(_view(row))
            continue
        suggested = user.notification_topic if kind is ChannelKind.NTFY else None
        views.append(
            ChannelView(kind, False, False, "", False, None, "per_signal", None, suggested or None)
        )
    return views


def open_target(box: SecretBox, sealed: str) -> Target | None:
    """The target sealed in ``sealed``, or None when it cannot be read (another key)."""
    opened = box.open_or_none(sealed)
    if opened is None:
        return None
    try:
        return target_from_json(opened)
    except ValidationError:
        return None


def _ntfy(address: str, token: str | None, old: Target | None, settings: Settings) -> Target:
    target = ntfy_target(
        address.strip() or random_topic(), default_server=settings.ntfy_default_url, token=token
    )
    if token is None and old is not None and old.token and old.url == target.url:
        # A form leaves the token field blank: keep the stored one on the same server.
        target = replace(target, token=old.token)
    return target


def _target(
    kind: ChannelKind,
    address: str,
    token: str | None,
    *,
    user: User,
    old: Target | None,
    settings: Settings,
) -> Target:
    if kind is ChannelKind.NTFY:
        return _ntfy(address, token, old, settings)
    if kind is ChannelKind.WEBHOOK:
        secret = token or (old.token if old is not None else None) or random_webhook_secret()
        return webhook_target(address, secret)
    if kind is ChannelKind.APPRISE:
        return apprise_target(address)
    return Target(kind=ChannelKind.EMAIL, url=user.email)


def _email_mode(mode: str | None, row: NotificationChannel | None) -> str:
    if mode is None:
        return row.email_mode if row is not None else "per_signal"
    if mode not in EMAIL_MODES:
        raise ValidationError("email mode must be per_signal or digest")
    return mode


def set_channel(
    session: Session,
    settings: Settings,
    *,
    user_id: int,
    kind: ChannelKind,
    address: str = "",
    token: str | None = None,
    enabled: bool = True,
    email_mode: str | None = None,
) -> ChannelView:
    """Create or replace the user's ``kind`` channel; resets its failures and unpauses it.

    ntfy: ``address`` is a topic or ``server/topic`` (empty: a random topic on
    NTFY_DEFAULT_URL), ``token`` its access token (None keeps the stored one on the same
    server, "" removes it). Webhook: ``token`` is the secret (None keeps the stored one or
    makes one). Email: the account's own address. A host that resolves to a loopback, LAN or
    link-local address is refused unless NOTIFY_ALLOW_PRIVATE_TARGETS. Raises ValidationError
    naming the problem. Flushes, never commits."""
    user = _user(session, user_id)
    row = _row(session, user_id, kind)
    box = target_box(settings)
    old = open_target(box, row.target_encrypted) if row is not None else None
    target = _target(kind, address, token, user=user, old=old, settings=settings)
    check_target_address(target, allow_private=settings.notify_allow_private_targets)
    mode = _email_mode(email_mode, row)
    if row is None:
        row = NotificationChannel(user_id=user_id, kind=kind.value)
        session.add(row)
    row.target_encrypted = box.seal(target_to_json(target))
    row.display = redact(target)[:255]
    row.enabled = enabled
    row.email_mode = mode
    _unpause(row)
    session.flush()
    new_secret = kind is ChannelKind.WEBHOOK and (old is None or old.token != target.token)
    return replace(_view(row), secret=target.token if new_secret else None)


def _unpause(row: NotificationChannel) -> None:
    row.consecutive_failures = 0
    row.paused_at = None
    row.pause_reason = None
    row.paused_notified_at = None


def disable_channel(session: Session, *, user_id: int, kind: ChannelKind) -> ChannelView:
    """Turn the channel off (its settings are kept); NotFoundError if there is none."""
    row = _require_row(session, user_id, kind)
    row.enabled = False
    session.flush()
    return _view(row)


def resume_channel(session: Session, *, user_id: int, kind: ChannelKind) -> ChannelView:
    """Turn the channel on again and unpause it (failures forgotten)."""
    row = _require_row(session, user_id, kind)
    row.enabled = True
    _unpause(row)
    session.flush()
    return _view(row)


def channel_target(
    session: Session, settings: Settings, *, user_id: int, kind: ChannelKind
) -> tuple[NotificationChannel, Target]:
    """The channel row and its decrypted target; NotFoundError if none, ValidationError if
    the stored target cannot be read (SECRET_KEY changed)."""
    row = _require_row(session, user_id, kind)
    target = open_target(target_box(settings), row.target_encrypted)
    if target is None:
        raise ValidationError(
            f"the {kind.value} channel's settings are unreadable (SECRET_KEY changed?); "
            "set it again"
        )
    return row, target


def reveal_webhook_secret(session: Session, settings: Settings, *, user_id: int) -> str:
    """The webhook's signing secret, for its owner (the page shows it after creation or
    rotation, or on the owner's explicit request). NotFoundError without a webhook."""
    _row, target = channel_target(session, settings, user_id=user_id, kind=ChannelKind.WEBHOOK)
    return target.token or ""


def rotate_webhook_secret(session: Session, settings: Settings, *, user_id: int) -> ChannelView:
    """A new signing secret for the webhook (returned once, in the view's ``secret``)."""
    _row, target = channel_target(session, settings, user_id=user_id, kind=ChannelKind.WEBHOOK)
    return set_channel(
        session,
        settings,
        user_id=user_id,
        kind=ChannelKind.WEBHOOK,
        address=target.url,
        token=random_webhook_secret(),
    )


def trial_message(links: PublicLinks) -> Message:
    """What "send a test" sends: short, with a link to the notification history."""
    return Message(
        title="CryptoLens test",
        body="This is a test from CryptoLens: signal alerts will arrive here.",
        tags=("white_check_mark",),
        click_url=links.notifications(),
        data={"test": True},
    )


def _send_now(settings: Settings, target: Target, address: str, message: Message) -> Outcome:
    if target.kind is not ChannelKind.EMAIL:
        return deliver(
            target,
            message,
            timeout=settings.notify_timeout_seconds,
            allow_private=settings.notify_allow_private_targets,
        )
    smtp = smtp_from_settings(settings)
    if smtp is None:
        return Outcome(Permanent("SMTP_HOST is not set: email cannot be sent"), None, 0.0)
    started = time.perf_counter()
    result = EmailChannel(smtp, address).send(alert_email(message))
    return Outcome(result, None, time.perf_counter() - started)


def _local_day(user: User, now: datetime) -> date:
    try:
        return now.astimezone(ZoneInfo(user.timezone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return now.date()


def _record_test(
    session: Session, row: NotificationChannel, user: User, message: Message, outcome: Outcome
) -> None:
    now = utcnow()
    sent = isinstance(outcome.result, Delivered)
    error = None if isinstance(outcome.result, Delivered) else outcome.result.reason[:500]
    note = Notification(
        user_id=user.id,
        source=f"test:{uuid.uuid4().hex}",
        kind="test",
        message=message_to_json(message),
        status="done",
        deliver_after=now,
        local_day=_local_day(user, now),
        created_at=now,
    )
    session.add(note)
    session.flush()
    row_ = NotificationDelivery(
        notification_id=note.id,
        channel_id=row.id,
        user_id=user.id,
        kind=row.kind,
        status="sent" if sent else "failed",
        attempts=1,
        next_attempt_at=now,
        first_attempt_at=now,
        sent_at=now if sent else None,
        last_error=error,
        created_at=now,
    )
    session.add(row_)
    session.flush()
    session.add(
        NotificationAttempt(
            delivery_id=row_.id,
            at=now,
            outcome=type(outcome.result).__name__.lower(),
            http_status=outcome.status,
            detail=error or "test",
            seconds=outcome.seconds,
        )
    )
    if sent:
        row.last_success_at = now


def send_test(engine: Engine, settings: Settings, *, user_id: int, kind: ChannelKind) -> Outcome:
    """Send a test message through the user's ``kind`` channel now (paused or not) and record
    it (a "test" notification, its delivery and attempt) in the history. Raises
    NotFoundError without such a channel, ValidationError when its settings are unreadable."""
    with Session(engine) as session:
        row, target = channel_target(session, settings, user_id=user_id, kind=kind)
        user = _user(session, user_id)
        address = user.email
    message = trial_message(PublicLinks(settings.resolved_public_url))
    outcome = _send_now(settings, target, address, message)
    with Session(engine) as session, session.begin():
        row = _require_row(session, user_id, kind)
        _record_test(session, row, _user(session, user_id), message, outcome)
    return outcome
