"""The whole purchase over HTTP, as the browser test will drive it: the app served on a port,
checkout to the local LemonSqueezy page, "Pay", the signed webhooks back to the app, and the
redirect to the return page; the account is Pro."""

from __future__ import annotations

import socket
import threading
import urllib.request
from collections.abc import Iterator
from urllib.error import HTTPError

import pytest
from flask import Flask
from sqlalchemy import Engine
from werkzeug.serving import make_server

from cryptolens import create_app
from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.domain.plans import Plan
from cryptolens.extensions import db
from cryptolens.services.accounts.subscriptions import plan_status
from cryptolens.services.ops.background import wait_for_background
from tests.builders.db import clear_tables
from tests.builders.payment_servers import LemonSqueezyServer
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import make_user, post_form, sign_in


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(settings: Settings, migrated_engine: Engine) -> Iterator[tuple[Flask, str]]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(make_settings(**(settings.model_dump() | {"public_url": base, "port": port})))
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, base
    server.shutdown()
    thread.join(timeout=5)
    wait_for_background()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    clear_tables(migrated_engine)


def test_paying_on_the_local_checkout_page_makes_the_account_pro(
    served: tuple[Flask, str], ls_server: LemonSqueezyServer
) -> None:
    app, base = served
    ls_server.webhook_url = f"{base}/payments/webhooks/lemonsqueezy"
    user = make_user(app, "buyer@example.com")
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    fields = {"plan": "pro", "period": "monthly", "provider": "lemonsqueezy"}
    checkout = post_form(client, "/payments/checkout", fields, form_path="/account/billing")
    page_url = checkout.headers["Location"]
    with urllib.request.urlopen(page_url, timeout=10) as page:  # noqa: S310
        assert 'id="pay"' in page.read().decode()
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(f"{page_url}/pay", data=b"", method="POST")  # noqa: S310
    with pytest.raises(HTTPError) as redirect:
        opener.open(request, timeout=10)
    redirect.value.close()
    assert redirect.value.code == 303
    assert redirect.value.headers["Location"].startswith(f"{base}/payments/return")
    with app.app_context():
        assert plan_status(db.session(), user_id=user.id, now=utcnow()).plan is Plan.PRO
    assert 'data-plan="pro"' in client.get("/account/billing").text
