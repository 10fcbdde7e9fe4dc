from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select, text

from cryptolens.db.accounts import OutboxEmail
from cryptolens.extensions import db
from cryptolens.notify.channel import Message
from cryptolens.notify.email import SmtpConfig
from cryptolens.services.accounts.twofactor import SecretBox
from cryptolens.services.ops.outbox import (
    SENT,
    deliver_email,
    purge_outbox,
    queue_email,
    sweep_outbox,
)
from tests.builders.settings import TEST_SECRET
from tests.web.accounts_helpers import Mailbox

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
BOX = SecretBox(TEST_SECRET, purpose=b"cryptolens outbox bodies")
TOKEN = "tok-3f9a1c7e5b2d4f6a8c0e"


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


DEAD = SmtpConfig(
    host="127.0.0.1", port=1, security="none", user=None, password=None, sender="x@y.z", timeout=1
)


def _queued(recipient: str, *, at: datetime = NOW, body: str = "t", html: str = "<p>h</p>") -> int:
    session = db.session()
    outbox_id = queue_email(
        session, recipient=recipient, message=Message("s", body, html=html), box=BOX, now=at
    )
    session.commit()
    return outbox_id


def _row(outbox_id: int) -> OutboxEmail:
    row = db.session.get(OutboxEmail, outbox_id)
    assert row is not None
    return row


def test_delivering_the_same_outbox_row_twice_sends_it_once(
    app: Flask, smtp: SmtpConfig, mailbox: Mailbox
) -> None:
    with app.app_context():
        session = db.session()
        outbox_id = _queued("twice@example.com")
        assert deliver_email(session, outbox_id=outbox_id, smtp=smtp, box=BOX, now=NOW) == SENT
        assert deliver_email(session, outbox_id=outbox_id, smtp=smtp, box=BOX, now=NOW) == SENT
        assert _row(outbox_id).attempts == 1
    message = mailbox.wait_for("twice@example.com")
    assert message.get_body(preferencelist=("plain",)).get_content().strip() == "t"  # type: ignore[union-attr]
    assert len(mailbox.messages) == 1


def test_the_stored_bodies_are_sealed_so_the_database_never_holds_the_token(
    app: Flask,
) -> None:
    with app.app_context():
        outbox_id = _queued("sealed@example.com", body=f"link /r/{TOKEN}", html=f"<a>{TOKEN}</a>")
        stored = db.session.execute(
            text("SELECT text_body, html_body FROM outbox WHERE id = :id"), {"id": outbox_id}
        ).one()
        assert all(TOKEN not in column for column in stored)
        assert BOX.open(stored[0]) == f"link /r/{TOKEN}"


def test_a_sent_email_keeps_no_body(app: Flask, smtp: SmtpConfig, mailbox: Mailbox) -> None:
    with app.app_context():
        outbox_id = _queued("blank@example.com", body=TOKEN)
        deliver_email(db.session(), outbox_id=outbox_id, smtp=smtp, box=BOX, now=NOW)
        row = _row(outbox_id)
        assert (row.status, row.text_body, row.html_body) == (SENT, "", "")
    assert TOKEN in mailbox.wait_for("blank@example.com").as_string()


def test_a_body_sealed_under_another_key_fails_instead_of_sending_garbage(
    app: Flask, smtp: SmtpConfig
) -> None:
    with app.app_context():
        outbox_id = _queued("rotated@example.com")
        other = SecretBox("another-secret-key-entirely-0123456789", purpose=b"x")
        status = deliver_email(db.session(), outbox_id=outbox_id, smtp=smtp, box=other, now=NOW)
        row = _row(outbox_id)
        assert (status, row.text_body) == ("failed", "")
        assert row.last_error is not None
        assert "unreadable" in row.last_error


def test_a_failed_delivery_stays_pending_with_the_error(app: Flask) -> None:
    with app.app_context():
        outbox_id = _queued("r@example.com")
        status = deliver_email(db.session(), outbox_id=outbox_id, smtp=DEAD, box=BOX, now=NOW)
        row = _row(outbox_id)
        assert status == row.status == "pending"
        assert row.last_error
        assert row.text_body  # kept (sealed) for the retry


def test_the_sweep_resends_what_a_crashed_sender_abandoned(
    app: Flask, smtp: SmtpConfig, mailbox: Mailbox
) -> None:
    with app.app_context():
        session = db.session()
        abandoned = _queued("abandoned@example.com")
        recent = _queued("in-flight@example.com")
        for outbox_id, claimed in ((abandoned, NOW), (recent, NOW + timedelta(minutes=9))):
            row = _row(outbox_id)
            row.status, row.attempts, row.claimed_at = "sending", 1, claimed
        session.commit()
        swept = sweep_outbox(session, smtp=smtp, box=BOX, now=NOW + timedelta(minutes=11))
        assert (swept.reclaimed, swept.sent) == (1, 1)
        assert _row(recent).status == "sending"  # another sender may still be on it
    mailbox.wait_for("abandoned@example.com")
    assert [str(m["To"]) for m in mailbox.parsed()] == ["abandoned@example.com"]


def test_the_sweep_retries_failures_with_growing_waits_then_gives_up(
    app: Flask, smtp: SmtpConfig, mailbox: Mailbox
) -> None:
    with app.app_context():
        session = db.session()
        failed_once = _queued("retry@example.com")
        ancient = _queued("ancient@example.com", at=NOW - timedelta(days=3))
        row = _row(failed_once)
        row.attempts, row.claimed_at = 2, NOW  # the second attempt failed just now
        session.commit()
        early = sweep_outbox(session, smtp=smtp, box=BOX, now=NOW + timedelta(minutes=1))
        assert (early.sent, early.retry_later, early.failed) == (0, 1, 1)  # waits 2 min
        on_time = sweep_outbox(session, smtp=smtp, box=BOX, now=NOW + timedelta(minutes=2))
        assert on_time.sent == 1
        session.expire_all()
        gone = _row(ancient)
        assert (gone.status, gone.text_body, gone.html_body) == ("failed", "", "")
    mailbox.wait_for("retry@example.com")
    assert [str(m["To"]) for m in mailbox.parsed()] == ["retry@example.com"]


def test_without_smtp_the_sweep_only_tidies(app: Flask) -> None:
    with app.app_context():
        _queued("kept@example.com")
        swept = sweep_outbox(db.session(), smtp=None, box=BOX, now=NOW)
        assert swept.counts() == {"reclaimed": 0, "sent": 0, "retry_later": 0, "failed": 0}


def test_the_purge_drops_old_sent_and_failed_rows_and_keeps_the_rest(app: Flask) -> None:
    old = NOW - timedelta(days=8)
    with app.app_context():
        session = db.session()
        rows = {
            status: _queued(f"{status}@example.com", at=old)
            for status in ("sent", "failed", "pending", "sending")
        }
        for status, outbox_id in rows.items():
            _row(outbox_id).status = status
        recent_sent = _queued("recent@example.com", at=NOW - timedelta(days=6))
        _row(recent_sent).status = "sent"
        session.commit()
        assert purge_outbox(session, older_than=timedelta(days=7), now=NOW) == 2
        session.commit()
        left = set(session.scalars(select(OutboxEmail.id)))
        assert left == {rows["pending"], rows["sending"], recent_sent}
