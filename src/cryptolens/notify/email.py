"""Email: SMTP delivery of one multipart (text + HTML) message, as a ``Channel``."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from html import escape

from cryptolens.notify.channel import Delivered, DeliveryResult, Message, Permanent, Retryable


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


def classify_failure(error: smtplib.SMTPException | OSError) -> Retryable | Permanent:
    """A 5xx answer is final (RFC 5321); anything else (4xx, network) may pass."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            return Permanent(f"recipient refused: {codes[0]}")
        return Retryable(str(error)[:1000])
    if isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500:
        return Permanent(f"{error.smtp_code} {error.smtp_error!r}"[:1000])
    return Retryable(str(error)[:1000] or type(error).__name__)


@dataclass(frozen=True, slots=True)
class EmailChannel:
    """One address reached through the configured SMTP server."""

    config: SmtpConfig
    recipient: str
    kind: str = "email"

    def send(self, message: Message) -> DeliveryResult:
        email = build_message(
            sender=self.config.sender,
            recipient=self.recipient,
            subject=message.title,
            text=message.body,
            html=message.html if message.html is not None else _plain_html(message.body),
        )
        try:
            send_message(self.config, email)
        except (smtplib.SMTPException, OSError) as error:
            return classify_failure(error)
        return Delivered()


def _plain_html(text: str) -> str:
    return "<pre>" + escape(text) + "</pre>"
