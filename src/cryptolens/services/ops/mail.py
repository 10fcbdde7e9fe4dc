"""Account email from any entry point (request, job, CLI): render, store it sealed in the
outbox in the caller's session, and hand it to a courier once the caller commits. Nothing
here commits the caller's session; a rolled-back email is never sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.db.transactions import on_commit
from cryptolens.domain.jobs import job
from cryptolens.notify.emails import render_email
from cryptolens.notify.links import PublicLinks
from cryptolens.services.accounts import accounts
from cryptolens.services.accounts.twofactor import SecretBox
from cryptolens.services.ops.background import Background
from cryptolens.services.ops.outbox import (
    deliver_email,
    outbox_box,
    queue_email,
    smtp_from_settings,
)

SEND_JOB = job("send_email")
RESET_JOB = job("password_reset")


class Courier(Protocol):
    def deliver(self, outbox_id: int) -> None: ...


def deliver_now(engine: Engine, settings: Settings, outbox_id: int) -> str:
    """Deliver one outbox row in a session of its own; returns its status."""
    with Session(engine) as session:
        return deliver_email(
            session,
            outbox_id=outbox_id,
            smtp=smtp_from_settings(settings),
            box=outbox_box(settings),
            now=utcnow(),
        )


@dataclass(frozen=True, slots=True)
class InlineCourier:
    """Delivers at once (a job or a thread is already off the request path)."""

    engine: Engine
    settings: Settings

    def deliver(self, outbox_id: int) -> None:
        deliver_now(self.engine, self.settings, outbox_id)


@dataclass(frozen=True, slots=True)
class QueuedCourier:
    """Delivers later: an RQ job taking the outbox id, or a thread without Redis."""

    engine: Engine
    settings: Settings
    background: Background

    def deliver(self, outbox_id: int) -> None:
        work = partial(deliver_now, self.engine, self.settings, outbox_id)
        self.background.submit(SEND_JOB, outbox_id, inline=work)


@dataclass(frozen=True, slots=True)
class Mailer:
    """What sending needs: settings (PUBLIC_URL, SECRET_KEY) and a courier."""

    settings: Settings
    courier: Courier
    box: SecretBox = field(init=False)
    links: PublicLinks = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "box", outbox_box(self.settings))
        object.__setattr__(self, "links", PublicLinks(self.settings.resolved_public_url))


def send_email(
    session: Session, *, mailer: Mailer, template: str, recipient: str, **context: object
) -> int:
    """Store email ``template`` for ``recipient``; it leaves when the caller commits."""
    message = render_email(template, **context)
    outbox_id = queue_email(
        session, recipient=recipient, message=message, box=mailer.box, now=utcnow()
    )
    on_commit(session, partial(mailer.courier.deliver, outbox_id))
    return outbox_id


def send_password_reset(session: Session, *, mailer: Mailer, email: str) -> bool:
    """Email a reset link if ``email`` belongs to an active account; True if one was sent."""
    found = accounts.request_password_reset(session, email=email, now=utcnow())
    if found is None:
        return False
    address, token = found
    send_email(
        session, mailer=mailer, template="reset", recipient=address, link=mailer.links.reset(token)
    )
    return True


def password_reset_now(engine: Engine, settings: Settings, email: str) -> bool:
    """The whole reset request (look-up, token, email) in a session of its own."""
    mailer = Mailer(settings, InlineCourier(engine, settings))
    with Session(engine) as session:
        sent = send_password_reset(session, mailer=mailer, email=email)
        session.commit()
    return sent


def request_password_reset_later(
    background: Background, *, engine: Engine, settings: Settings, email: str
) -> None:
    """Hand a reset request to the background, so the request costs the same whether or
    not the address is registered (no look-up happens on the request path)."""
    work = partial(password_reset_now, engine, settings, email)
    background.submit(RESET_JOB, email, inline=work)
