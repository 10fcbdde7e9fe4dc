"""Every route of the app, for every kind of visitor: the expected status.

A route in ``app.url_map`` without a row here fails the test, and so does a row whose route
is gone: adding a route means adding one line below.

Rules for market pages:
- "/" is the landing page for signed-out visitors (200) and the dashboard for verified users;
  pricing, terms and privacy are public;
- dashboard, symbol chart, stats and the edge report: every signed-in, verified user
  (``verified``); Free sees only BTC/USDT and FVG zones there (``test_tiers.py``);
- patterns and signals pages and a signal's page: follow the plan (``by_plan``: Free gets a
  403 upgrade page; Pro sees the newest 100 zones / 50 signals, ``test_tiers.py``);
- /api/chart/* and /api/live/toasts: JSON for the pages' scripts (``chart_api``): anonymous
  401, unverified 403, both in the envelope, never a redirect;
- /api/health, /live, /ready, /static and /vendor: public;
- /backtests pages follow the plan (``by_plan``: Free and Pro 403); each signed-in visitor
  opens their own queued run (``{run}``), and the "other owner" column is a Premium user on
  someone else's run without its share link: 404 (share links: tests/web/backtests);
- /portfolio pages follow the plan (``by_plan``: Free 403); each signed-in visitor acts on
  their own portfolio, trades and journal entry (``{portfolio}``, ``{open_trade}``…), and the
  "other owner" column is a Premium user on someone else's: 404, as if it did not exist.
Anonymous visitors of a page are redirected (302) to sign in; of /api get a 401 envelope;
unverified users are redirected to "verify your email".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from cryptolens.extensions import db
from tests.builders.backtests_web import queued_run
from tests.builders.portfolio_web import Seeded, seed_portfolio
from tests.web.accounts_helpers import Person, csrf_token, make_user, sign_in
from tests.web.seeding import add_pattern, add_signal, add_symbol

ACTORS = ("anonymous", "unverified", "free", "pro", "premium", "admin")
OTHER = "other_users_object"  # a premium user, on an object that belongs to someone else


def _row(*statuses: int, other: int | None = None) -> dict[str, int | None]:
    return {**dict(zip(ACTORS, statuses, strict=True)), OTHER: other}


def public(ok: int = 200) -> dict[str, int | None]:
    return _row(ok, ok, ok, ok, ok, ok)


def verified(ok: int = 200) -> dict[str, int | None]:
    return _row(302, 302, ok, ok, ok, ok)


def by_plan(ok: int = 200, *, other: int | None = None) -> dict[str, int | None]:
    """Patterns, signals and portfolio pages: Free sees a 403 page with an upgrade link."""
    return _row(302, 302, 403, ok, ok, ok, other=other)


def premium_only(ok: int = 200, *, other: int | None = None) -> dict[str, int | None]:
    """Backtest pages: Free and Pro see a 403 page with an upgrade link."""
    return _row(302, 302, 403, 403, ok, ok, other=other)


def chart_api(ok: int = 200, *, other: int | None = None) -> dict[str, int | None]:
    """JSON read with the session cookie: 401 signed out, 403 unverified (envelopes)."""
    return _row(401, 403, ok, ok, ok, ok, other=other)


def api_by_plan(ok: int = 200, *, other: int | None = None) -> dict[str, int | None]:
    """API v1 lists by cookie: the page rule, in envelopes (Free 403 naming the plan)."""
    return _row(401, 403, 403, ok, ok, ok, other=other)


def api_admin(ok: int = 200) -> dict[str, int | None]:
    """API v1 admin endpoints by cookie: 403 envelopes for everyone but administrators."""
    return _row(401, 403, 403, 403, 403, ok)


def api_premium(ok: int = 200) -> dict[str, int | None]:
    """API v1 backtests by cookie: Premium and admins only (403 envelopes naming the plan)."""
    return _row(401, 403, 403, 403, ok, ok)


def admin(ok: int = 200, *, other: int | None = None) -> dict[str, int | None]:
    return _row(302, 302, 403, 403, 403, ok, other=other)


def signed_in(unverified: int, verified_: int) -> dict[str, int | None]:
    return _row(302, unverified, verified_, verified_, verified_, verified_)


@dataclass(frozen=True)
class Route:
    # {me} is the actor's own user id, {other} another user's, {signal} a signal; {portfolio},
    # {open_trade}, {closed_trade}, {exit_fill} and {entry} the visitor's own portfolio rows
    # (the object owner's in the "other owner" column).
    path: str
    expect: dict[str, int | None]
    data: dict[str, str] = field(default_factory=dict)


BY_PLAN = by_plan
P = "/portfolio/{portfolio}"
T = "/portfolio/trades/{open_trade}"
AP = "/api/v1/portfolios/{portfolio}"
B = "/backtests/{run}"
VENDOR_FILE = "lightweight-charts.standalone.production.js"

ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "static"): Route("/static/css/app.css", public()),
    ("GET", "api.health"): Route("/api/health", public()),
    ("GET", "api.live"): Route("/api/health/live", public()),
    ("GET", "api.ready"): Route("/api/health/ready", public()),
    # Neither METRICS_TOKEN nor METRICS_ALLOW set (the default): as if it did not exist;
    # the token and address rules are in test_metrics.py.
    ("GET", "metrics.scrape"): Route("/metrics", public(404)),
    # Signed out: the public landing page; unverified: "verify your email" as elsewhere.
    ("GET", "dashboard.index"): Route("/", _row(200, 302, 200, 200, 200, 200)),
    ("GET", "site.pricing"): Route("/pricing", public()),
    ("GET", "site.terms"): Route("/terms", public()),
    ("GET", "site.privacy"): Route("/privacy", public()),
    ("GET", "patterns.index"): Route("/patterns", BY_PLAN()),
    ("GET", "signals.index"): Route("/signals", BY_PLAN()),
    ("GET", "signals.detail"): Route("/signals/{signal}", BY_PLAN()),
    ("GET", "symbols.chart"): Route("/symbols/BTC/USDT", verified()),
    ("GET", "symbols.vendor"): Route(f"/vendor/{VENDOR_FILE}", public()),
    ("GET", "stats.index"): Route("/stats", verified()),
    ("GET", "edge.index"): Route("/edge", verified()),
    ("GET", "api.candles"): Route("/api/chart/candles?symbol=BTC/USDT", chart_api()),
    ("GET", "api.zones"): Route("/api/chart/zones?symbol=BTC/USDT", chart_api()),
    ("GET", "api.signals"): Route("/api/chart/signals?symbol=BTC/USDT", chart_api()),
    ("GET", "api.toasts"): Route("/api/live/toasts", chart_api()),
    ("GET", "api.docs"): Route("/api/docs", public()),
    ("GET", "api_v1.openapi"): Route("/api/v1/openapi.json", public()),
    # API v1 with the session cookie (keys: tests/web/api): the pages' plan rules.
    ("GET", "api_v1.symbols"): Route("/api/v1/symbols", chart_api()),
    ("POST", "api_v1.add_symbol"): Route("/api/v1/symbols", api_admin(400)),
    ("DELETE", "api_v1.remove_symbol"): Route("/api/v1/symbols/BTC/USDT", api_admin()),
    ("GET", "api_v1.candles"): Route("/api/v1/candles?symbol=BTC/USDT", chart_api()),
    ("GET", "api_v1.matrix"): Route("/api/v1/matrix", chart_api()),
    ("GET", "api_v1.patterns"): Route("/api/v1/patterns", api_by_plan()),
    ("GET", "api_v1.signals"): Route("/api/v1/signals", api_by_plan()),
    ("GET", "api_v1.signal"): Route("/api/v1/signals/{signal}", api_by_plan()),
    ("GET", "api_v1.record"): Route("/api/v1/track-record", chart_api()),
    ("GET", "api_v1.account"): Route("/api/v1/account", chart_api()),
    ("POST", "api_v1.scan"): Route("/api/v1/scan", chart_api(400)),
    ("POST", "api_v1.fetch"): Route("/api/v1/fetch", chart_api(400)),
    ("GET", "api_v1.scheduler_jobs"): Route("/api/v1/scheduler/jobs", api_admin()),
    ("POST", "api_v1.run_job"): Route("/api/v1/scheduler/jobs/cleanup/run", api_admin(409)),
    ("GET", "api_v1.list_portfolios"): Route("/api/v1/portfolios", api_by_plan()),
    ("POST", "api_v1.create_portfolio"): Route("/api/v1/portfolios", chart_api(400)),
    ("GET", "api_v1.get_portfolio"): Route(AP, api_by_plan(other=404)),
    ("GET", "api_v1.list_trades"): Route(f"{AP}/trades", api_by_plan(other=404)),
    # A form body is refused (JSON only) before any id is looked at.
    ("POST", "api_v1.create_trade"): Route(f"{AP}/trades", chart_api(400, other=400)),
    ("POST", "api_v1.add_fill"): Route(
        f"{AP}/trades/{{open_trade}}/fills", chart_api(400, other=400)
    ),
    ("GET", "api_v1.export_portfolio"): Route(f"{AP}/export", api_by_plan(other=404)),
    # A form body is refused (JSON only) before the plan is looked at, as for portfolios.
    ("POST", "api_v1.create_backtest"): Route("/api/v1/backtests", chart_api(400)),
    ("GET", "api_v1.list_backtests"): Route("/api/v1/backtests", api_premium()),
    # No such run: 404 for whoever may read runs at all.
    ("GET", "api_v1.get_backtest"): Route("/api/v1/backtests/999999", api_premium(404)),
    ("GET", "backtests.index"): Route("/backtests", premium_only()),
    # No fields: 400 naming the missing date.
    ("POST", "backtests.create"): Route("/backtests", premium_only(400)),
    ("GET", "backtests.run"): Route(B, premium_only(other=404)),
    ("GET", "backtests.status"): Route(f"{B}/status", premium_only(other=404)),
    ("GET", "backtests.trades_csv"): Route(f"{B}/trades.csv", premium_only(other=404)),
    ("POST", "backtests.share"): Route(f"{B}/share", premium_only(302, other=404)),
    ("POST", "backtests.unshare"): Route(f"{B}/unshare", premium_only(302, other=404)),
    ("GET", "portfolio.index"): Route("/portfolio", BY_PLAN()),
    ("POST", "portfolio.create"): Route("/portfolio", BY_PLAN(400)),
    ("GET", "portfolio.detail"): Route(P, BY_PLAN(other=404)),
    ("GET", "portfolio.edit"): Route(f"{P}/edit", BY_PLAN(other=404)),
    # No fields: 400 naming the name; another owner's portfolio: 404 all the same.
    ("POST", "portfolio.update"): Route(f"{P}/edit", BY_PLAN(400, other=404)),
    ("POST", "portfolio.delete"): Route(f"{P}/delete", BY_PLAN(302, other=404)),
    ("GET", "portfolio.analytics"): Route(f"{P}/analytics", BY_PLAN(other=404)),
    ("GET", "portfolio.export_csv"): Route(f"{P}/trades.csv", BY_PLAN(other=404)),
    # No file chosen: 400 naming it; another owner's portfolio: 404 all the same.
    ("POST", "portfolio.import_csv"): Route(f"{P}/import", BY_PLAN(400, other=404)),
    ("POST", "portfolio.add_entry"): Route(
        f"{P}/journal", BY_PLAN(302, other=404), {"day": "2025-03-03", "body": "Calm day."}
    ),
    ("POST", "portfolio.delete_entry"): Route(
        "/portfolio/journal/{entry}/delete", BY_PLAN(302, other=404)
    ),
    ("GET", "portfolio.new_trade"): Route("/portfolio/trades/new", BY_PLAN()),
    ("POST", "portfolio.create_trade"): Route("/portfolio/trades", BY_PLAN(400)),
    ("GET", "portfolio.trade"): Route(T, BY_PLAN(other=404)),
    ("POST", "portfolio.update_trade"): Route(T, BY_PLAN(400, other=404)),
    ("POST", "portfolio.add_fill"): Route(f"{T}/fills", BY_PLAN(400, other=404)),
    ("POST", "portfolio.remove_fill"): Route(
        "/portfolio/trades/{closed_trade}/fills/{exit_fill}/delete", BY_PLAN(302, other=404)
    ),
    ("POST", "portfolio.close_trade"): Route(
        f"{T}/close", BY_PLAN(302, other=404), {"price": "120", "at": "2025-03-04T09:00"}
    ),
    ("POST", "portfolio.delete_trade"): Route(f"{T}/delete", BY_PLAN(302, other=404)),
    ("GET", "auth.register"): Route("/auth/register", public()),
    ("POST", "auth.register"): Route("/auth/register", public(400)),
    ("GET", "auth.login"): Route("/auth/login", public()),
    ("POST", "auth.login"): Route("/auth/login", public(400)),
    ("GET", "auth.two_factor"): Route("/auth/two-factor", public(302)),
    ("POST", "auth.two_factor"): Route("/auth/two-factor", public(302)),
    ("POST", "auth.logout"): Route("/auth/logout", public(302)),
    ("GET", "auth.verify"): Route("/auth/verify/not-a-token", public(400)),
    ("GET", "auth.verify_pending"): Route("/auth/verify-pending", signed_in(200, 302)),
    ("POST", "auth.resend_verification"): Route("/auth/verify/resend", signed_in(200, 200)),
    ("GET", "auth.forgot"): Route("/auth/forgot", public()),
    # One address per visitor: reset requests are also limited per address (3 an hour).
    ("POST", "auth.forgot"): Route("/auth/forgot", public(), {"email": "x-{ip}@example.com"}),
    ("GET", "auth.reset"): Route("/auth/reset/not-a-token", public()),
    ("POST", "auth.reset"): Route("/auth/reset/not-a-token", public(400)),
    ("GET", "account.profile"): Route("/account/", verified()),
    ("POST", "account.profile"): Route("/account/", verified(302), {"timezone": "UTC"}),
    ("POST", "account.change_password"): Route("/account/password", verified(400)),
    ("POST", "account.change_email"): Route("/account/email", verified(400)),
    ("GET", "account.confirm_email"): Route("/account/email/confirm/not-a-token", public(400)),
    ("POST", "account.revoke_sessions"): Route("/account/sessions/revoke", verified()),
    ("POST", "account.revoke_one_session"): Route(
        "/account/sessions/not-a-session/revoke", verified(404)
    ),
    ("POST", "account.delete"): Route("/account/delete", verified(400)),
    ("GET", "account.two_factor"): Route("/account/two-factor", verified()),
    ("POST", "account.two_factor_setup"): Route("/account/two-factor/setup", verified()),
    ("POST", "account.two_factor_confirm"): Route("/account/two-factor/confirm", verified(400)),
    ("POST", "account.two_factor_backup_codes"): Route(
        "/account/two-factor/backup-codes", verified(400)
    ),
    ("POST", "account.two_factor_disable"): Route("/account/two-factor/disable", verified(400)),
    ("GET", "account.notifications"): Route("/account/notifications", verified()),
    # No channel set up: an empty ntfy form is refused, actions on the missing channel 404.
    ("POST", "account.save_channel"): Route("/account/notifications/channels/ntfy", verified(400)),
    ("POST", "account.disable_channel"): Route(
        "/account/notifications/channels/ntfy/disable", verified(404)
    ),
    ("POST", "account.resume_channel"): Route(
        "/account/notifications/channels/ntfy/resume", verified(404)
    ),
    ("POST", "account.test_channel"): Route(
        "/account/notifications/channels/ntfy/test", verified(404)
    ),
    ("POST", "account.save_alert_preferences"): Route(
        "/account/notifications/preferences",
        verified(302),
        {"directions": "bullish", "min_confluence": "1"},
    ),
    ("GET", "account.notification_history"): Route("/account/notifications/history", verified()),
    ("GET", "account.api_keys"): Route("/account/api-keys", verified()),
    # Keys need the Premium plan (or admin): a Premium form without scopes is a 400.
    ("POST", "account.create_api_key"): Route(
        "/account/api-keys", _row(302, 302, 403, 403, 400, 400)
    ),
    ("POST", "account.revoke_api_key"): Route("/account/api-keys/999999/revoke", verified(404)),
    ("POST", "account.rotate_api_key"): Route(
        "/account/api-keys/999999/rotate", _row(302, 302, 403, 403, 404, 404)
    ),
    ("GET", "account.billing"): Route("/account/billing", verified()),
    ("POST", "account.cancel_subscription"): Route(
        "/account/billing/subscriptions/999999/cancel", verified(404)
    ),
    # Payments: no provider is configured here, and no plan or provider is chosen (400).
    ("POST", "payments.checkout"): Route("/payments/checkout", verified(400)),
    ("GET", "payments.checkout_return"): Route("/payments/return?outcome=cancel", verified()),
    # Providers sign their webhooks instead of signing in: public, 404 while they are off.
    ("POST", "payments.webhook_lemonsqueezy"): Route(
        "/payments/webhooks/lemonsqueezy", public(404)
    ),
    ("POST", "payments.webhook_nowpayments"): Route("/payments/webhooks/nowpayments", public(404)),
    ("GET", "admin.index"): Route("/admin/", admin()),
    ("POST", "admin.quick_action"): Route("/admin/actions/clear_caches", admin(302)),
    ("GET", "admin.audit_log"): Route("/admin/audit", admin()),
    ("GET", "admin.queues_page"): Route("/admin/queues", admin()),
    # Without Redis a retry is refused with the reason, on the queues page (302 back).
    ("POST", "admin.queue_job"): Route("/admin/queues/jobs/abc/retry", admin(302)),
    ("GET", "admin.symbols"): Route("/admin/symbols", admin()),
    # An empty symbol is refused before the exchange is asked.
    ("POST", "admin.add_symbol"): Route("/admin/symbols", admin(400)),
    ("POST", "admin.symbol_active"): Route("/admin/symbols/999999/active", admin(404)),
    ("POST", "admin.purge_symbol"): Route("/admin/symbols/999999/purge", admin(404)),
    ("GET", "admin.settings"): Route("/admin/settings", admin()),
    ("POST", "admin.settings"): Route(
        "/admin/settings", admin(400), data={"scan_interval_seconds": "1"}
    ),
    ("GET", "admin.jobs"): Route("/admin/jobs", admin()),
    ("GET", "admin.broadcast_page"): Route("/admin/broadcast", admin()),
    ("GET", "admin.errors"): Route("/admin/errors", admin()),
    ("POST", "admin.resolve_error"): Route("/admin/errors/999999/resolve", admin(404)),
    ("POST", "admin.broadcast_page"): Route("/admin/broadcast", admin(400)),
    ("GET", "admin.users"): Route("/admin/users", admin()),
    ("GET", "admin.payments"): Route("/admin/payments?email=a&status=paid", admin()),
    ("GET", "admin.payment_events"): Route("/admin/payments/events", admin()),
    ("GET", "admin.subscriptions"): Route("/admin/subscriptions?state=active", admin()),
    # No email, plan or reason: 400 naming what is missing.
    ("POST", "admin.grant_plan"): Route("/admin/subscriptions/grant", admin(400)),
    ("POST", "admin.set_active"): Route("/admin/users/{other}/active", admin(302, other=403)),
    ("POST", "admin.subscribe"): Route("/admin/users/{other}/subscription", admin(400, other=403)),
    ("POST", "admin.mark_verified"): Route("/admin/users/{other}/verified", admin(302, other=403)),
    ("POST", "admin.resend_verification"): Route(
        "/admin/users/{other}/verification", admin(302, other=403)
    ),
}


def _app_routes(app: Flask) -> set[tuple[str, str]]:
    found = set()
    rule: Rule
    for rule in app.url_map.iter_rules():
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            found.add((method, rule.endpoint))
    return found


def test_every_route_of_the_app_has_a_row_and_every_row_a_route(app: Flask) -> None:
    routes = _app_routes(app)
    missing = sorted(routes - set(ROUTES))
    stale = sorted(set(ROUTES) - routes)
    assert not missing, f"add these routes to ROUTES: {missing}"
    assert not stale, f"these rows have no route any more: {stale}"


def _actors(app: Flask) -> dict[str, Person | None]:
    return {
        "anonymous": None,
        "unverified": make_user(app, "unverified@example.com", verified=False),
        "free": make_user(app, "free@example.com"),
        "pro": make_user(app, "pro@example.com", plan="pro"),
        "premium": make_user(app, "premium@example.com", plan="premium"),
        "admin": make_user(app, "admin@example.com", admin=True),
    }


def _market(app: Flask) -> int:
    """BTC/USDT with one zone and one (the newest) signal; returns the signal's id."""
    with app.app_context():
        symbol_id = add_symbol(db.session, "BTC/USDT")
        zone = add_pattern(db.session, symbol_id=symbol_id)
        signal_id = add_signal(db.session, symbol_id=symbol_id, patterns=(zone,)).id
        db.session.commit()
    return signal_id


def _visit(
    app: Flask,
    method: str,
    route: Route,
    who: Person | None,
    object_owner: Person,
    ip: str,
    *,
    signal_id: int,
    objects: dict[str, int],
) -> int:
    client: FlaskClient = app.test_client()
    if who is not None:
        assert sign_in(client, who).status_code == 302
    path = route.path.format(
        me=who.id if who else 0, other=object_owner.id, signal=signal_id, **objects
    )
    environ = {"REMOTE_ADDR": ip}
    if method == "GET":
        response = client.get(path, environ_base=environ)
    else:
        values = {name: value.replace("{ip}", ip) for name, value in route.data.items()}
        data = {"csrf_token": csrf_token(client), **values}
        response = client.open(path, method=method, data=data, environ_base=environ)
    response.close()  # static files are streamed from an open file
    return response.status_code


def _portfolios(
    app: Flask, route: Route, actors: dict[str, Person | None], owner: Person
) -> dict[str, Seeded]:
    """Each signed-in visitor's own portfolio rows, and the object owner's (``owner``), when
    the route names any."""
    if not re.search(r"\{(portfolio|open_trade|closed_trade|exit_fill|entry)\}", route.path):
        return {}
    people = {name: who for name, who in actors.items() if who is not None}
    return {name: seed_portfolio(app, who.id) for name, who in {**people, OTHER: owner}.items()}


def _runs(
    app: Flask, route: Route, actors: dict[str, Person | None], owner: Person
) -> dict[str, dict[str, int]]:
    """Each signed-in visitor's own queued backtest run, and the object owner's, when the
    route names one."""
    if "{run}" not in route.path:
        return {}
    people = {name: who for name, who in actors.items() if who is not None}
    return {
        name: {"run": queued_run(app, who.id)} for name, who in {**people, OTHER: owner}.items()
    }


@pytest.mark.parametrize(("method", "endpoint"), sorted(ROUTES))
def test_route_answers_each_kind_of_visitor_as_expected(
    app: Flask, method: str, endpoint: str
) -> None:
    route = ROUTES[(method, endpoint)]
    actors = _actors(app)
    owner = make_user(app, "owner@example.com")
    signal_id = _market(app)
    seeded = _portfolios(app, route, actors, owner)
    runs = _runs(app, route, actors, owner)

    def objects(name: str) -> dict[str, int]:
        found = seeded.get(name) or seeded.get(OTHER)
        paths = found.paths() if found is not None else {}
        return paths | runs.get(name, runs.get(OTHER, {}))

    answers: dict[str, int | None] = {}
    for n, (name, who) in enumerate(actors.items()):
        answers[name] = _visit(
            app,
            method,
            route,
            who,
            owner,
            f"10.9.0.{n}",
            signal_id=signal_id,
            objects=objects(name),
        )
    needs_object = bool(seeded) or bool(runs) or bool(re.search(r"\{(other|me)\}", route.path))
    answers[OTHER] = (
        _visit(
            app,
            method,
            route,
            actors["premium"],
            owner,
            "10.9.1.1",
            signal_id=signal_id,
            objects=objects(OTHER),
        )
        if needs_object
        else None
    )
    assert answers == route.expect


def test_tier_rule_for_market_pages_is_free_403_paid_200() -> None:
    assert BY_PLAN() == _row(302, 302, 403, 200, 200, 200)
