from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.notifications import Broadcast, NotificationDelivery
from cryptolens.domain.errors import ValidationError
from cryptolens.notify.targets import ChannelKind
from cryptolens.services.notifications.broadcast import create_broadcast
from cryptolens.services.notifications.delivery import deliver_due
from cryptolens.services.notifications.history import deliveries, redact_error, user_history
from tests.builders.notifications import NOW, add_channel, add_notification, add_user
from tests.builders.notify_servers import NtfyServer


def test_history_lists_each_notification_with_its_channels_newest_first(
    engine: Engine, notify_settings: Settings, ntfy_server: NtfyServer
) -> None:
    user = add_user(engine, "h@x.test")
    add_channel(engine, notify_settings, user, ChannelKind.NTFY, "cl-history")
    add_channel(engine, notify_settings, user, ChannelKind.EMAIL)
    add_notification(engine, user, source="signal:1")
    deliver_due(engine, notify_settings, now=NOW)
    ntfy_server.fail_next(500)
    add_notification(engine, user, source="signal:2", deliver_after=NOW.replace(hour=13))
    deliver_due(engine, notify_settings, now=NOW.replace(hour=13))
    with Session(engine) as session:
        newest, oldest = user_history(session, user_id=user)
        assert user_history(session, user_id=add_user(engine, "none@x.test")) == []
    assert [(d.kind, d.status) for d in oldest.deliveries] == [("ntfy", "sent"), ("email", "sent")]
    assert [(d.kind, d.status, d.attempts, d.last_error) for d in newest.deliveries] == [
        ("ntfy", "pending", 1, "HTTP 500"),
        ("email", "sent", 1, None),
    ]
    assert newest.status == "queued"


def test_errors_are_shown_without_urls_or_tokens() -> None:
    shown = redact_error("refused by https://hooks.example.com/T0K3N for tk_abcdefghijklmnopqrstuv")
    assert shown == "refused by https://… for …"
    assert redact_error(None) is None


def test_deliveries_lists_rows_with_the_users_email(
    engine: Engine, notify_settings: Settings
) -> None:
    user = add_user(engine, "ops@x.test")
    add_channel(engine, notify_settings, user, ChannelKind.NTFY, "cl-ops")
    [delivery_id] = add_notification(engine, user)
    with Session(engine) as session:
        [row] = deliveries(session)
        assert deliveries(session, signal_id=999) == []
        kind = session.scalars(select(NotificationDelivery.kind)).one()
    assert (row.id, row.user_email, row.kind, row.status, row.attempts) == (
        delivery_id,
        "ops@x.test",
        kind,
        "pending",
        0,
    )


def test_a_broadcast_is_stored_for_its_audience(engine: Engine) -> None:
    author = add_user(engine, "admin@x.test")
    with Session(engine) as session, session.begin():
        broadcast_id = create_broadcast(
            session, author_id=author, audience="pro", title=" Maintenance ", body="Down at 3"
        )
    with Session(engine) as session:
        row = session.get(Broadcast, broadcast_id)
        assert row is not None
        assert (row.audience, row.title, row.body) == ("pro", "Maintenance", "Down at 3")


@pytest.mark.parametrize(
    ("audience", "title", "body", "problem"),
    [
        ("vip", "t", "b", "audience"),
        ("all", "  ", "b", "title is empty"),
        ("all", "t" * 201, "b", "at most 200"),
        ("all", "t", "", "message is empty"),
        ("all", "t", "b" * 4001, "at most 4000"),
    ],
)
def test_a_bad_broadcast_is_refused_naming_the_problem(
    engine: Engine, audience: str, title: str, body: str, problem: str
) -> None:
    with Session(engine) as session, pytest.raises(ValidationError, match=problem):
        create_broadcast(session, author_id=None, audience=audience, title=title, body=body)
