"""Sending over real HTTP to the local ntfy server and webhook receiver (tests/builders)."""

from __future__ import annotations

import asyncio
import io
import logging
import socket
import time

import pytest

from cryptolens.notify.channel import Action, Delivered, Message, Permanent, Priority, Retryable
from cryptolens.notify.links import PublicLinks
from cryptolens.notify.send import MAX_BODY_BYTES, PRIVATE_REFUSED, deliver, deliver_all
from cryptolens.notify.signal_message import signal_message
from cryptolens.notify.targets import (
    ChannelKind,
    Target,
    apprise_target,
    ntfy_target,
    webhook_target,
)
from cryptolens.notify.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.builders.notify import make_summary
from tests.builders.notify_servers import NtfyServer, RedirectingServer, WebhookServer

TOKEN = "tk_localtesttokenabcdefghijklmn"
SECRET = "webhook-secret-0123456789"
SUMMARY = make_summary(
    id=7,
    symbol="ETH/USDT",
    direction="bearish",
    confluence=4,
    timeframes=("1h", "4h"),
    pattern_types=("liquidity_sweep",),
)
MESSAGE = signal_message(SUMMARY, PublicLinks("https://lens.example.com"))


def _ntfy(server: NtfyServer, topic: str = "alerts", token: str | None = TOKEN) -> Target:
    return ntfy_target(f"{server.url}/{topic}", default_server="https://ntfy.sh", token=token)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_ntfy_receives_the_json_message_with_token_and_actions(ntfy_server: NtfyServer) -> None:
    outcome = deliver(_ntfy(ntfy_server), MESSAGE, timeout=5, allow_private=True)
    assert outcome.result == Delivered()
    assert outcome.status == 200
    [request] = ntfy_server.wait_for(1)
    assert (request.method, request.path) == ("POST", "/")
    assert request.header("Authorization") == f"Bearer {TOKEN}"
    assert request.json == {
        "topic": "alerts",
        "title": "ETH/USDT short · 2 TF",
        "message": MESSAGE.body,
        "priority": 5,
        "tags": ["chart_with_downwards_trend", "ETH-USDT"],
        "click": "https://lens.example.com/signals/7",
        "actions": [
            {"action": "view", "label": "View signal", "url": "https://lens.example.com/signals/7"},
            {
                "action": "view",
                "label": "View chart",
                "url": "https://lens.example.com/symbols/ETH/USDT?timeframe=1h",
            },
        ],
    }


def test_ntfy_without_a_token_sends_no_authorization(ntfy_server: NtfyServer) -> None:
    assert (
        deliver(_ntfy(ntfy_server, token=None), MESSAGE, timeout=5, allow_private=True).result
        == Delivered()
    )
    assert ntfy_server.wait_for(1)[0].header("Authorization") is None


def test_a_10_kb_message_arrives_cut_to_the_limit(ntfy_server: NtfyServer) -> None:
    message = Message(title="big", body="日本語テキスト" * 500)  # 10.5 KB of 3-byte characters
    assert deliver(_ntfy(ntfy_server), message, timeout=5, allow_private=True).result == Delivered()
    received = ntfy_server.wait_for(1)[0].json["message"]
    assert len(received.encode()) <= MAX_BODY_BYTES
    assert received.endswith("…")


def test_the_webhook_body_is_json_signed_so_the_receiver_can_verify_it(
    webhook_server: WebhookServer,
) -> None:
    target = webhook_target(f"{webhook_server.url}/hooks/cryptolens", SECRET)
    assert deliver(target, MESSAGE, timeout=5, allow_private=True).result == Delivered()
    [request] = webhook_server.wait_for(1)
    assert request.path == "/hooks/cryptolens"
    assert request.header("Content-Type") == "application/json"
    assert verify(
        SECRET,
        request.header(TIMESTAMP_HEADER),
        request.header(SIGNATURE_HEADER),
        request.body,
        now=int(time.time()),
    )
    assert not verify(
        "another-secret-entirely",
        request.header(TIMESTAMP_HEADER),
        request.header(SIGNATURE_HEADER),
        request.body,
        now=int(time.time()),
    )
    assert request.json["title"] == MESSAGE.title
    assert request.json["priority"] == int(Priority.URGENT)
    assert request.json["click_url"] == "https://lens.example.com/signals/7"
    assert request.json["actions"][0] == {
        "label": "View signal",
        "url": "https://lens.example.com/signals/7",
    }
    assert request.json["data"]["signal"]["symbol"] == "ETH/USDT"


def test_429_with_retry_after_is_retryable_after_that_long(ntfy_server: NtfyServer) -> None:
    ntfy_server.fail_next(429, retry_after=120)
    outcome = deliver(_ntfy(ntfy_server), MESSAGE, timeout=5, allow_private=True)
    assert outcome.status == 429
    assert outcome.result == Retryable("HTTP 429", 120.0)


@pytest.mark.parametrize(
    ("status", "kind"),
    [(500, Retryable), (502, Retryable), (400, Permanent), (401, Permanent), (404, Permanent)],
)
def test_error_answers_are_classified(ntfy_server: NtfyServer, status: int, kind: type) -> None:
    ntfy_server.fail_next(status)
    outcome = deliver(_ntfy(ntfy_server), MESSAGE, timeout=5, allow_private=True)
    assert outcome.status == status
    assert isinstance(outcome.result, kind)


def test_a_refused_connection_is_retryable() -> None:
    target = ntfy_target(f"http://127.0.0.1:{_closed_port()}/alerts", default_server="x")
    outcome = deliver(target, MESSAGE, timeout=5, allow_private=True)
    assert isinstance(outcome.result, Retryable)
    assert outcome.result.reason.startswith("network error")
    assert outcome.status is None


def test_a_server_slower_than_the_timeout_is_retryable(ntfy_server: NtfyServer) -> None:
    ntfy_server.delay = 30.0
    outcome = deliver(_ntfy(ntfy_server), MESSAGE, timeout=0.3, allow_private=True)
    assert outcome.result == Retryable("timed out after 0.3 s")


def test_failures_are_logged_without_token_or_topic(
    ntfy_server: NtfyServer, caplog: pytest.LogCaptureFixture
) -> None:
    ntfy_server.fail_next(401)
    with caplog.at_level(logging.INFO, logger="cryptolens.notify"):
        deliver(
            _ntfy(ntfy_server, topic="private_topic_name"), MESSAGE, timeout=5, allow_private=True
        )
    assert "HTTP 401" in caplog.text
    assert TOKEN not in caplog.text
    assert "private_topic_name" not in caplog.text


def test_500_targets_all_arrive_with_bounded_concurrency_over_few_connections(
    ntfy_server: NtfyServer,
) -> None:
    ntfy_server.delay = 0.005  # answers overlap, so the bound is actually tested
    jobs = [(_ntfy(ntfy_server, topic=f"user_{n}"), MESSAGE) for n in range(500)]
    outcomes = asyncio.run(deliver_all(jobs, concurrency=16, timeout=10, allow_private=True))
    assert [o.result for o in outcomes] == [Delivered()] * 500
    received = ntfy_server.wait_for(500)
    assert sorted(r.json["topic"] for r in received) == sorted(f"user_{n}" for n in range(500))
    assert 1 < ntfy_server.max_in_flight <= 16
    assert len({r.client_port for r in received}) <= 16  # pooled: connections were reused


def test_deliver_all_keeps_the_order_of_its_jobs_across_channels(
    ntfy_server: NtfyServer, webhook_server: WebhookServer
) -> None:
    ntfy_server.fail_next(404)
    jobs = [
        (_ntfy(ntfy_server), MESSAGE),
        (webhook_target(webhook_server.url, SECRET), MESSAGE),
        (Target(ChannelKind.EMAIL, "trader@example.com"), MESSAGE),
    ]
    results = [o.result for o in asyncio.run(deliver_all(jobs, allow_private=True))]
    assert results == [
        Permanent("HTTP 404"),
        Delivered(),
        Permanent("email is sent through the outbox"),
    ]


def test_apprise_delivers_through_its_json_scheme(webhook_server: WebhookServer) -> None:
    target = apprise_target(f"json://127.0.0.1:{webhook_server.port}/apprise")
    message = Message(title="Apprise", body="through Apprise", actions=(Action("a", "b"),))
    assert deliver(target, message, timeout=5, allow_private=True).result == Delivered()
    [request] = webhook_server.wait_for(1)
    assert request.path == "/apprise"
    assert (request.json["title"], request.json["message"]) == ("Apprise", "through Apprise")


def test_apprise_ntfy_failure_is_retryable(ntfy_server: NtfyServer) -> None:
    ntfy_server.fail_next(500)
    target = apprise_target(f"ntfy://127.0.0.1:{ntfy_server.port}/alerts")
    assert isinstance(deliver(target, MESSAGE, timeout=5, allow_private=True).result, Retryable)
    assert ntfy_server.wait_for(1)[0].json["topic"] == "alerts"


def test_apprise_own_log_lines_never_reach_the_application_logs(ntfy_server: NtfyServer) -> None:
    """Apprise logs topics and URLs at every level; none of it may reach a handler of ours
    (pytest's caplog is attached to every logger, so a root handler stands in for the app's)."""
    ntfy_server.fail_next(500)
    target = apprise_target(f"ntfy://127.0.0.1:{ntfy_server.port}/private_topic_name")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        assert isinstance(deliver(target, MESSAGE, timeout=5, allow_private=True).result, Retryable)
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    assert "private_topic_name" not in stream.getvalue()


def test_a_stored_apprise_url_apprise_refuses_is_permanent() -> None:
    target = Target(ChannelKind.APPRISE, "nosuchservice://host/path")
    outcome = deliver(target, MESSAGE, timeout=5, allow_private=True)
    assert outcome.result == Permanent("not an Apprise URL Apprise understands")


def test_a_private_address_is_refused_at_send_time_and_nothing_reaches_it(
    ntfy_server: NtfyServer, webhook_server: WebhookServer
) -> None:
    """Targets saved while private addresses were allowed, sent after they no longer are:
    an IP literal, a name resolving to loopback, and an Apprise URL with a chosen host."""
    named = webhook_server.url.replace("127.0.0.1", "localhost")
    jobs = [
        (_ntfy(ntfy_server), MESSAGE),
        (webhook_target(named, SECRET), MESSAGE),
        (apprise_target(f"json://127.0.0.1:{webhook_server.port}/apprise"), MESSAGE),
    ]
    outcomes = asyncio.run(deliver_all(jobs, timeout=5))
    assert [o.result for o in outcomes] == [Permanent(PRIVATE_REFUSED)] * 3
    assert [o.status for o in outcomes] == [None] * 3
    assert ntfy_server.requests == []
    assert webhook_server.requests == []


def test_private_targets_are_refused_by_default() -> None:
    target = webhook_target(f"http://127.0.0.1:{_closed_port()}/hook", SECRET)
    assert deliver(target, MESSAGE, timeout=5).result == Permanent(PRIVATE_REFUSED)


def test_a_redirect_is_not_followed(webhook_server: WebhookServer) -> None:
    redirecting = RedirectingServer(webhook_server.url + "/inside").start()
    try:
        target = webhook_target(redirecting.url, SECRET)
        outcome = deliver(target, MESSAGE, timeout=5, allow_private=True)
    finally:
        redirecting.stop()
    assert outcome.result == Permanent("HTTP 302: redirected; configure the final URL")
    assert len(redirecting.requests) == 1
    assert webhook_server.requests == []
