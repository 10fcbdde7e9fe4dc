"""The admin broadcast page: admins only; a broadcast to one plan reaches that plan's channels
(the job runs in a thread without Redis) and is listed with its recipient count."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from cryptolens.services.ops.background import wait_for_background
from tests.builders.notify_servers import NtfyServer
from tests.web.accounts_helpers import make_user, post_form, sign_in, signed_in_client

PAGE = "/admin/broadcast"


def _with_ntfy(app: Flask, email: str, plan: str | None, server: NtfyServer) -> FlaskClient:
    client = app.test_client()
    sign_in(client, make_user(app, email, plan=plan))
    data = {"server": server.url, "topic": email.split("@")[0]}
    saved = post_form(
        client, "/account/notifications/channels/ntfy", data, form_path="/account/notifications"
    )
    assert saved.status_code == 302
    return client


def test_only_admins_open_or_send_a_broadcast(app: Flask) -> None:
    pro = signed_in_client(app, "pro@example.com", plan="pro")
    assert pro.get(PAGE).status_code == 403
    data = {"audience": "all", "title": "Hi", "body": "Hello"}
    assert post_form(pro, PAGE, data, form_path="/account/").status_code == 403
    admin = signed_in_client(app, "admin@example.com", admin=True)
    assert "No broadcast yet" in admin.get(PAGE).text


def test_a_broadcast_to_pro_reaches_pro_channels_only_and_is_listed(
    app: Flask, ntfy_server: NtfyServer
) -> None:
    _with_ntfy(app, "pro-reader@example.com", "pro", ntfy_server)
    _with_ntfy(app, "free-reader@example.com", None, ntfy_server)
    admin = signed_in_client(app, "admin@example.com", admin=True)
    data = {"audience": "pro", "title": "Maintenance", "body": "Back at 10:00."}
    assert post_form(admin, PAGE, data, form_path=PAGE).status_code == 302
    ntfy_server.wait_for(1)
    wait_for_background()
    assert [m["topic"] for m in ntfy_server.messages()] == ["pro-reader"]
    row = admin.get(PAGE).text.split('id="broadcasts"', 1)[1]
    assert "Maintenance" in row
    assert '<td class="num">1</td>' in row
    log = admin.get("/admin/audit").text
    assert "<td>broadcast.send</td>" in log
    assert "{&#34;audience&#34;: &#34;pro&#34;}" in log


def test_a_bad_broadcast_is_a_400_with_the_reason(app: Flask) -> None:
    admin = signed_in_client(app, "admin@example.com", admin=True)
    data = {"audience": "martians", "title": "Hi", "body": "Hello"}
    answer = post_form(admin, PAGE, data, form_path=PAGE)
    assert answer.status_code == 400
    assert "audience" in answer.text
    assert 'value="Hi"' in answer.text  # the form keeps what was typed
