from __future__ import annotations

from flask import Flask, url_for

from cryptolens.notify.links import PublicLinks


def test_public_links_point_at_the_routes_that_serve_them(app: Flask) -> None:
    links = PublicLinks("https://lens.example.com")
    with app.test_request_context():
        expected = {
            links.verify("t0k-En_1"): url_for("auth.verify", token="t0k-En_1"),
            links.reset("t0k"): url_for("auth.reset", token="t0k"),
            links.confirm_email("t0k"): url_for("account.confirm_email", token="t0k"),
            links.forgot(): url_for("auth.forgot"),
            links.two_factor(): url_for("account.two_factor"),
            links.signal(42): url_for("signals.detail", signal_id=42),
            links.chart("BTC/USDT", "4h"): url_for(
                "symbols.chart", symbol="BTC/USDT", timeframe="4h"
            ),
        }
    for link, path in expected.items():
        assert link == "https://lens.example.com" + path


def test_notification_history_link_is_the_account_notifications_page() -> None:
    links = PublicLinks("https://lens.example.com")
    assert links.notifications() == "https://lens.example.com/account/notifications"
