from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from cryptolens.db.accounts import OutboxEmail
from cryptolens.extensions import db
from cryptolens.notify.email import SmtpConfig
from cryptolens.services.outbox import SENT, deliver_email, queue_email, sweep_outbox
from tests.web.accounts_helpers import Mailbox

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture
def smtp(smtp_server: tuple[object, int]) -> SmtpConfig:
    return SmtpConfig(
        host="127.0.0.1",
        port=smtp_server[1],
        security="none",
        user=None,
        password=None,
        sender="CryptoLens <no-reply@cryptolens.test>",
        timeout=5,
    )


def test_delivering_the_same_outbox_row_twice_sends_it_once(
    app: Flask, smtp: SmtpConfig, mailbox: Mailbox
) -> None:
    with app.app_context():
        session = db.session()
        outbox_id = queue_email(
            session, recipient="twice@example.com", subject="Hi", text="t", html="<p>h</p>", now=NOW
        )
        session.commit()
        assert deliver_email(session, outbox_id=outbox_id, smtp=smtp, now=NOW) == SENT
        assert deliver_email(session, outbox_id=outbox_id, smtp=smtp, now=NOW) == SENT
        row = session.get(OutboxEmail, outbox_id)
        assert row is not None
        assert row.attempts == 1
    message = mailbox.wait_for("twice@example.com")
    assert message.get_body(preferencelist=("plain",)).get_content().strip() == "t"  # type: ignore[union-attr]
    assert len(mailbox.messages) == 1


def test_a_failed_delivery_stays_pending_with_the_error(app: Flask, tmp_path: Path) -> None:
    dead = SmtpConfig(
        host="127.0.0.1",
        port=1,
        security="none",
        user=None,
        password=None,
        sender="x@y.z",
        timeout=1,
    )
    with app.app_context():
        session = db.session()
        outbox_id = queue_email(
            session, recipient="r@example.com", subject="s", text="t", html="h", now=NOW
        )
        session.commit()
        with pytest.raises(ConnectionRefusedError):
            deliver_email(session, outbox_id=outbox_id, smtp=dead, now=NOW)
        row = session.get(OutboxEmail, outbox_id)
        assert row is not None
        assert row.status == "pending"
        assert row.last_error


def _queued(session: object, recipient: str, *, at: datetime = NOW) -> int:
    outbox_id = queue_email(
        session,  # type: ignore[arg-type]
        recipient=recipient,
        subject="s",
        text="t",
        html="<p>h</p>",
        now=at,
    )
    db.session.commit()
    return outbox_id


def test_the_sweep_resends_what_a_crashed_sender_abandoned(
    app: Flask, smtp: SmtpConfig, mailbox: Mailbox
) -> None:
    with app.app_context():
        session = db.session()
        abandoned = _queued(session, "abandoned@example.com")
        recent = _queued(session, "in-flight@example.com")
        for outbox_id, claimed in ((abandoned, NOW), (recent, NOW + timedelta(minutes=9))):
            row = session.get(OutboxEmail, outbox_id)
            assert row is not None
            row.status, row.attempts, row.claimed_at = "sending", 1, claimed
        session.commit()
        swept = sweep_outbox(session, smtp=smtp, now=NOW + timedelta(minutes=11))
        assert (swept.reclaimed, swept.sent) == (1, 1)
        in_flight = session.get(OutboxEmail, recent)
        assert in_flight is not None
        assert in_flight.status == "sending"  # another sender may still be on it
    mailbox.wait_for("abandoned@example.com")
    assert [str(m["To"]) for m in mailbox.parsed()] == ["abandoned@example.com"]


def test_the_sweep_retries_failures_with_growing_waits_then_gives_up(
    app: Flask, smtp: SmtpConfig, mailbox: Mailbox
) -> None:
    with app.app_context():
        session = db.session()
        failed_once = _queued(session, "retry@example.com")
        ancient = _queued(session, "ancient@example.com", at=NOW - timedelta(days=3))
        row = session.get(OutboxEmail, failed_once)
        assert row is not None
        row.attempts, row.claimed_at = 2, NOW  # the second attempt failed just now
        session.commit()
        early = sweep_outbox(session, smtp=smtp, now=NOW + timedelta(minutes=1))
        assert (early.sent, early.retry_later, early.failed) == (0, 1, 1)  # waits 2 min
        on_time = sweep_outbox(session, smtp=smtp, now=NOW + timedelta(minutes=2))
        assert on_time.sent == 1
        gone = session.get(OutboxEmail, ancient)
        assert gone is not None
        assert gone.status == "failed"
    mailbox.wait_for("retry@example.com")
    assert [str(m["To"]) for m in mailbox.parsed()] == ["retry@example.com"]


def test_without_smtp_the_sweep_only_tidies(app: Flask) -> None:
    with app.app_context():
        session = db.session()
        _queued(session, "kept@example.com")
        swept = sweep_outbox(session, smtp=None, now=NOW)
        assert swept.counts() == {"reclaimed": 0, "sent": 0, "retry_later": 0, "failed": 0}
