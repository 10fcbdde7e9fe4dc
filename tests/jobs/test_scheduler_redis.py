"""Two schedulers against the real Redis: one leads, each slot is enqueued once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import create_engine

from cryptolens.jobs.schedule import Entry
from cryptolens.jobs.scheduler import (
    LEADER_KEY,
    SLOT_PREFIX,
    RedisClaims,
    Scheduler,
    enqueuer,
)
from tests.builders.settings import make_settings

T = 1_767_225_600.0


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis[bytes]]:
    client: Redis[bytes] = Redis.from_url(redis_url)

    def clean() -> None:
        client.delete(LEADER_KEY)
        for key in client.scan_iter(f"{SLOT_PREFIX}*"):
            client.delete(key)

    clean()
    yield client
    clean()
    client.close()


def test_two_schedulers_fire_each_slot_exactly_once(redis: Redis[bytes]) -> None:
    fired: list[tuple[str, str, int]] = []
    entries = (Entry("scan", 60), Entry("refresh_stats", 300))
    claims = [RedisClaims(redis, lease_seconds=30), RedisClaims(redis, lease_seconds=30)]
    schedulers = [
        Scheduler(
            entries,
            lambda e, slot, who=who: fired.append((who, e.name, slot)),
            claim=claims[i],
        )
        for i, who in enumerate(("a", "b"))
    ]
    for second in range(0, 600, 5):
        for scheduler in schedulers:
            scheduler.tick(T + second)
    slots = [(name, slot) for _, name, slot in fired]
    assert len(slots) == len(set(slots)) == 10 + 2
    assert {who for who, _, _ in fired} == {"a"}  # the first to tick leads; b never fires


def test_when_the_leader_goes_away_the_other_takes_over_without_repeating_a_slot(
    redis: Redis[bytes],
) -> None:
    fired: list[tuple[str, int]] = []
    entries = (Entry("scan", 60),)
    first, second = RedisClaims(redis), RedisClaims(redis)
    a = Scheduler(entries, lambda e, s: fired.append(("a", s)), claim=first)
    b = Scheduler(entries, lambda e, s: fired.append(("b", s)), claim=second)
    a.tick(T)
    first.resign()  # a stops (its lease would also run out on its own)
    b.tick(T + 1)  # b leads now, but this slot was already enqueued by a
    b.tick(T + 60)
    assert fired == [("a", int(T // 60)), ("b", int(T // 60) + 1)]
    assert redis.get(LEADER_KEY) == second.token.encode()


def test_the_enqueuer_puts_emails_on_high_and_upkeep_on_low(redis: Redis[bytes]) -> None:
    high, low = Queue("high", connection=redis), Queue("low", connection=redis)
    high.empty()
    low.empty()
    dispatch = enqueuer(create_engine("sqlite://"), make_settings(), redis)
    dispatch(Entry("deliver_outbox", 60), 1)
    dispatch(Entry("cleanup", 86_400), 1)
    [email] = high.jobs
    [upkeep] = low.jobs
    assert (email.func_name, email.args) == ("cryptolens.jobs.tasks.run_job", ("deliver_outbox",))
    assert (upkeep.func_name, upkeep.args) == ("cryptolens.jobs.tasks.run_job", ("cleanup",))
    assert upkeep.timeout == 300
    high.empty()
    low.empty()
