"""SMTP delivery of one multipart (text + HTML) message."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    security: str  # none, starttls or ssl
    user: str | None
    password: str | None
    sender: str
    timeout: float


def build_message(
    *, sender: str, recipient: str, subject: str, text: str, html: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="cryptolens")
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send_message(config: SmtpConfig, message: EmailMessage) -> None:
    """Deliver ``message``; raises smtplib.SMTPException or OSError on failure."""
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if config.security == "ssl":
        client = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    with client:
        if config.security == "starttls":
            client.starttls(context=context)
        if config.user:
            client.login(config.user, config.password or "")
        client.send_message(message)
