"""Bad input is a 4xx with a message, never a 500: NUL bytes (which PostgreSQL refuses in
text), Unicode digits, numbers too long for int() or for a 64-bit column, CR/LF in ``next``.

The database ones run on PostgreSQL and MariaDB too (``TEST_DATABASE_URL=... pytest -m db``).
"""

from __future__ import annotations

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from cryptolens.db.symbols import split_symbol
from cryptolens.domain.errors import ValidationError
from cryptolens.extensions import db
from tests.web.accounts_helpers import make_user, post_form, sign_in, signed_in_client
from tests.web.seeding import add_symbol

HUGE_ID = "9" * 25  # beyond 64 bits
FIVE_THOUSAND_DIGITS = "1" * 5000
NUL_EMAIL = "nul\x00@example.com"
FULLWIDTH_12 = "\uff11\uff12"  # int() reads it as 12
FULLWIDTH_CODE = "\uff11\uff12\uff13\uff14\uff15\uff16"  # str.isdigit() is True


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    return signed_in_client(app, "boss@example.com", admin=True)


@pytest.mark.parametrize(
    ("path", "form_path"),
    [
        ("/auth/login", "/auth/login"),
        ("/auth/register", "/auth/register"),
        ("/auth/forgot", "/auth/forgot"),
    ],
)
def test_a_nul_byte_in_an_email_is_a_400(client: FlaskClient, path: str, form_path: str) -> None:
    answer = post_form(
        client, path, {"email": NUL_EMAIL, "password": "long enough password"}, form_path=form_path
    )
    assert answer.status_code == 400
    assert "NUL character" in answer.text


@pytest.mark.parametrize(
    "path",
    [
        "/api/chart/candles?symbol=BTC%00/USDT",
        "/api/chart/zones?symbol=BTC/US%00DT",
        "/symbols/BTC%00/USDT",
        "/signals?symbol=BTC%00/USDT",
        "/patterns?symbol=BTC%00/USDT",
    ],
)
def test_a_nul_byte_in_a_symbol_is_a_400(app: Flask, premium: FlaskClient, path: str) -> None:
    with app.app_context():
        add_symbol(db.session, "BTC/USDT")
        db.session.commit()
    answer = premium.get(path)
    assert answer.status_code == 400
    assert "NUL character" in answer.text


def test_a_nul_byte_in_an_admin_setting_is_a_400(admin: FlaskClient) -> None:
    answer = post_form(
        admin, "/admin/settings", {"key": "motd", "value": "hi\x00"}, form_path="/admin/settings"
    )
    assert answer.status_code == 400
    assert "NUL character" in answer.text


def test_a_nul_byte_in_a_symbol_is_refused_before_any_query() -> None:
    with pytest.raises(ValidationError, match="BASE/QUOTE"):
        split_symbol("BTC\x00/USDT")


@pytest.mark.parametrize("kind", ["candles", "zones", "signals"])
@pytest.mark.parametrize(
    "limit", ["²", FULLWIDTH_12, FIVE_THOUSAND_DIGITS, "-" + FIVE_THOUSAND_DIGITS]
)
def test_a_chart_limit_that_is_not_a_plain_number_is_a_400_envelope(
    premium: FlaskClient, kind: str, limit: str
) -> None:
    answer = premium.get(f"/api/chart/{kind}", query_string={"symbol": "BTC/USDT", "limit": limit})
    assert answer.status_code == 400
    assert answer.json is not None
    assert "limit" in answer.json["error"]


def test_a_list_page_number_in_unicode_digits_is_a_400(premium: FlaskClient) -> None:
    assert premium.get("/signals", query_string={"page": "²"}).status_code == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/signals/{HUGE_ID}"),
        ("GET", f"/signals/{FIVE_THOUSAND_DIGITS}"),
        ("POST", f"/admin/users/{HUGE_ID}/active"),
        ("POST", f"/admin/users/{HUGE_ID}/subscription"),
    ],
)
def test_an_id_beyond_64_bits_is_a_404(admin: FlaskClient, method: str, path: str) -> None:
    token = post_form  # the CSRF check comes first for POSTs: send a valid token
    if method == "GET":
        answer = admin.get(path)
    else:
        answer = token(admin, path, {"days": "30", "plan": "pro"}, form_path="/admin/users")
    assert answer.status_code == 404


@pytest.mark.parametrize("days", ["²", FULLWIDTH_12, FIVE_THOUSAND_DIGITS])
def test_admin_subscription_days_that_are_not_a_plain_number_are_a_400(
    app: Flask, admin: FlaskClient, days: str
) -> None:
    user = make_user(app, "member@example.com")
    answer = post_form(
        admin,
        f"/admin/users/{user.id}/subscription",
        {"days": days, "plan": "pro"},
        form_path="/admin/users",
    )
    assert answer.status_code == 400
    assert "Days must be a whole number" in answer.text


@pytest.mark.parametrize(
    "target",
    ["/\r\nSet-Cookie: stolen=1", "/\n/evil.example", "/\t/evil.example", "/%0d%0a"],
)
def test_next_with_control_characters_goes_to_the_dashboard(app: Flask, target: str) -> None:
    user = make_user(app, "next-crlf@example.com")
    answer = post_form(
        app.test_client(),
        "/auth/login",
        {"email": user.email, "password": user.password, "next": target},
    )
    assert answer.status_code == 302
    expected = target if target == "/%0d%0a" else "/"
    assert answer.headers["Location"] == expected
    assert "stolen" not in answer.headers.get("Set-Cookie", "")


def test_unicode_digits_as_a_second_factor_code_are_a_400(app: Flask) -> None:
    user = make_user(app, "fullwidth@example.com")
    browser = app.test_client()
    sign_in(browser, user)
    post_form(browser, "/account/two-factor/setup", form_path="/account/two-factor")
    setup = browser.get("/account/two-factor").text
    secret = setup.split('<code class="secret">')[1].split("</code>")[0]
    post_form(
        browser,
        "/account/two-factor/confirm",
        {"code": pyotp.TOTP(secret).now()},
        form_path="/account/two-factor",
    )
    fresh = app.test_client()
    assert sign_in(fresh, user).headers["Location"] == "/auth/two-factor"
    answer = post_form(
        fresh, "/auth/two-factor", {"code": FULLWIDTH_CODE}, form_path="/auth/two-factor"
    )
    assert answer.status_code == 400
    assert "not valid" in answer.text
