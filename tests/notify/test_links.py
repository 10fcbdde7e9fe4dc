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
        }
    for link, path in expected.items():
        assert link == "https://lens.example.com" + path
