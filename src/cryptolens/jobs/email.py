"""RQ entry points for email: ids and primitives in, safe to run twice."""

from __future__ import annotations

from cryptolens.jobs.context import job_engine, job_settings
from cryptolens.services.ops.mail import deliver_now, password_reset_now


def send_email_job(outbox_id: int) -> str:
    """Deliver one outbox row (a row already sent is left alone); returns its status."""
    settings = job_settings()
    return deliver_now(job_engine(settings), settings, outbox_id)


def password_reset_job(email: str) -> bool:
    """Look ``email`` up and, if it has an active account, send it a reset link."""
    settings = job_settings()
    return password_reset_now(job_engine(settings), settings, email)
