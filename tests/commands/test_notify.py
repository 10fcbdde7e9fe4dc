from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cryptolens import create_app
from cryptolens.cli import cli
from cryptolens.extensions import db
from cryptolens.services.notifications.channels import list_channels
from tests.builders.cli import Invoke
from tests.builders.notifications import NOW, add_notification, add_user
from tests.builders.notify_servers import NtfyServer, WebhookServer
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import Mailbox


@pytest.fixture
def notify(
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    ntfy_server: NtfyServer,
    smtp_server: tuple[object, int],
) -> Iterator[Invoke]:
    """``cryptolens ARGS`` in-process, ntfy's default server and SMTP the local ones."""
    apps: list[Flask] = []

    def run(*args: str) -> Result:
        settings = make_settings(
            database_url=database_url,
            instance_dir=tmp_path / "instance",
            ntfy_default_url=ntfy_server.url,
            smtp_host="127.0.0.1",
            smtp_port=smtp_server[1],
            smtp_security="none",
        )
        app = create_app(settings)
        apps.append(app)
        with app.app_context():
            return app.test_cli_runner().invoke(cli, args=["notify", *args])

    yield run
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_channel_then_test_sends_through_ntfy(
    notify: Invoke, engine: Engine, ntfy_server: NtfyServer
) -> None:
    add_user(engine, "ann@x.test")
    set_ = notify("channel", "--email", "ANN@x.test", "--ntfy", "ann-alerts")
    assert set_.exit_code == 0, set_.output
    assert set_.output.startswith(f"ntfy channel on: {ntfy_server.url}/ann-…")
    sent = notify("test", "--email", "ann@x.test")
    assert sent.exit_code == 0, sent.output
    assert "sent" in sent.output
    assert ntfy_server.messages()[0]["topic"] == "ann-alerts"


def test_a_failing_test_exits_non_zero_with_the_reason(
    notify: Invoke, engine: Engine, ntfy_server: NtfyServer
) -> None:
    add_user(engine, "bob@x.test")
    assert notify("channel", "--email", "bob@x.test", "--ntfy", "bob-alerts").exit_code == 0
    ntfy_server.fail_next(401)
    result = notify("test", "--email", "bob@x.test", "--channel", "ntfy")
    assert result.exit_code == 1
    assert "not sent: HTTP 401" in result.output
    listed = notify("deliveries")
    assert listed.exit_code == 0
    assert "bob@x.test" in listed.output
    assert "failed" in listed.output
    assert "HTTP 401" in listed.output


def test_webhook_prints_its_secret_once_and_email_test_arrives(
    notify: Invoke, engine: Engine, webhook_server: WebhookServer, mailbox: Mailbox
) -> None:
    user = add_user(engine, "cy@x.test")
    hooked = notify("channel", "--email", "cy@x.test", "--webhook", webhook_server.url)
    assert hooked.exit_code == 0, hooked.output
    assert "webhook secret (shown once): " in hooked.output
    assert notify("test", "--email", "cy@x.test", "--channel", "webhook").exit_code == 0
    assert len(webhook_server.requests) == 1
    mailed = notify("channel", "--email", "cy@x.test", "--email-channel", "--digest")
    assert mailed.output.strip() == "email channel on: cy@x.test, digest"
    assert notify("test", "--email", "cy@x.test", "--channel", "email").exit_code == 0
    assert mailbox.wait_for("cy@x.test")["Subject"] == "CryptoLens test"
    off = notify("channel", "--email", "cy@x.test", "--off", "webhook")
    assert off.output.startswith("webhook channel off")
    with Session(engine) as session:
        views = list_channels(session, user_id=user)
    assert {v.kind.value: v.enabled for v in views if v.configured} == {
        "webhook": False,
        "email": True,
    }


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("channel", "--email", "nobody@x.test", "--ntfy", "t"), "no user with the email"),
        (("channel", "--email", "dee@x.test", "--webhook", "not a url"), "webhook URL"),
        (("channel", "--email", "dee@x.test", "--ntfy", "bad topic!"), "ntfy topic"),
        (("channel", "--email", "dee@x.test", "--apprise", "zzz://x"), "Apprise URL"),
        (("channel", "--email", "dee@x.test"), "exactly one of"),
        (("test", "--email", "dee@x.test", "--channel", "apprise"), "No apprise channel"),
    ],
)
def test_bad_input_is_one_line_naming_the_problem(
    notify: Invoke, engine: Engine, args: tuple[str, ...], problem: str
) -> None:
    add_user(engine, "dee@x.test")
    result = notify(*args)
    assert result.exit_code == 2
    assert problem in result.output
    assert "Traceback" not in result.output


def test_deliveries_of_one_signal(notify: Invoke, engine: Engine) -> None:
    assert notify("deliveries").output.strip() == "no deliveries"
    user = add_user(engine, "eve@x.test")
    assert notify("channel", "--email", "eve@x.test", "--ntfy", "eve-alerts").exit_code == 0
    [delivery_id] = add_notification(engine, user, deliver_after=NOW)
    lines = notify("deliveries", "--limit", "5").output.splitlines()
    assert lines[0].split() == ["id", "user", "kind", "status", "tries", "last", "error"]
    assert lines[1].split() == [str(delivery_id), "eve@x.test", "ntfy", "pending", "0"]
    assert notify("deliveries", "--signal", "42").output.strip() == "no deliveries"
