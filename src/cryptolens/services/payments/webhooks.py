"""Receiving a webhook: verify the signature over the raw bytes (a bad or missing one is a
401 that stores nothing, only a counter and a log line), store the event once by its
provider event id (a replay finds it and changes nothing), then apply it in the same
transaction. The caller commits; the answer is quick enough for both providers' deadlines
(a few indexed statements, emails leave after the commit)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cryptolens.db.payments import PaymentEvent
from cryptolens.domain.billing import ProviderEvent
from cryptolens.domain.errors import ValidationError
from cryptolens.services.payments.lifecycle import Billing, apply_event
from cryptolens.services.payments.providers import PaymentProvider, SignatureError

log = logging.getLogger(__name__)

#: Webhooks refused for their signature, per provider, since this process started (the one
#: trace they leave besides a log line).
REJECTED_SIGNATURES: Counter[str] = Counter()
REJECTED = "rejected"
DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class WebhookAnswer:
    """The HTTP status to answer and what happened (``duplicate``: a replay)."""

    status: int
    outcome: str
    detail: str = ""


def receive_webhook(
    session: Session,
    *,
    provider: PaymentProvider,
    raw_body: bytes,
    headers: Mapping[str, str],
    billing: Billing,
    now: datetime,
) -> WebhookAnswer:
    """Verify, store once and apply one webhook; flushes, the caller commits (after a replay
    or a refused event this rolls the session back: use it for nothing else)."""
    name = provider.name.value
    try:
        event = provider.verify_webhook(raw_body, headers, now=now)
    except SignatureError as error:
        REJECTED_SIGNATURES[name] += 1
        log.warning("%s webhook refused: %s", name, error)
        return WebhookAnswer(401, REJECTED, "bad signature")
    except ValidationError as error:
        log.warning("%s webhook not usable: %s", name, error)
        return WebhookAnswer(error.status_code, REJECTED, str(error))
    # The event row goes in first, in the same transaction as its effects: a replay (or a
    # concurrent twin) fails on the unique key before anything is applied, and the write
    # lock is taken before any read (SQLite).
    row = _new_row(event, now)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return _replayed(session, name, event)
    try:
        outcome = apply_event(session, event, billing=billing, now=now)
    except ValidationError as error:
        session.rollback()  # nothing of it stays but the record that it was refused
        log.warning("%s webhook %s rejected: %s", name, event.event_id, error)
        _store_rejected(session, event, str(error), now)
        return WebhookAnswer(error.status_code, REJECTED, str(error))
    row.outcome, row.processed_at = outcome, now
    session.flush()
    log.info("%s webhook %s (%s): %s", name, event.event_id, event.event_type, outcome)
    return WebhookAnswer(200, outcome)


def _replayed(session: Session, name: str, event: ProviderEvent) -> WebhookAnswer:
    stored = session.scalar(
        select(PaymentEvent).where(
            PaymentEvent.provider == name, PaymentEvent.event_id == event.event_id[:160]
        )
    )
    if stored is not None and stored.outcome == REJECTED:
        return WebhookAnswer(422, REJECTED, stored.detail or "")
    log.info("%s webhook %s replayed: nothing to do", name, event.event_id)
    return WebhookAnswer(200, DUPLICATE)


def _new_row(event: ProviderEvent, now: datetime) -> PaymentEvent:
    return PaymentEvent(
        provider=event.provider.value,
        event_id=event.event_id[:160],
        event_type=event.event_type[:48],
        received_at=now,
        outcome="received",
    )


def _store_rejected(session: Session, event: ProviderEvent, detail: str, now: datetime) -> None:
    row = _new_row(event, now)
    row.outcome, row.detail, row.processed_at = REJECTED, detail[:2000], now
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # a concurrent twin stored it first
        session.rollback()
