"""/metrics: who may scrape it, and the request metrics and gauges it shows moving."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from cryptolens import create_app
from cryptolens.config import ConfigError, Settings, load_settings
from cryptolens.extensions import db
from cryptolens.web.metrics import METHODS
from tests.builders.metrics import label_values, scraped
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import signed_in_client
from tests.web.seeding import add_pattern, add_signal, add_symbol

TOKEN = "scrape-token-0123456789abcdef"
ALLOWED = "10.20.30.40"
REQUESTS = "cryptolens_http_requests_total"
DURATION_COUNT = "cryptolens_http_request_duration_seconds_count"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url=database_url,
        instance_dir=tmp_path / "instance",
        metrics_token=TOKEN,
        metrics_allow="10.20.0.0/16, fd00::/8",
    )


def scrape(
    client: FlaskClient, *, token: str | None = TOKEN, ip: str = "192.0.2.1"
) -> TestResponse:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": ip})


def scrape_text(client: FlaskClient) -> str:
    answer = scrape(client)
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain; version=0.0.4")
    return answer.get_data(as_text=True)


# -- who may scrape -------------------------------------------------------------------------


def test_the_bearer_token_opens_the_scrape_from_any_address(client: FlaskClient) -> None:
    assert scrape(client).status_code == 200


def test_a_missing_or_wrong_token_outside_the_allow_list_is_refused(client: FlaskClient) -> None:
    for token in (None, "wrong-token-0123456789abcdef", TOKEN[:-1], TOKEN + "x"):
        answer = scrape(client, token=token)
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert "cryptolens_" not in answer.get_data(as_text=True)


def test_an_address_in_the_allow_list_needs_no_token(client: FlaskClient) -> None:
    assert scrape(client, token=None, ip=ALLOWED).status_code == 200
    assert scrape(client, token=None, ip="fd00::7").status_code == 200
    assert scrape(client, token=None, ip="10.21.0.1").status_code == 401


def test_with_neither_token_nor_allow_list_the_route_does_not_exist(
    database_url: str, tmp_path: Path, migrated_engine: object
) -> None:
    app = create_app(make_settings(database_url=database_url, instance_dir=tmp_path / "i"))
    try:
        client = app.test_client()
        assert scrape(client).status_code == 404
        assert scrape(client, token=None, ip="127.0.0.1").status_code == 404
    finally:
        with app.app_context():
            db.engine.dispose()


def test_an_allow_list_alone_refuses_other_addresses_with_403(
    database_url: str, tmp_path: Path, migrated_engine: object
) -> None:
    app = create_app(
        make_settings(
            database_url=database_url, instance_dir=tmp_path / "i", metrics_allow="127.0.0.0/8"
        )
    )
    try:
        client = app.test_client()
        assert scrape(client, token=None, ip="127.0.0.1").status_code == 200
        assert scrape(client, ip="192.0.2.9").status_code == 403  # a token means nothing here
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("METRICS_ALLOW", "10.0.0.0/33"),
        ("METRICS_ALLOW", "not-a-range"),
        ("METRICS_TOKEN", "short"),
    ],
)
def test_a_bad_allow_list_or_a_short_token_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_settings(_env_file=None)


# -- request metrics ------------------------------------------------------------------------


def test_a_request_moves_the_counter_and_the_latency_histogram(client: FlaskClient) -> None:
    route = {"method": "GET", "route": "/api/health/live"}
    before = scrape_text(client)
    assert client.get("/api/health/live").status_code == 200
    after = scrape_text(client)
    assert scraped(after, REQUESTS, status="200", **route) == (
        scraped(before, REQUESTS, status="200", **route) + 1
    )
    assert scraped(after, DURATION_COUNT, **route) == scraped(before, DURATION_COUNT, **route) + 1


def test_two_ids_on_one_route_are_one_label_value(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        symbol_id = add_symbol(db.session, "BTC/USDT")
        zone = add_pattern(db.session, symbol_id=symbol_id)
        ids = [add_signal(db.session, symbol_id=symbol_id, patterns=(zone,)).id for _ in "ab"]
        db.session.commit()
    for signal_id in ids:
        client.get(f"/signals/{signal_id}")
        client.get(f"/api/v1/signals/{signal_id}")
    client.get("/no/such/page/1")
    client.get("/no/such/page/2")
    client.open("/api/health/live", method="BREW")
    text = scrape_text(client)
    routes = label_values(text, REQUESTS, "route")
    assert "/signals/<int:signal_id>" in routes
    assert not any(re.search(r"/\d+(/|$)", r) for r in routes)  # no id is ever a label
    assert [r for r in routes if r.startswith("/signals/")] == ["/signals/<int:signal_id>"]
    assert "unmatched" in routes
    assert not any(r.startswith("/no/") for r in routes)
    methods = label_values(text, REQUESTS, "method")
    assert "OTHER" in methods
    assert methods <= METHODS | {"OTHER"}  # "BREW" is not a label value


def test_a_cached_section_counts_a_miss_then_a_hit(app: Flask, client: FlaskClient) -> None:
    premium = signed_in_client(app, "premium@example.com", plan="premium")
    before = scrape_text(client)
    assert premium.get("/signals?direction=bearish").status_code == 200
    assert premium.get("/signals?direction=bearish").status_code == 200
    after = scrape_text(client)
    for sample, moved in (("cryptolens_cache_misses_total", 1), ("cryptolens_cache_hits_total", 1)):
        was = scraped(before, sample, cache="signals_html")
        assert scraped(after, sample, cache="signals_html") == was + moved


# -- gauges at scrape time ------------------------------------------------------------------


def test_gauges_follow_the_stored_state_at_each_scrape(app: Flask, client: FlaskClient) -> None:
    text = scrape_text(client)
    assert scraped(text, "cryptolens_patterns_active") == 0
    users = scraped(text, "cryptolens_users_active")
    signed_in_client(app, "pro@example.com", plan="pro")
    with app.app_context():
        symbol_id = add_symbol(db.session, "ETH/USDT")
        add_pattern(db.session, symbol_id=symbol_id)
        db.session.commit()
    text = scrape_text(client)
    assert scraped(text, "cryptolens_patterns_active", type="fvg") == 1
    assert scraped(text, "cryptolens_users_active") == users + 1
    assert scraped(text, "cryptolens_subscriptions_active", plan="pro") == 1
    # Without Redis jobs run in-process: there are no queues to report.
    assert "cryptolens_job_queue_size" not in text


def test_queue_sizes_come_from_redis(
    database_url: str, tmp_path: Path, redis_url: str, migrated_engine: object
) -> None:
    from redis import Redis
    from rq import Queue

    redis = Redis.from_url(redis_url)
    redis.flushdb()
    Queue("low", connection=redis).enqueue("cryptolens.infra.metrics.count_signals", "x", 1)
    Queue("low", connection=redis).enqueue("cryptolens.infra.metrics.count_signals", "x", 1)
    app = create_app(
        make_settings(
            database_url=database_url,
            instance_dir=tmp_path / "i",
            redis_url=redis_url,
            metrics_token=TOKEN,
        )
    )
    try:
        text = scrape_text(app.test_client())
    finally:
        redis.flushdb()
        with app.app_context():
            db.engine.dispose()
    assert scraped(text, "cryptolens_job_queue_size", queue="low") == 2
    assert scraped(text, "cryptolens_job_queue_size", queue="high") == 0
    assert scraped(text, "cryptolens_metrics_source_up", source="redis") == 1
