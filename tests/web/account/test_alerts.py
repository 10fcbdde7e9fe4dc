"""The signal alerts page (/account/notifications): channels, send test, preferences and the
history, each acting on the signed-in user only; bad input is a 400 naming the problem and no
secret (ntfy token, Apprise password) is ever shown back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from cryptolens import create_app
from cryptolens.config import Settings
from cryptolens.db.accounts import User
from cryptolens.db.notifications import NotificationChannel
from cryptolens.extensions import db
from tests.builders.notify_servers import NtfyServer
from tests.web.accounts_helpers import make_user, post_form, sign_in

PAGE = "/account/notifications"
TOKEN = "tk_s3cretAccessToken42"
APPRISE_PASSWORD = "hunter2-apprise-pass"


def _client(app: Flask, email: str, plan: str | None = "pro") -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, make_user(app, email, plan=plan)).status_code == 302
    return client


def _post(client: FlaskClient, path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
    answer = post_form(client, path, data or {}, form_path=PAGE)
    return answer.status_code, answer.text


def _ntfy(client: FlaskClient, server: str, topic: str, token: str = "") -> tuple[int, str]:
    data = {"server": server, "topic": topic, "token": token}
    return _post(client, f"{PAGE}/channels/ntfy", data)


@pytest.fixture
def pro(app: Flask) -> FlaskClient:
    return _client(app, "pro@example.com")


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("ntfy", {"server": "", "topic": "bad topic!"}, "ntfy topic may only contain"),
        ("ntfy", {"server": "", "topic": "x" * 65}, "at most 64"),
        ("ntfy", {"server": "", "topic": ""}, "ntfy topic is empty"),
        ("ntfy", {"server": "ftp://ntfy.example.com", "topic": "t1"}, "http:// or https://"),
        ("ntfy", {"server": "", "topic": "t1", "token": "short"}, "access token"),
        ("webhook", {"url": "not a url"}, "webhook URL"),
        ("webhook", {"url": "https://user:pw@example.com/hook"}, "user name or password"),
        ("apprise", {"url": "nosuchscheme://whatever"}, "not an Apprise URL"),
        ("apprise", {"url": ""}, "Apprise URL is empty"),
    ],
)
def test_a_bad_channel_is_refused_with_the_reason(
    pro: FlaskClient, path: str, data: dict[str, str], message: str
) -> None:
    status, page = _post(pro, f"{PAGE}/channels/{path}", data)
    assert status == 400
    assert message in page
    assert "Traceback" not in page
    assert 'class="status channel-state">not set up' in pro.get(PAGE).text


def test_a_new_ntfy_channel_is_offered_a_random_topic_and_the_default_server(
    pro: FlaskClient, app: Flask
) -> None:
    first, second = pro.get(PAGE).text, pro.get(PAGE).text
    assert 'placeholder="https://ntfy.sh"' in first
    topic = first.split('name="topic" value="', 1)[1].split('"', 1)[0]
    assert topic.startswith("cl-")
    assert len(topic) >= 20
    assert topic not in second  # unguessable: a new one each time until one is saved


def test_ntfy_send_test_reaches_the_local_server_and_says_sent(
    pro: FlaskClient, ntfy_server: NtfyServer
) -> None:
    assert _ntfy(pro, ntfy_server.url, "alerts-pro-1")[0] == 302
    page = pro.get(PAGE).text
    assert 'class="status channel-state">on' in page
    status, answer = _post(pro, f"{PAGE}/channels/ntfy/test")
    assert status == 200
    assert '<p class="notice test-result" role="status">Sent</p>' in answer
    received = ntfy_server.wait_for(1)
    assert len(received) == 1
    assert [m["topic"] for m in ntfy_server.messages()] == ["alerts-pro-1"]


def test_a_failing_send_test_says_why(pro: FlaskClient, ntfy_server: NtfyServer) -> None:
    _ntfy(pro, ntfy_server.url, "alerts-pro-2")
    ntfy_server.fail_next(403)
    status, answer = _post(pro, f"{PAGE}/channels/ntfy/test")
    assert status == 200
    assert "Not sent:" in answer
    assert "403" in answer


def test_secrets_never_come_back_in_the_page(pro: FlaskClient, ntfy_server: NtfyServer) -> None:
    assert _ntfy(pro, ntfy_server.url, "alerts-pro-3", token=TOKEN)[0] == 302
    apprise_url = f"json://alice:{APPRISE_PASSWORD}@127.0.0.1:9/hook"
    assert _post(pro, f"{PAGE}/channels/apprise", {"url": apprise_url})[0] == 302
    page = pro.get(PAGE).text
    assert TOKEN not in page
    assert APPRISE_PASSWORD not in page
    assert "(with token)" in page  # the redacted forms are shown instead
    assert "json://alice:***@127.0.0.1:9" in page
    # A refused form is shown again without the submitted secret either.
    _, refused = _ntfy(pro, ntfy_server.url, "bad topic!", token=TOKEN)
    assert TOKEN not in refused


def test_a_webhook_secret_is_shown_once_after_saving(pro: FlaskClient) -> None:
    status, saved = _post(pro, f"{PAGE}/channels/webhook", {"url": "https://bots.example/hook"})
    assert status == 200
    secret = saved.split('id="webhook-secret"', 1)[1].split("<code>", 1)[1].split("</code>")[0]
    assert len(secret) >= 32
    later = pro.get(PAGE).text
    assert secret not in later
    assert "https://bots.example/…" in later


def test_a_channel_is_turned_off_and_on_again(pro: FlaskClient, ntfy_server: NtfyServer) -> None:
    _ntfy(pro, ntfy_server.url, "alerts-pro-4")
    assert _post(pro, f"{PAGE}/channels/ntfy/disable")[0] == 302
    assert 'class="status channel-state">off' in pro.get(PAGE).text
    assert _post(pro, f"{PAGE}/channels/ntfy/resume")[0] == 302
    assert 'class="status channel-state">on' in pro.get(PAGE).text


def test_an_unknown_channel_kind_is_a_404(pro: FlaskClient) -> None:
    assert _post(pro, f"{PAGE}/channels/carrier-pigeon", {"url": "x"})[0] == 404


def test_forms_need_their_csrf_token(pro: FlaskClient, ntfy_server: NtfyServer) -> None:
    for path in ("channels/ntfy", "channels/ntfy/test", "preferences", "channels/ntfy/disable"):
        answer = pro.post(f"{PAGE}/{path}", data={"server": ntfy_server.url, "topic": "t-csrf"})
        assert answer.status_code == 403, path
    assert 'class="status channel-state">not set up' in pro.get(PAGE).text
    assert ntfy_server.requests == []


def test_one_user_never_sees_or_changes_another_users_channels_or_history(
    app: Flask, ntfy_server: NtfyServer
) -> None:
    alice = _client(app, "alice@example.com")
    bob = _client(app, "bob@example.com")
    _ntfy(alice, ntfy_server.url, "alice-private-topic")
    _post(alice, f"{PAGE}/channels/ntfy/test")
    ntfy_server.wait_for(1)
    assert "alice" not in bob.get(PAGE).text
    assert "alice" not in bob.get(f"{PAGE}/history").text
    # Bob's own actions touch only Bob's channels (no user id is taken from the request).
    _post(bob, f"{PAGE}/channels/ntfy/disable")
    assert _post(bob, f"{PAGE}/channels/ntfy/test")[0] in (400, 404)
    assert 'class="status channel-state">on' in alice.get(PAGE).text
    history = alice.get(f"{PAGE}/history").text
    assert history.count('class="history-row"') == 1
    assert len(ntfy_server.requests) == 1


def test_the_history_shows_each_delivery_with_its_status_in_the_users_zone(
    app: Flask, pro: FlaskClient, ntfy_server: NtfyServer
) -> None:
    post_form(pro, "/account/", {"timezone": "Asia/Tokyo"}, form_path="/account/")
    _ntfy(pro, ntfy_server.url, "alerts-history")
    _post(pro, f"{PAGE}/channels/ntfy/test")
    page = pro.get(f"{PAGE}/history").text
    row = page.split('class="history-row"', 1)[1].split("</tr>", 1)[0]
    assert " JST" in row
    assert "ntfy" in row
    assert "sent" in row


def test_preferences_show_long_and_short_and_store_bullish_and_bearish(
    pro: FlaskClient,
) -> None:
    page = pro.get(PAGE).text
    assert 'value="bullish" checked> Long' in page
    assert 'value="bearish" checked> Short' in page
    data = {"directions": "bearish", "min_confluence": "1", "quiet_mode": "drop"}
    assert _post(pro, f"{PAGE}/preferences", data)[0] == 302
    page = pro.get(PAGE).text
    assert 'value="bullish"> Long' in page
    assert 'value="bearish" checked> Short' in page
    assert '<option value="drop" selected>' in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"directions": "sideways"}, "Unknown direction"),
        ({"directions": "bullish", "min_confluence": "zero"}, "confluence"),
        ({"directions": "bullish", "quiet_start": "25:00", "quiet_end": "07:00"}, "quiet"),
        ({"directions": "bullish", "daily_cap": "500"}, "20"),
    ],
)
def test_bad_preferences_are_a_400_with_the_message(
    pro: FlaskClient, data: dict[str, str], message: str
) -> None:
    status, page = _post(pro, f"{PAGE}/preferences", data)
    assert status == 400
    assert message in page
    assert 'role="alert"' in page


def test_the_cap_shows_the_plans_maximum_and_free_sees_only_its_pattern_type(
    app: Flask, pro: FlaskClient
) -> None:
    assert "your plan allows up to 20" in pro.get(PAGE).text
    free = _client(app, "free@example.com", plan=None).get(PAGE).text
    assert "your plan allows up to 1" in free
    assert 'name="pattern_types" value="fvg"' in free
    assert 'value="order_block"' not in free
    assert "10 minutes after the signal" in free


def test_the_profile_topic_is_offered_for_the_new_ntfy_channel(app: Flask) -> None:
    client = _client(app, "old@example.com")
    with app.app_context():
        db.session.execute(update(User).values(notification_topic="my-old-topic"))
        db.session.commit()
    assert 'name="topic" value="my-old-topic"' in client.get(PAGE).text


def test_a_paused_channel_says_why_and_resumes(
    app: Flask, pro: FlaskClient, ntfy_server: NtfyServer
) -> None:
    _ntfy(pro, ntfy_server.url, "alerts-paused")
    with app.app_context():  # as delivery leaves it after repeated permanent failures
        db.session.execute(
            update(NotificationChannel).values(
                paused_at=datetime.now(UTC), pause_reason="HTTP 403: topic reserved"
            )
        )
        db.session.commit()
    page = pro.get(PAGE).text
    assert 'class="status channel-state">paused' in page
    assert "Paused after repeated failures: HTTP 403: topic reserved" in page
    assert _post(pro, f"{PAGE}/channels/ntfy/resume")[0] == 302
    page = pro.get(PAGE).text
    assert 'class="status channel-state">on' in page
    assert "Paused after" not in page


@pytest.fixture
def strict_app(app: Flask, settings: Settings) -> Iterator[Flask]:
    """The app with NOTIFY_ALLOW_PRIVATE_TARGETS=false (the production default)."""
    application = create_app(settings.model_copy(update={"notify_allow_private_targets": False}))
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        (
            "webhook",
            {"url": "http://10.0.0.5/hook"},
            "webhook URL points to a private address (10.0.0.5, private); "
            "set NOTIFY_ALLOW_PRIVATE_TARGETS=true to allow it",
        ),
        (
            "ntfy",
            {"server": "http://127.0.0.1:8080", "topic": "t1"},
            "ntfy server URL points to a private address (127.0.0.1, loopback)",
        ),
        (
            "apprise",
            {"url": f"json://user:{APPRISE_PASSWORD}@169.254.169.254/in"},
            "Apprise URL points to a private address (169.254.169.254, link-local)",
        ),
    ],
)
def test_a_private_target_is_a_400_naming_the_setting_unless_allowed(
    strict_app: Flask, pro: FlaskClient, path: str, data: dict[str, str], message: str
) -> None:
    strict = _client(strict_app, "strict@example.com")
    status, page = _post(strict, f"{PAGE}/channels/{path}", data)
    assert status == 400
    assert message in page
    assert APPRISE_PASSWORD not in page
    assert 'class="status channel-state">not set up' in strict.get(PAGE).text
    assert _post(pro, f"{PAGE}/channels/{path}", data)[0] in (200, 302)  # allowed: saved
