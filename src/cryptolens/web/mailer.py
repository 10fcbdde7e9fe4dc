"""Render an email from ``templates/email/<name>.txt|.html``, store it in the outbox and
deliver it off the request path: an RQ job on queue ``high`` when Redis is configured (the
job takes the outbox id), otherwise a background thread."""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app, render_template
from redis.exceptions import RedisError
from rq import Queue

from cryptolens.db.base import utcnow
from cryptolens.domain.jobs import job
from cryptolens.extensions import db
from cryptolens.services.outbox import deliver_email, queue_email, smtp_from_settings
from cryptolens.web.state import app_redis, app_settings

log = logging.getLogger(__name__)

#: Queue, entry point and timeout come from the job registry.
SEND_JOB = job("send_email")
_THREADS = "cryptolens.mail_threads"
SUBJECTS = {
    "verify": "Confirm your email address",
    "already_registered": "Someone tried to register with your address",
    "reset": "Reset your CryptoLens password",
    "change_email": "Confirm your new email address",
}


def send_email(template: str, recipient: str, **context: object) -> int:
    """Queue one email and start its delivery; commits the session. Returns the outbox id."""
    text = render_template(f"email/{template}.txt", **context)
    html = render_template(f"email/{template}.html", **context)
    outbox_id = queue_email(
        db.session(),
        recipient=recipient,
        subject=SUBJECTS[template],
        text=text,
        html=html,
        now=utcnow(),
    )
    db.session.commit()
    dispatch(outbox_id)
    return outbox_id


def dispatch(outbox_id: int) -> None:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    redis = app_redis(app)
    if redis is not None:
        try:
            Queue(SEND_JOB.queue.value, connection=redis).enqueue(
                SEND_JOB.function, outbox_id, job_timeout=SEND_JOB.timeout, result_ttl=3600
            )
            return
        except RedisError:
            log.warning("Redis unavailable; delivering email %s in a thread", outbox_id)
    thread = threading.Thread(target=_deliver, args=(app, outbox_id), daemon=True)
    threads: list[threading.Thread] = app.extensions.setdefault(_THREADS, [])
    threads[:] = [t for t in threads if t.is_alive()]
    threads.append(thread)
    thread.start()


def wait_for_deliveries(app: Flask, timeout: float = 10.0) -> None:
    """Join the delivery threads still running (at shutdown, and in tests)."""
    for thread in list(app.extensions.get(_THREADS, ())):
        thread.join(timeout)


def _deliver(app: Flask, outbox_id: int) -> None:
    with app.app_context():
        try:
            deliver_email(
                db.session(),
                outbox_id=outbox_id,
                smtp=smtp_from_settings(app_settings(app)),
                now=utcnow(),
            )
        except Exception:
            log.exception("email %s not delivered", outbox_id)
        finally:
            db.session.remove()
