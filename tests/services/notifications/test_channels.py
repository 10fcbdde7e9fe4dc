from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.notifications import NotificationChannel
from cryptolens.domain.errors import NotFoundError, ValidationError
from cryptolens.notify.addresses import PrivateAddressError
from cryptolens.notify.channel import Delivered, Permanent, Retryable
from cryptolens.notify.send import PRIVATE_REFUSED
from cryptolens.notify.targets import ChannelKind
from cryptolens.services.notifications.channels import (
    ChannelView,
    disable_channel,
    list_channels,
    resume_channel,
    reveal_webhook_secret,
    send_test,
    set_channel,
)
from cryptolens.services.notifications.history import user_history
from tests.builders.notifications import add_channel, add_user, channel
from tests.builders.notify_servers import NtfyServer, WebhookServer
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import Mailbox


def _set(
    engine: Engine,
    settings: Settings,
    user: int,
    kind: ChannelKind,
    address: str = "",
    **options: Any,
) -> ChannelView:
    with Session(engine) as session, session.begin():
        return set_channel(session, settings, user_id=user, kind=kind, address=address, **options)


def _views(engine: Engine, user: int) -> dict[str, ChannelView]:
    with Session(engine) as session:
        return {view.kind.value: view for view in list_channels(session, user_id=user)}


def test_a_topic_alone_goes_to_the_default_server_and_is_stored_only_sealed(
    engine: Engine, notify_settings: Settings, ntfy_server: NtfyServer
) -> None:
    user = add_user(engine, "a@x.test")
    view = _set(engine, notify_settings, user, ChannelKind.NTFY, "my-alerts", token="tk_secret123")
    assert view.display == f"{ntfy_server.url}/my-a… (with token)"
    assert view.enabled
    assert not view.paused
    with Session(engine) as session:
        sealed = session.scalars(select(NotificationChannel.target_encrypted)).one()
    assert "my-alerts" not in sealed
    assert "tk_secret123" not in sealed


def test_an_empty_ntfy_address_gets_a_random_unguessable_topic(
    engine: Engine, notify_settings: Settings, ntfy_server: NtfyServer
) -> None:
    user = add_user(engine, "b@x.test")
    add_channel(engine, notify_settings, user, ChannelKind.NTFY)
    assert send_test(engine, notify_settings, user_id=user, kind=ChannelKind.NTFY).result == (
        Delivered()
    )
    topic = ntfy_server.messages()[0]["topic"]
    assert topic.startswith("cl-")
    assert len(topic) >= 24


def test_bad_addresses_are_refused_with_the_problem_named(
    engine: Engine, notify_settings: Settings
) -> None:
    user = add_user(engine, "c@x.test")
    with pytest.raises(ValidationError, match="topic may only contain"):
        _set(engine, notify_settings, user, ChannelKind.NTFY, "bad topic!")
    with pytest.raises(ValidationError, match="webhook URL"):
        _set(engine, notify_settings, user, ChannelKind.WEBHOOK, "ftp://x")
    with pytest.raises(ValidationError, match="Apprise"):
        _set(engine, notify_settings, user, ChannelKind.APPRISE, "nope://x")
    with pytest.raises(ValidationError, match="email mode"):
        _set(engine, notify_settings, user, ChannelKind.EMAIL, email_mode="weekly")
    assert not any(v.configured for v in _views(engine, user).values())


def test_the_old_account_topic_is_offered_not_applied(
    engine: Engine, notify_settings: Settings
) -> None:
    user = add_user(engine, "old@x.test", topic="legacy-topic")
    ntfy = _views(engine, user)["ntfy"]
    assert (ntfy.configured, ntfy.suggested_topic) == (False, "legacy-topic")
    _set(engine, notify_settings, user, ChannelKind.NTFY, "legacy-topic")
    ntfy = _views(engine, user)["ntfy"]
    assert (ntfy.configured, ntfy.suggested_topic) == (True, None)
    assert _views(engine, add_user(engine, "new@x.test"))["ntfy"].suggested_topic is None


def test_a_webhook_secret_is_made_shown_once_and_kept_when_only_the_url_changes(
    engine: Engine, notify_settings: Settings, webhook_server: WebhookServer
) -> None:
    user = add_user(engine, "hook@x.test")
    created = _set(engine, notify_settings, user, ChannelKind.WEBHOOK, webhook_server.url)
    assert created.secret is not None
    assert len(created.secret) >= 32
    moved = _set(engine, notify_settings, user, ChannelKind.WEBHOOK, webhook_server.url + "/v2")
    assert moved.secret is None
    with Session(engine) as session:
        assert reveal_webhook_secret(session, notify_settings, user_id=user) == created.secret


def test_setting_a_channel_again_resets_its_failures_and_unpauses_it(
    engine: Engine, notify_settings: Settings
) -> None:
    user = add_user(engine, "p@x.test")
    channel_id = add_channel(engine, notify_settings, user, ChannelKind.NTFY, "cl-paused")
    with Session(engine) as session, session.begin():
        row = session.get(NotificationChannel, channel_id)
        assert row is not None
        row.consecutive_failures, row.pause_reason = 3, "HTTP 401"
        row.paused_at = row.paused_notified_at = row.created_at
    assert _views(engine, user)["ntfy"].paused
    _set(engine, notify_settings, user, ChannelKind.NTFY, "cl-fixed")
    row = channel(engine, channel_id)
    assert (row.consecutive_failures, row.paused_at, row.paused_notified_at) == (0, None, None)


def test_disable_and_resume(engine: Engine, notify_settings: Settings) -> None:
    user = add_user(engine, "d@x.test")
    add_channel(engine, notify_settings, user, ChannelKind.EMAIL)
    with Session(engine) as session, session.begin():
        assert not disable_channel(session, user_id=user, kind=ChannelKind.EMAIL).enabled
        assert resume_channel(session, user_id=user, kind=ChannelKind.EMAIL).enabled
        with pytest.raises(NotFoundError, match="No webhook channel"):
            disable_channel(session, user_id=user, kind=ChannelKind.WEBHOOK)


def test_send_test_records_a_test_notification_in_the_history(
    engine: Engine, notify_settings: Settings, webhook_server: WebhookServer
) -> None:
    user = add_user(engine, "t@x.test")
    add_channel(engine, notify_settings, user, ChannelKind.WEBHOOK, webhook_server.url)
    outcome = send_test(engine, notify_settings, user_id=user, kind=ChannelKind.WEBHOOK)
    assert (outcome.result, outcome.status) == (Delivered(), 200)
    assert webhook_server.requests[0].json["title"] == "CryptoLens test"
    with Session(engine) as session:
        [row] = user_history(session, user_id=user)
    assert (row.kind, row.title, row.status) == ("test", "CryptoLens test", "done")
    assert [(d.kind, d.status, d.attempts) for d in row.deliveries] == [("webhook", "sent", 1)]


def test_send_test_reports_the_failure_and_records_it(
    engine: Engine, notify_settings: Settings, ntfy_server: NtfyServer
) -> None:
    user = add_user(engine, "f@x.test")
    add_channel(engine, notify_settings, user, ChannelKind.NTFY, "cl-denied")
    ntfy_server.fail_next(403)
    outcome = send_test(engine, notify_settings, user_id=user, kind=ChannelKind.NTFY)
    assert outcome.result == Permanent("HTTP 403")
    with Session(engine) as session:
        [row] = user_history(session, user_id=user)
    assert [(d.status, d.last_error) for d in row.deliveries] == [("failed", "HTTP 403")]


def test_send_test_by_email_goes_straight_to_smtp(
    engine: Engine, notify_settings: Settings, mailbox: Mailbox
) -> None:
    user = add_user(engine, "e@x.test")
    add_channel(engine, notify_settings, user, ChannelKind.EMAIL)
    outcome = send_test(engine, notify_settings, user_id=user, kind=ChannelKind.EMAIL)
    assert outcome.result == Delivered()
    assert mailbox.wait_for("e@x.test")["Subject"] == "CryptoLens test"


def test_send_test_by_email_without_smtp_says_so(engine: Engine, database_url: str) -> None:
    settings = make_settings(database_url=database_url)
    user = add_user(engine, "nosmtp@x.test")
    add_channel(engine, settings, user, ChannelKind.EMAIL)
    outcome = send_test(engine, settings, user_id=user, kind=ChannelKind.EMAIL)
    assert outcome.result == Permanent("SMTP_HOST is not set: email cannot be sent")


def test_send_test_through_apprise_reaches_a_local_json_endpoint(
    engine: Engine, notify_settings: Settings, webhook_server: WebhookServer
) -> None:
    user = add_user(engine, "app@x.test")
    url = webhook_server.url.replace("http://", "json://") + "/apprise"
    add_channel(engine, notify_settings, user, ChannelKind.APPRISE, url)
    assert send_test(engine, notify_settings, user_id=user, kind=ChannelKind.APPRISE).result == (
        Delivered()
    )
    [received] = webhook_server.wait_for(1)
    assert received.path == "/apprise"
    assert received.json["title"] == "CryptoLens test"


def test_send_test_through_apprise_to_a_dead_server_is_a_retryable_failure(
    engine: Engine, notify_settings: Settings
) -> None:
    user = add_user(engine, "dead@x.test")
    add_channel(engine, notify_settings, user, ChannelKind.APPRISE, "json://127.0.0.1:1/x")
    outcome = send_test(engine, notify_settings, user_id=user, kind=ChannelKind.APPRISE)
    assert isinstance(outcome.result, Retryable)


def _strict(settings: Settings) -> Settings:
    return settings.model_copy(update={"notify_allow_private_targets": False})


@pytest.mark.parametrize(
    ("kind", "address", "message"),
    [
        (
            ChannelKind.WEBHOOK,
            "http://10.0.0.5/hook",
            "webhook URL points to a private address (10.0.0.5, private); "
            "set NOTIFY_ALLOW_PRIVATE_TARGETS=true to allow it",
        ),
        (
            ChannelKind.NTFY,
            "http://169.254.169.254/alerts",
            "ntfy server URL points to a private address (169.254.169.254, link-local)",
        ),
        (
            ChannelKind.APPRISE,
            "json://user:apprise-pw@localhost:8080/in",
            "Apprise URL points to a private address (",
        ),
    ],
)
def test_a_private_target_is_refused_with_the_setting_named_when_not_allowed(
    engine: Engine, notify_settings: Settings, kind: ChannelKind, address: str, message: str
) -> None:
    user = add_user(engine, "lan@x.test")
    with pytest.raises(PrivateAddressError) as refused:
        _set(engine, _strict(notify_settings), user, kind, address)
    assert str(refused.value).startswith(message)
    assert "apprise-pw" not in str(refused.value)
    assert not _views(engine, user)[kind.value].configured
    _set(engine, notify_settings, user, kind, address)  # NOTIFY_ALLOW_PRIVATE_TARGETS=true
    assert _views(engine, user)[kind.value].configured


def test_a_public_target_and_a_fixed_api_are_accepted_when_private_ones_are_not(
    engine: Engine, notify_settings: Settings
) -> None:
    user = add_user(engine, "pub@x.test")
    strict = _strict(notify_settings)
    _set(engine, strict, user, ChannelKind.WEBHOOK, "https://93.184.215.14/hook")
    _set(engine, strict, user, ChannelKind.APPRISE, "tgram://123456789:AAHbottoken/12345")
    views = _views(engine, user)
    assert views["webhook"].configured
    assert views["apprise"].configured


def test_send_test_to_a_target_saved_while_allowed_is_refused_once_not(
    engine: Engine, notify_settings: Settings, webhook_server: WebhookServer
) -> None:
    user = add_user(engine, "was-allowed@x.test")
    add_channel(engine, notify_settings, user, ChannelKind.WEBHOOK, webhook_server.url)
    strict = _strict(notify_settings)
    outcome = send_test(engine, strict, user_id=user, kind=ChannelKind.WEBHOOK)
    assert (outcome.result, outcome.status) == (Permanent(PRIVATE_REFUSED), None)
    assert webhook_server.requests == []
