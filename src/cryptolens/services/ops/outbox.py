"""The email outbox: rendered messages are stored first (bodies sealed, because they carry
sign-in tokens), delivered off the request path by id (an RQ job or a thread), blanked once
sent or given up, and purged after OUTBOX_RETENTION_DAYS. Delivering a row twice sends it once."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.accounts import OutboxEmail
from cryptolens.db.transactions import changed_rows, claim_once
from cryptolens.notify.channel import Delivered, Message, Permanent
from cryptolens.notify.email import EmailChannel, SmtpConfig
from cryptolens.services.accounts.twofactor import SecretBox

log = logging.getLogger(__name__)

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
MAX_ATTEMPTS = 5
_PURPOSE = b"cryptolens outbox bodies"


def outbox_box(settings: Settings) -> SecretBox:
    """The box outbox bodies are sealed in (its own key, derived from SECRET_KEY)."""
    return SecretBox(settings.secret_key, purpose=_PURPOSE)


def queue_email(
    session: Session, *, recipient: str, message: Message, box: SecretBox, now: datetime
) -> int:
    """Store ``message`` for ``recipient`` with its bodies sealed; flushes, never commits."""
    row = OutboxEmail(
        recipient=recipient,
        subject=message.title,
        text_body=box.seal(message.body),
        html_body=box.seal(message.html or ""),
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row.id


def _close(row: OutboxEmail, status: str) -> None:
    """Final states keep no body: the token inside is either used up or no longer wanted."""
    row.status = status
    row.text_body = row.html_body = ""


def deliver_email(
    session: Session, *, outbox_id: int, smtp: SmtpConfig | None, box: SecretBox, now: datetime
) -> str:
    """Send one outbox row if still pending; returns its status afterwards. Commits (the
    session is the sender's own: a job's or a delivery thread's)."""
    claimed = claim_once(
        session,
        update(OutboxEmail)
        .where(OutboxEmail.id == outbox_id, OutboxEmail.status == PENDING)
        .values(status=SENDING, attempts=OutboxEmail.attempts + 1, claimed_at=now),
    )
    session.commit()
    row = session.get(OutboxEmail, outbox_id)
    if row is None:
        return "missing"
    if not claimed:
        return row.status  # already sent, or another worker holds it
    if smtp is None:
        log.warning("SMTP_HOST not set: email %s to %s kept in the outbox", row.id, row.recipient)
        row.status = PENDING
        session.commit()
        return row.status
    text, html = box.open_or_none(row.text_body), box.open_or_none(row.html_body)
    if text is None or html is None:
        row.last_error = "unreadable: sealed under another SECRET_KEY, or stored before sealing"
        _close(row, FAILED)
        session.commit()
        return row.status
    result = EmailChannel(smtp, row.recipient).send(Message(row.subject, text, html=html))
    if isinstance(result, Delivered):
        _close(row, SENT)
        row.sent_at = now
    else:
        log.warning("email %s to %s failed: %s", row.id, row.recipient, result.reason)
        row.last_error = result.reason
        if isinstance(result, Permanent) or row.attempts >= MAX_ATTEMPTS:
            _close(row, FAILED)
        else:
            row.status = PENDING
    session.commit()
    return row.status


#: A row still "sending" this long after it was taken was abandoned (a crashed sender).
ABANDONED_AFTER = timedelta(minutes=10)
#: Retries wait RETRY_BASE x 2^(attempts - 1) after the last attempt; older rows are dropped.
RETRY_BASE = timedelta(minutes=1)
GIVE_UP_AFTER = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class OutboxSweep:
    reclaimed: int = 0
    sent: int = 0
    retry_later: int = 0
    failed: int = 0

    def counts(self) -> dict[str, int]:
        return asdict(self)


def sweep_outbox(
    session: Session, *, smtp: SmtpConfig | None, box: SecretBox, now: datetime
) -> OutboxSweep:
    """Deliver what is due again: rows a crashed sender abandoned, and rows whose last
    attempt failed once their back-off has passed. Rows older than GIVE_UP_AFTER fail."""
    reclaimed = changed_rows(
        session,
        update(OutboxEmail)
        .where(OutboxEmail.status == SENDING, OutboxEmail.claimed_at < now - ABANDONED_AFTER)
        .values(status=PENDING),
    )
    expired = changed_rows(
        session,
        update(OutboxEmail)
        .where(OutboxEmail.status == PENDING, OutboxEmail.created_at < now - GIVE_UP_AFTER)
        .values(
            status=FAILED,
            last_error="gave up: undelivered for two days",
            text_body="",
            html_body="",
        ),
    )
    session.commit()
    if smtp is None:
        return OutboxSweep(reclaimed=reclaimed, failed=expired)
    pending = session.execute(
        select(OutboxEmail.id, OutboxEmail.attempts, OutboxEmail.claimed_at)
        .where(OutboxEmail.status == PENDING)
        .order_by(OutboxEmail.created_at)
        .limit(500)
    ).all()
    sent = later = failed = 0
    for outbox_id, attempts, claimed_at in pending:
        if attempts and claimed_at is not None:
            wait = RETRY_BASE * 2 ** (attempts - 1)
            if _aware(claimed_at) + wait > now:
                later += 1
                continue
        status = deliver_email(session, outbox_id=outbox_id, smtp=smtp, box=box, now=now)
        sent += status == SENT
        failed += status == FAILED
        later += status == PENDING
    return OutboxSweep(reclaimed, sent, later, failed + expired)


def purge_outbox(session: Session, *, older_than: timedelta, now: datetime) -> int:
    """Delete sent and failed rows created before ``now - older_than``; returns how many.
    Pending and in-flight rows stay whatever their age (the sweep settles them)."""
    return changed_rows(
        session,
        delete(OutboxEmail).where(
            OutboxEmail.status.in_((SENT, FAILED)), OutboxEmail.created_at < now - older_than
        ),
    )


def _aware(moment: datetime) -> datetime:
    # SQLite hands naive datetimes back; every stored time is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def smtp_from_settings(settings: Settings) -> SmtpConfig | None:
    """The SMTP configuration, or None when SMTP_HOST is not set (emails stay queued)."""
    if not settings.smtp_host:
        return None
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security.value,
        user=settings.smtp_user,
        password=settings.smtp_password,
        sender=settings.mail_sender,
        timeout=settings.smtp_timeout,
    )
