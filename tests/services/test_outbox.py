from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from cryptolens.db.accounts import OutboxEmail
from cryptolens.extensions import db
from cryptolens.notify.email import SmtpConfig
from cryptolens.services.outbox import SENT, deliver_email, queue_email
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
