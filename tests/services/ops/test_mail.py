from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import Engine, func, select

from cryptolens.config import Settings
from cryptolens.db.accounts import OutboxEmail
from cryptolens.extensions import db
from cryptolens.services.ops.mail import Mailer, password_reset_now, send_email
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import Mailbox, link_in, make_user


@dataclass
class RecordingCourier:
    """A courier that only notes what it was handed."""

    handed: list[int] = field(default_factory=list)

    def deliver(self, outbox_id: int) -> None:
        self.handed.append(outbox_id)


def _mailer(courier: RecordingCourier) -> Mailer:
    return Mailer(make_settings(public_url="https://lens.example.com"), courier)


def test_an_email_is_handed_to_the_courier_only_once_the_caller_commits(app: Flask) -> None:
    courier = RecordingCourier()
    with app.app_context():
        session = db.session()
        outbox_id = send_email(
            session, mailer=_mailer(courier), template="verify", recipient="a@example.com", link="x"
        )
        assert courier.handed == []  # nothing committed, nothing sent
        session.commit()
        assert courier.handed == [outbox_id]
        session.commit()
        assert courier.handed == [outbox_id]  # handed over once


def test_a_rolled_back_email_is_neither_stored_nor_handed_over(app: Flask) -> None:
    courier = RecordingCourier()
    with app.app_context():
        session = db.session()
        send_email(
            session, mailer=_mailer(courier), template="verify", recipient="b@example.com", link="x"
        )
        session.rollback()
        session.commit()
        assert courier.handed == []
        assert session.scalar(select(func.count()).select_from(OutboxEmail)) == 0


def test_a_job_sends_a_reset_link_built_from_the_public_url_without_flask(
    app: Flask, migrated_engine: Engine, smtp_server: tuple[object, int], mailbox: Mailbox
) -> None:
    user = make_user(app, "job@example.com")
    settings: Settings = make_settings(
        database_url=str(migrated_engine.url.render_as_string(hide_password=False)),
        public_url="https://lens.example.com",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server[1],
        smtp_security="none",
    )
    assert password_reset_now(migrated_engine, settings, user.email) is True
    assert password_reset_now(migrated_engine, settings, "nobody@example.com") is False
    body = mailbox.wait_for(user.email).get_body(preferencelist=("plain",))
    assert body is not None
    assert "https://lens.example.com/auth/reset/" in body.get_content()
    assert link_in(mailbox.wait_for(user.email)).startswith("/auth/reset/")
    with migrated_engine.connect() as connection:
        status = connection.scalar(select(OutboxEmail.status))
    assert status == "sent"
