from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from cryptolens.config import Settings
from cryptolens.notify.send import PRIVATE_REFUSED
from cryptolens.notify.targets import ChannelKind
from cryptolens.notify.webhook import verify
from cryptolens.services.notifications import delivery as delivery_module
from cryptolens.services.notifications.delivery import claim_due, deliver_due
from cryptolens.services.notifications.outcomes import DeliveryReport
from tests.builders.metrics import recorded
from tests.builders.notifications import (
    NOW,
    add_channel,
    add_notification,
    add_user,
    attempt_outcomes,
    channel,
    delivery,
    many_ntfy_deliveries,
    notification_status,
    outbox_to,
)
from tests.builders.notify_servers import NtfyServer, WebhookServer
from tests.web.accounts_helpers import Mailbox


def _ntfy_user(engine: Engine, settings: Settings, email: str = "ann@x.test") -> tuple[int, int]:
    user = add_user(engine, email)
    return user, add_channel(engine, settings, user, ChannelKind.NTFY, "cl-ann-topic")


def test_a_due_delivery_is_sent_to_ntfy_and_marked_sent(
    engine: Engine, notify_settings: Settings, ntfy_server: NtfyServer
) -> None:
    user, channel_id = _ntfy_user(engine, notify_settings)
    [delivery_id] = add_notification(engine, user)
    report = deliver_due(engine, notify_settings, now=NOW)
    assert (report.claimed, report.sent, report.failed) == (1, 1, 0)
    [message] = ntfy_server.messages()
    assert (message["topic"], message["title"]) == ("cl-ann-topic", "BTC/USDT long · 3 TF")
    state = delivery(engine, delivery_id)
    assert (state.status, state.attempts, state.last_error) == ("sent", 1, None)
    assert attempt_outcomes(engine, delivery_id) == [("delivered", 200)]
    assert notification_status(engine, delivery_id) == "done"
    assert channel(engine, channel_id).last_success_at == NOW


def test_running_again_sends_nothing(
    engine: Engine, notify_settings: Settings, ntfy_server: NtfyServer
) -> None:
    user, _ = _ntfy_user(engine, notify_settings)
    add_notification(engine, user)
    deliver_due(engine, notify_settings, now=NOW)
    again = deliver_due(engine, notify_settings, now=NOW + timedelta(minutes=5))
    assert again == DeliveryReport()
    assert len(ntfy_server.requests) == 1


def test_a_delivery_not_yet_due_waits_for_its_notification(
    engine: Engine, notify_settings: Settings, ntfy_server: NtfyServer
) -> None:
    user, _ = _ntfy_user(engine, notify_settings)
    [delivery_id] = add_notification(engine, user, deliver_after=NOW + timedelta(minutes=10))
    assert deliver_due(engine, notify_settings, now=NOW).claimed == 0
    assert deliver_due(engine, notify_settings, now=NOW + timedelta(minutes=10)).sent == 1
    assert delivery(engine, delivery_id).status == "sent"


def test_two_concurrent_runs_send_each_delivery_exactly_once(
    engine: Engine, notify_settings: Settings, ntfy_server: NtfyServer
) -> None:
    many_ntfy_deliveries(engine, notify_settings, users=300, server=ntfy_server.url)
    reports: list[DeliveryReport] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        reports.append(deliver_due(engine, notify_settings, now=NOW, limit=250))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    leftover = deliver_due(engine, notify_settings, now=NOW)
    assert sum(r.sent for r in reports) + leftover.sent == 300
    assert len(ntfy_server.requests) == 300
    assert deliver_due(engine, notify_settings, now=NOW).claimed == 0


def test_429_waits_for_retry_after_then_delivers(
    engine: Engine, notify_settings: Settings, ntfy_server: NtfyServer
) -> None:
    user, _ = _ntfy_user(engine, notify_settings)
    [delivery_id] = add_notification(engine, user)
    ntfy_server.fail_next(429, retry_after=30)
    report = deliver_due(engine, notify_settings, now=NOW)
    assert (report.retried, report.sent) == (1, 0)
    state = delivery(engine, delivery_id)
    assert state.status == "pending"
    assert state.next_attempt_at >= NOW + timedelta(seconds=30)
    assert state.last_error == "HTTP 429"
    assert deliver_due(engine, notify_settings, now=NOW + timedelta(seconds=20)).claimed == 0
    later = deliver_due(engine, notify_settings, now=NOW + timedelta(seconds=31))
    assert later.sent == 1
    assert delivery(engine, delivery_id).attempts == 2
    assert attempt_outcomes(engine, delivery_id) == [("retryable", 429), ("delivered", 200)]


def test_500_backs_off_exponentially_within_the_jitter_bounds(
    engine: Engine, notify_settings: Settings, ntfy_server: NtfyServer
) -> None:
    user, _ = _ntfy_user(engine, notify_settings)
    [delivery_id] = add_notification(engine, user)
    ntfy_server.fail_next(500, count=2)
    rng = random.Random(7)
    deliver_due(engine, notify_settings, now=NOW, rng=rng)
    first = delivery(engine, delivery_id).next_attempt_at - NOW
    assert timedelta(seconds=2.5) <= first <= timedelta(seconds=7.5)
    second_try = NOW + first
    deliver_due(engine, notify_settings, now=second_try, rng=rng)
    state = delivery(engine, delivery_id)
    assert (state.status, state.attempts) == ("pending", 2)
    assert timedelta(seconds=5) <= state.next_attempt_at - second_try <= timedelta(seconds=15)


def test_a_retryable_failure_after_an_hour_gives_up(
    engine: Engine, notify_settings: Settings, ntfy_server: NtfyServer
) -> None:
    user, _ = _ntfy_user(engine, notify_settings)
    [delivery_id] = add_notification(engine, user)
    ntfy_server.fail_next(503, count=2, retry_after=3600)
    deliver_due(engine, notify_settings, now=NOW)
    assert delivery(engine, delivery_id).status == "pending"
    report = deliver_due(engine, notify_settings, now=NOW + timedelta(hours=1, seconds=1))
    assert report.failed == 1
    state = delivery(engine, delivery_id)
    assert state.status == "failed"
    assert state.last_error is not None
    assert state.last_error.startswith("gave up")
    assert notification_status(engine, delivery_id) == "done"


def test_three_401s_pause_the_channel_email_the_owner_once_and_skip_later_deliveries(
    engine: Engine, notify_settings: Settings, ntfy_server: NtfyServer, mailbox: Mailbox
) -> None:
    user, channel_id = _ntfy_user(engine, notify_settings)
    ntfy_server.fail_next(401, count=5)
    paused = 0
    for n in range(3):
        add_notification(engine, user, source=f"signal:{n}")
        paused += deliver_due(engine, notify_settings, now=NOW + timedelta(minutes=n)).paused
    assert paused == 1
    row = channel(engine, channel_id)
    assert row.paused_at is not None
    assert row.consecutive_failures == 3
    assert row.pause_reason == "HTTP 401"
    [later] = add_notification(engine, user, source="signal:9")
    report = deliver_due(engine, notify_settings, now=NOW + timedelta(minutes=5))
    assert (report.skipped, report.paused) == (1, 0)
    assert delivery(engine, later).status == "skipped"
    assert len(ntfy_server.requests) == 3
    assert outbox_to(engine, "ann@x.test") == ["CryptoLens paused your ntfy alerts"]
    assert "paused" in str(mailbox.wait_for("ann@x.test")["Subject"])


def test_a_lease_expired_by_a_crashed_worker_is_sent_by_the_next_run(
    engine: Engine, notify_settings: Settings, ntfy_server: NtfyServer
) -> None:
    user, _ = _ntfy_user(engine, notify_settings)
    [delivery_id] = add_notification(engine, user)
    claimed, _lease = claim_due(engine, now=NOW, limit=10)  # a worker that then died
    assert claimed == [delivery_id]
    assert deliver_due(engine, notify_settings, now=NOW + timedelta(seconds=60)).claimed == 0
    report = deliver_due(engine, notify_settings, now=NOW + timedelta(seconds=91))
    assert report.sent == 1
    assert len(ntfy_server.requests) == 1


def test_webhook_deliveries_are_signed(
    engine: Engine, notify_settings: Settings, webhook_server: WebhookServer
) -> None:
    user = add_user(engine, "bot@x.test")
    secret = "s" * 24
    add_channel(
        engine, notify_settings, user, ChannelKind.WEBHOOK, webhook_server.url, token=secret
    )
    add_notification(engine, user)
    assert deliver_due(engine, notify_settings, now=NOW).sent == 1
    [received] = webhook_server.requests
    stamp, signature = (
        received.header("X-CryptoLens-Timestamp"),
        received.header("X-CryptoLens-Signature"),
    )
    assert verify(secret, stamp, signature, received.body, now=int(stamp or 0))
    assert received.json["data"] == {"signal": {"id": 42}}


def test_a_turned_off_channel_is_skipped(
    engine: Engine, notify_settings: Settings, ntfy_server: NtfyServer
) -> None:
    user = add_user(engine, "off@x.test")
    add_channel(engine, notify_settings, user, ChannelKind.NTFY, "cl-off", enabled=False)
    [delivery_id] = add_notification(engine, user)
    assert deliver_due(engine, notify_settings, now=NOW).skipped == 1
    assert delivery(engine, delivery_id).status == "skipped"
    assert ntfy_server.requests == []


def test_email_per_signal_sends_one_email_per_delivery(
    engine: Engine, notify_settings: Settings, mailbox: Mailbox
) -> None:
    user = add_user(engine, "mail@x.test")
    add_channel(engine, notify_settings, user, ChannelKind.EMAIL)
    first = add_notification(engine, user, source="signal:1")
    add_notification(engine, user, source="signal:2")
    report = deliver_due(engine, notify_settings, now=NOW)
    assert (report.sent, report.emails) == (2, 2)
    assert delivery(engine, first[0]).status == "sent"
    message = mailbox.wait_for("mail@x.test", count=2)
    assert message["Subject"] == "BTC/USDT long · 3 TF"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert "https://cryptolens.test/signals/42" in body.get_content()


def test_email_digest_groups_a_users_due_deliveries_into_one_email(
    engine: Engine, notify_settings: Settings, mailbox: Mailbox
) -> None:
    user = add_user(engine, "digest@x.test")
    add_channel(engine, notify_settings, user, ChannelKind.EMAIL, email_mode="digest")
    for n in range(3):
        add_notification(engine, user, source=f"signal:{n}")
    report = deliver_due(engine, notify_settings, now=NOW)
    assert (report.sent, report.emails) == (3, 1)
    assert mailbox.wait_for("digest@x.test")["Subject"] == "CryptoLens: 3 alerts"
    assert outbox_to(engine, "digest@x.test") == ["CryptoLens: 3 alerts"]


def test_a_slow_send_keeps_its_lease_renewed_and_is_recorded_under_the_renewed_lease(
    engine: Engine,
    notify_settings: Settings,
    ntfy_server: NtfyServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(delivery_module, "RENEW_EVERY", 0.05)
    user, _ = _ntfy_user(engine, notify_settings)
    [delivery_id] = add_notification(engine, user)
    ntfy_server.delay = 0.5  # several renewals happen while the request is in flight
    leases: list[datetime] = []
    original = delivery_module.LeaseKeeper._run

    def watched(keeper: delivery_module.LeaseKeeper) -> None:
        original(keeper)
        leases.append(keeper.lease)

    monkeypatch.setattr(delivery_module.LeaseKeeper, "_run", watched)
    assert deliver_due(engine, notify_settings, now=NOW).sent == 1
    assert leases
    assert leases[0] > NOW + delivery_module.LEASE
    assert delivery(engine, delivery_id).status == "sent"


def test_concurrent_claims_never_share_a_row(
    engine: Engine, notify_settings: Settings, ntfy_server: NtfyServer
) -> None:
    many_ntfy_deliveries(engine, notify_settings, users=400, server=ntfy_server.url)
    claims: list[list[int]] = []
    start = threading.Barrier(4)

    def claim() -> None:
        start.wait()
        for _ in range(4):
            claims.append(claim_due(engine, now=NOW, limit=25)[0])

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    taken = [row for claimed in claims for row in claimed]
    assert len(taken) == len(set(taken))  # no row went to two claimers
    rest, _ = claim_due(engine, now=NOW, limit=1000)
    assert sorted(taken + rest) == sorted(set(taken + rest))
    assert len(taken) + len(rest) == 400  # and none was lost


def test_one_run_goes_on_claiming_rounds_until_nothing_is_due(
    engine: Engine,
    notify_settings: Settings,
    ntfy_server: NtfyServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A signal for more subscribers than one round holds is sent by one job run, not one
    round now and the rest a minute later (the 10,000-subscriber fan-out)."""
    monkeypatch.setattr(delivery_module, "ROUND", 100)
    many_ntfy_deliveries(engine, notify_settings, users=250, server=ntfy_server.url)
    report = deliver_due(engine, notify_settings, now=NOW)
    assert (report.claimed, report.sent) == (250, 250)
    assert len(ntfy_server.requests) == 250
    capped = deliver_due(engine, notify_settings, now=NOW, limit=10)
    assert capped.claimed == 0


def test_a_target_saved_while_private_ones_were_allowed_fails_permanently_once_not(
    engine: Engine, notify_settings: Settings, webhook_server: WebhookServer
) -> None:
    """DNS rebinding, or the setting turned off: the send-time check refuses, nothing is sent."""
    user = add_user(engine, "lan@x.test")
    add_channel(engine, notify_settings, user, ChannelKind.WEBHOOK, webhook_server.url)
    [delivery_id] = add_notification(engine, user)
    strict = notify_settings.model_copy(update={"notify_allow_private_targets": False})
    report = deliver_due(engine, strict, now=NOW)
    assert (report.claimed, report.sent, report.failed) == (1, 0, 1)
    state = delivery(engine, delivery_id)
    assert (state.status, state.last_error) == ("failed", PRIVATE_REFUSED)
    assert attempt_outcomes(engine, delivery_id) == [("permanent", None)]
    assert webhook_server.requests == []


def test_a_sent_delivery_counts_as_a_notification_sent_on_its_channel(
    engine: Engine, notify_settings: Settings, ntfy_server: NtfyServer
) -> None:
    user, _ = _ntfy_user(engine, notify_settings)
    add_notification(engine, user)
    before = recorded("cryptolens_notifications_sent_total", channel="ntfy")
    assert deliver_due(engine, notify_settings, now=NOW).sent == 1
    assert recorded("cryptolens_notifications_sent_total", channel="ntfy") == before + 1
    deliver_due(engine, notify_settings, now=NOW + timedelta(minutes=5))  # nothing left
    assert recorded("cryptolens_notifications_sent_total", channel="ntfy") == before + 1
