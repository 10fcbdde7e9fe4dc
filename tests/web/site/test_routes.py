"""The public pages: the landing page for signed-out visitors (chart and track record), the
pricing page from the plans and the price settings, terms and privacy (an operator's own
copies in the instance folder win), and pricing gone with PLANS_ENABLED=false."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from cryptolens import create_app
from cryptolens.config import Settings
from cryptolens.extensions import cache, db
from tests.builders.payment_servers import LemonSqueezyServer, NowPaymentsServer, with_payments
from tests.web.accounts_helpers import make_user, sign_in, signed_in_client
from tests.web.seeding import add_signal, add_symbol, seed_btc_demo


def test_a_signed_out_visitor_gets_the_landing_page_with_a_chart_of_stored_candles(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        seed_btc_demo(db.session, hours=300)
        db.session.commit()
    page = client.get("/")
    assert page.status_code == 200
    assert 'id="landing-register"' in page.text
    svg = page.text.split('<svg class="sample-chart"', 1)[1].split("</svg>", 1)[0]
    assert svg.count("<line ") == 60  # one wick per candle
    assert 1 <= svg.count('class="zone"') <= 4
    assert "BTC/USDT · 4h" in page.text
    assert "<script" not in page.text


def test_the_landing_page_shows_the_public_track_record(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        btc = add_symbol(db.session, "BTC/USDT")
        for r in (2.0, -1.0, 1.0):
            add_signal(db.session, symbol_id=btc, status="closed", outcome="tp1", r_multiple=r)
        db.session.commit()
    page = client.get("/").text
    assert re.search(r'id="record-trades">3<', page)
    assert re.search(r'id="record-win-rate">66.7%<', page)
    assert re.search(r'id="record-expectancy">\+0.67R<', page)


def test_the_landing_figures_are_rendered_once_a_minute_for_every_visitor(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        btc = add_symbol(db.session, "BTC/USDT")
        add_signal(db.session, symbol_id=btc, status="closed", outcome="tp1", r_multiple=1.0)
        db.session.commit()
    assert re.search(r'id="record-trades">1<', client.get("/").text)
    with app.app_context():
        add_signal(db.session, symbol_id=btc, status="closed", outcome="stop", r_multiple=-1.0)
        db.session.commit()
    # Another visitor within the minute: the same rendered figures, no new queries.
    assert re.search(r'id="record-trades">1<', app.test_client().get("/").text)
    with app.app_context():
        cache.clear()
    assert re.search(r'id="record-trades">2<', client.get("/").text)


def test_without_data_the_landing_page_says_so(client: FlaskClient) -> None:
    page = client.get("/").text
    assert "once the first candles are stored" in page
    assert "No signal has closed yet" in page


def test_signed_in_users_keep_the_dashboard_and_unverified_ones_verify_first(
    app: Flask,
) -> None:
    verified = signed_in_client(app, "reader@example.com")
    assert 'id="landing-register"' not in verified.get("/").text
    unverified = app.test_client()
    assert sign_in(unverified, make_user(app, "new@example.com", verified=False)).status_code
    answer = unverified.get("/")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/auth/verify-pending")


def test_pricing_lists_every_plan_with_prices_from_the_settings(
    settings: Settings, ls_server: LemonSqueezyServer, np_server: NowPaymentsServer
) -> None:
    configured = with_payments(settings, ls_server, np_server).model_copy(
        update={"price_pro_monthly": "23", "price_premium_yearly": "777"}
    )
    app = create_app(configured)
    page = app.test_client().get("/pricing")
    assert page.status_code == 200
    assert list(re.findall(r'id="plan-(\w+)"', page.text)) == ["free", "pro", "premium"]
    assert "23 USD" in page.text
    assert "777 USD" in page.text
    assert "Backtests over up to 3 years" in page.text
    # Signed out: no buy button, a way to register and sign in instead.
    assert "/payments/checkout" not in page.text
    assert 'id="register-pro"' in page.text
    assert "/auth/login?next=/pricing" in page.text
    with app.app_context():
        db.engine.dispose()


def test_signed_in_pricing_posts_each_plan_and_period_to_checkout(
    settings: Settings, ls_server: LemonSqueezyServer, np_server: NowPaymentsServer
) -> None:
    app = create_app(with_payments(settings, ls_server, np_server))
    client = signed_in_client(app, "buyer@example.com")
    page = client.get("/pricing").text
    forms = re.findall(
        r'<form method="post" action="/payments/checkout" class="buy" '
        r'data-plan="(\w+)" data-period="(\w+)"',
        page,
    )
    assert forms == [
        ("pro", "monthly"),
        ("pro", "yearly"),
        ("premium", "monthly"),
        ("premium", "yearly"),
    ]
    assert 'id="buy-pro-monthly-lemonsqueezy"' in page
    assert 'id="buy-premium-yearly-nowpayments"' in page
    assert 'name="csrf_token"' in page
    # The buy buttons' redirect goes to the providers' pages: this page's CSP allows them.
    policy = client.get("/pricing").headers["Content-Security-Policy"]
    assert f"form-action 'self' {ls_server.url} {np_server.url};" in policy
    assert "form-action 'self';" in client.get("/account/").headers["Content-Security-Policy"]
    with app.app_context():
        db.engine.dispose()


def test_pricing_without_configured_providers_sells_nothing(app: Flask) -> None:
    client = signed_in_client(app, "early@example.com")
    page = client.get("/pricing")
    assert page.status_code == 200
    assert "/payments/checkout" not in page.text
    assert "Payments are not open yet." in page.text
    assert "form-action 'self';" in page.headers["Content-Security-Policy"]


def test_plans_off_hides_pricing_everywhere(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"plans_enabled": False}))
    client = app.test_client()
    assert client.get("/pricing").status_code == 404
    for path in ("/", "/terms", "/auth/login"):
        assert "/pricing" not in client.get(path).text, path
    with app.app_context():
        db.engine.dispose()


def test_terms_and_privacy_are_public_and_shipped_as_placeholders(client: FlaskClient) -> None:
    terms, privacy = client.get("/terms"), client.get("/privacy")
    assert terms.status_code == privacy.status_code == 200
    assert "<h1>Terms of use</h1>" in terms.text
    assert "<h1>Privacy</h1>" in privacy.text
    assert "placeholder" in terms.text


def test_an_operator_replaces_the_legal_pages_from_the_instance_folder(
    settings: Settings,
) -> None:
    folder = settings.instance_dir / "legal"
    folder.mkdir(parents=True)
    (folder / "terms.html").write_text("<h1>ACME terms</h1><p>{{ 2 + 2 }} rules.</p>")
    app = create_app(settings)
    client = app.test_client()
    terms = client.get("/terms").text
    assert "<h1>ACME terms</h1><p>4 rules.</p>" in terms
    assert "placeholder" not in terms
    assert "placeholder" in client.get("/privacy").text  # not replaced: the shipped one
    # Only legal/ is looked up there: other templates cannot be shadowed.
    (settings.instance_dir / "legal" / "base.html").write_text("shadow")
    assert "shadow" not in client.get("/privacy").text
    with app.app_context():
        db.engine.dispose()
