"""RQ entry point for email delivery: takes an outbox id, safe to run twice."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cryptolens.config import load_settings
from cryptolens.db.base import utcnow
from cryptolens.db.engine import create_engine_for
from cryptolens.services.outbox import deliver_email, smtp_from_settings


def send_email_job(outbox_id: int) -> str:
    """Deliver one outbox row (a row already sent is left alone); returns its status."""
    settings = load_settings()
    engine = create_engine_for(settings)
    try:
        with Session(engine) as session:
            return deliver_email(
                session, outbox_id=outbox_id, smtp=smtp_from_settings(settings), now=utcnow()
            )
    finally:
        engine.dispose()
