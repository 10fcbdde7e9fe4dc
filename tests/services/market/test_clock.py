"""The market clock: it only moves forward, and several workers recording it at once (the
first write of a new exchange included) never collide."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cryptolens.services.market.clock import market_now, record_market_now
from tests.builders.db import clear_tables

WORKERS = 6
ROUNDS = 4


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    clear_tables(migrated_engine)
    yield migrated_engine
    clear_tables(migrated_engine)


def test_the_clock_only_moves_forward(engine: Engine) -> None:
    for now_ms in (1_000, 5_000, 3_000):
        with Session(engine) as session, session.begin():
            record_market_now(session, exchange="binance", now_ms=now_ms)
    with Session(engine) as session:
        assert market_now(session, exchange="binance") == 5_000
        assert market_now(session, exchange="kraken") is None


def test_workers_recording_a_new_exchange_at_once_do_not_collide(engine: Engine) -> None:
    errors: list[BaseException] = []
    for round_ in range(ROUNDS):
        exchange = f"exchange{round_}"
        start = threading.Barrier(WORKERS)

        def record(worker: int, exchange: str = exchange, start: threading.Barrier = start) -> None:
            try:
                start.wait(timeout=30)
                with Session(engine) as session, session.begin():
                    record_market_now(session, exchange=exchange, now_ms=1_000 + worker)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=record, args=(w,)) for w in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        with Session(engine) as session:
            assert market_now(session, exchange=exchange) == 1_000 + WORKERS - 1
    assert errors == []
