"""With Redis, a page write that changes a portfolio queues its analytics refresh after the
commit; reading pages queues nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from redis import Redis
from rq import Queue

from cryptolens import create_app
from cryptolens.config import Settings
from cryptolens.extensions import db
from tests.builders.portfolio_web import make_trader
from tests.web.accounts_helpers import make_user, post_form, sign_in


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis[bytes]]:
    client: Redis[bytes] = Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def shared_app(app: Flask, settings: Settings, redis_url: str) -> Iterator[Flask]:
    """An app on the same database with a job queue in Redis (its connections closed after)."""
    shared = create_app(settings.model_copy(update={"redis_url": redis_url}))
    yield shared
    with shared.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_page_write_queues_the_refresh_and_a_read_does_not(
    shared_app: Flask, redis: Redis[bytes]
) -> None:
    person = make_user(shared_app, "queued@example.com", plan="premium")
    client = shared_app.test_client()
    assert sign_in(client, person).status_code == 302
    trader = make_trader(shared_app, client, person.id)
    low = Queue("low", connection=redis)
    portfolio = trader.seeded.portfolio

    assert client.get(f"/portfolio/{portfolio}/analytics").status_code == 200
    assert low.count == 0
    trade_id = trader.seeded.open_trade
    response = post_form(client, f"/portfolio/trades/{trade_id}/delete", form_path="/portfolio")
    assert response.status_code == 302
    assert [job.args for job in low.jobs] == [(portfolio,)]
    assert low.jobs[0].func_name == "cryptolens.jobs.portfolio.refresh_portfolio_analytics_job"
