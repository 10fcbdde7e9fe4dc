"""After a committed write, the refresh job is queued once per portfolio while it waits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy.orm import Session

from cryptolens.services.ops.background import Background, release
from cryptolens.services.portfolio.analytics_snapshot import queue_refresh, refresh_key
from cryptolens.services.portfolio.revision import refresh_after_commit
from cryptolens.services.portfolio.trades import create_trade
from tests.builders.portfolio import TradeSpec, add_owner, add_portfolio

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis[bytes]]:
    client: Redis[bytes] = Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()


def test_writes_queue_one_refresh_per_portfolio_until_the_job_starts(
    session: Session, redis: Redis[bytes]
) -> None:
    owner = add_owner(session)
    first, second = add_portfolio(session, owner), add_portfolio(session, owner)
    session.commit()
    refresh_after_commit(session, partial(queue_refresh, Background(redis)))
    low = Queue("low", connection=redis)

    def write(portfolio_id: int) -> None:
        data = TradeSpec().input()
        create_trade(session, owner=owner, portfolio_id=portfolio_id, data=data, now=NOW)

    write(first)
    assert low.count == 0  # nothing before the commit
    session.commit()
    write(first)
    session.commit()
    assert [job.args for job in low.jobs] == [(first,)]
    write(second)
    session.rollback()  # a rolled-back write queues nothing
    assert low.count == 1
    write(second)
    session.commit()
    assert [job.args for job in low.jobs] == [(first,), (second,)]
    # The job lets go of its key as it starts: the next write queues another refresh.
    release(redis, refresh_key(first))
    write(first)
    session.commit()
    assert [job.args for job in low.jobs] == [(first,), (second,), (first,)]
    assert low.jobs[0].func_name == "cryptolens.jobs.portfolio.refresh_portfolio_analytics_job"
