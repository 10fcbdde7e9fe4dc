"""The email outbox: rendered messages are stored first, delivered off the request path by
id (an RQ job or a thread), and delivering the same row twice sends it once."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.accounts import OutboxEmail
from cryptolens.db.transactions import changed_rows, claim_once
from cryptolens.notify.email import SmtpConfig, build_message, send_message

log = logging.getLogger(__name__)

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
MAX_ATTEMPTS = 5


def queue_email(
    session: Session, *, recipient: str, subject: str, text: str, html: str, now: datetime
) -> int:
    row = OutboxEmail(
        recipient=recipient, subject=subject, text_body=text, html_body=html, created_at=now
    )
    session.add(row)
    session.flush()
    return row.id


def deliver_email(
    session: Session, *, outbox_id: int, smtp: SmtpConfig | None, now: datetime
) -> str:
    """Send one outbox row if still pending; returns its status afterwards. Commits."""
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
    message = build_message(
        sender=smtp.sender,
        recipient=row.recipient,
        subject=row.subject,
        text=row.text_body,
        html=row.html_body,
    )
    try:
        send_message(smtp, message)
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("email %s to %s failed: %s", row.id, row.recipient, exc)
        row.last_error = str(exc)[:1000]
        row.status = FAILED if row.attempts >= MAX_ATTEMPTS else PENDING
        session.commit()
        raise
    row.status = SENT
    row.sent_at = now
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


def sweep_outbox(session: Session, *, smtp: SmtpConfig | None, now: datetime) -> OutboxSweep:
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
        .values(status=FAILED, last_error="gave up: undelivered for two days"),
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
        try:
            status = deliver_email(session, outbox_id=outbox_id, smtp=smtp, now=now)
        except (smtplib.SMTPException, OSError):
            session.rollback()
            status = session.get(OutboxEmail, outbox_id).status  # type: ignore[union-attr]
        sent += status == SENT
        failed += status == FAILED
        later += status == PENDING
    return OutboxSweep(reclaimed, sent, later, failed + expired)


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
