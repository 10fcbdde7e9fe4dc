from __future__ import annotations

import pytest

from cryptolens.domain.errors import ValidationError
from cryptolens.notify.targets import (
    TOPIC,
    ChannelKind,
    Target,
    apprise_target,
    ntfy_target,
    random_topic,
    random_webhook_secret,
    redact,
    target_from_json,
    target_to_json,
    webhook_target,
)

DEFAULT = "https://ntfy.sh"
TOKEN = "tk_s3cr3tt0k3nabcdefghijklmnopq"
PASSWORD = "hunter2-very-secret"


@pytest.mark.parametrize(
    ("address", "server", "topic"),
    [
        ("alerts_BTC-1", DEFAULT, "alerts_BTC-1"),
        ("  alerts  ", DEFAULT, "alerts"),
        ("https://ntfy.example.com/alerts", "https://ntfy.example.com", "alerts"),
        ("http://127.0.0.1:8080/alerts/", "http://127.0.0.1:8080", "alerts"),
        ("ntfy.example.com/alerts", "https://ntfy.example.com", "alerts"),
        ("https://example.com/ntfy/alerts", "https://example.com/ntfy", "alerts"),
        ("x" * 64, DEFAULT, "x" * 64),
    ],
)
def test_an_ntfy_topic_may_be_given_alone_or_with_its_server(
    address: str, server: str, topic: str
) -> None:
    target = ntfy_target(address, default_server=DEFAULT)
    assert (target.kind, target.url, target.topic, target.token) == (
        ChannelKind.NTFY,
        server,
        topic,
        None,
    )


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("", "empty"),
        ("x" * 65, "65 characters"),
        ("my topic", "letters, digits"),
        ("tôpic", "letters, digits"),
        ("https://ntfy.example.com/", "no topic"),
        ("ftp://ntfy.example.com/alerts", "http:// or https://"),
        ("https://user:pw@ntfy.example.com/alerts", "user name or password"),
        ("https://ntfy.example.com/alerts?x=1", "query or fragment"),
        ("https://ntfy.example.com:99999/alerts", "not a valid URL"),
    ],
)
def test_a_bad_ntfy_address_is_refused_naming_the_problem(address: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        ntfy_target(address, default_server=DEFAULT)


def test_an_ntfy_token_is_kept_and_a_blank_one_is_none() -> None:
    assert ntfy_target("alerts", default_server=DEFAULT, token=f" {TOKEN} ").token == TOKEN
    assert ntfy_target("alerts", default_server=DEFAULT, token="  ").token is None


@pytest.mark.parametrize("token", ["short", "tk_with space inside", "tk_new\nline-injected"])
def test_a_malformed_ntfy_token_is_refused(token: str) -> None:
    with pytest.raises(ValidationError, match="access token"):
        ntfy_target("alerts", default_server=DEFAULT, token=token)


def test_a_webhook_needs_an_http_url_and_a_long_secret() -> None:
    target = webhook_target(" https://bots.example.com/hook?id=7 ", "s" * 16)
    assert (target.kind, target.url, target.token) == (
        ChannelKind.WEBHOOK,
        "https://bots.example.com/hook?id=7",
        "s" * 16,
    )
    with pytest.raises(ValidationError, match="16 to 256"):
        webhook_target("https://bots.example.com/hook", "s" * 15)
    with pytest.raises(ValidationError, match="http:// or https://"):
        webhook_target("javascript:alert(1)", "s" * 16)
    with pytest.raises(ValidationError, match="longer than 2048"):
        webhook_target("https://bots.example.com/" + "a" * 2048, "s" * 16)
    with pytest.raises(ValidationError, match="user name or password"):
        webhook_target("https://me:pw@bots.example.com/hook", "s" * 16)


@pytest.mark.parametrize(
    "url",
    [
        "json://127.0.0.1:8080/hook",
        "ntfy://ntfy.example.com/alerts",
        "tgram://123456789:AAbbCCddEEffGGhhIIjj/12345",
        "discord://1234567890/abcdefghijklmnop",
        "mailto://user:pw@example.com",
    ],
)
def test_any_url_apprise_understands_is_accepted(url: str) -> None:
    assert apprise_target(url) == Target(kind=ChannelKind.APPRISE, url=url)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "empty"),
        ("nosuchservice://host/path", "not an Apprise URL Apprise understands"),
        ("https://example.com/", "not an Apprise URL Apprise understands"),
        ("just text", "single URL"),
        ("json://a.example.com,json://b.example.com", "single URL"),
    ],
)
def test_a_url_apprise_refuses_is_a_validation_error(url: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        apprise_target(url)


def test_a_refused_apprise_url_is_not_repeated_in_the_message() -> None:
    with pytest.raises(ValidationError) as refused:
        apprise_target(f"nosuchservice://admin:{PASSWORD}@host/path")
    assert PASSWORD not in str(refused.value)


def test_redaction_never_shows_a_token_a_password_or_a_whole_topic() -> None:
    topic = random_topic()
    ntfy = ntfy_target(topic, default_server=DEFAULT, token=TOKEN)
    webhook = webhook_target("https://bots.example.com/hooks/SECRETPATH?key=SECRETKEY", "s" * 20)
    apprise = apprise_target(f"json://admin:{PASSWORD}@127.0.0.1:8080/SECRETPATH")
    telegram = apprise_target("tgram://123456789:AAbbCCddEEffGGhhIIjjKK/12345")
    shown = {target: redact(target) for target in (ntfy, webhook, apprise, telegram)}
    assert shown[ntfy] == f"https://ntfy.sh/{topic[:4]}… (with token)"
    assert shown[webhook] == "https://bots.example.com/…"
    assert shown[apprise] == "json://admin:***@127.0.0.1:8080/…"
    assert shown[telegram].startswith("tgram://")
    for target, text in shown.items():
        for secret in (TOKEN, topic, PASSWORD, "SECRETPATH", "SECRETKEY", "AAbbCCddEEffGGhhIIjjKK"):
            assert secret not in text
            assert secret not in repr(target)


def test_random_topics_are_valid_and_unguessable() -> None:
    topics = {random_topic() for _ in range(200)}
    assert len(topics) == 200
    assert all(TOPIC.fullmatch(t) and len(t) >= 24 for t in topics)
    assert len(random_webhook_secret()) >= 32


@pytest.mark.parametrize(
    "target",
    [
        Target(ChannelKind.NTFY, "https://ntfy.sh", "alerts", TOKEN),
        Target(ChannelKind.WEBHOOK, "https://bots.example.com/hook", None, "s" * 16),
        Target(ChannelKind.APPRISE, "json://127.0.0.1/hook"),
        Target(ChannelKind.EMAIL, "trader@example.com"),
    ],
)
def test_a_target_survives_its_stored_json_form(target: Target) -> None:
    assert target_from_json(target_to_json(target)) == target


@pytest.mark.parametrize(
    "text",
    ["", "[]", '{"kind": "pager", "url": "x"}', '{"kind": "ntfy"}', '{"kind":"ntfy","url":1}'],
)
def test_a_damaged_stored_target_is_a_validation_error(text: str) -> None:
    with pytest.raises(ValidationError, match="stored notification target"):
        target_from_json(text)
