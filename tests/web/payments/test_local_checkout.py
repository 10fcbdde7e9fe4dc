"""The whole purchase over HTTP, as the browser test will drive it: the app served on a port,
checkout to the local LemonSqueezy page, "Pay", the signed webhooks back to the app, and the
redirect to the return page; the account is Pro."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from urllib.error import HTTPError

import pytest
from flask import Flask
from sqlalchemy import Engine

from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.domain.plans import Plan
from cryptolens.extensions import db
from cryptolens.services.accounts.subscriptions import plan_status
from tests.builders.browser import public_app
from tests.builders.payment_servers import LemonSqueezyServer
from tests.web.accounts_helpers import make_user, post_form, sign_in


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.fixture
def served(settings: Settings, migrated_engine: Engine) -> Iterator[tuple[Flask, str]]:
    with public_app(settings, migrated_engine) as served:
        yield served


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
