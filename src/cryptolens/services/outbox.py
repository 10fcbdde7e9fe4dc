"""The email outbox: rendered messages are stored first, delivered off the request path by
id (an RQ job or a thread), and delivering the same row twice sends it once."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.accounts import OutboxEmail
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
    claimed = session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == outbox_id, OutboxEmail.status == PENDING)
        .values(status=SENDING, attempts=OutboxEmail.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    row = session.get(OutboxEmail, outbox_id)
    if row is None:
        return "missing"
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
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
