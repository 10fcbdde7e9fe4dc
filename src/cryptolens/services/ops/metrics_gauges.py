"""Gauges read from the database and Redis when Prometheus scrapes: nothing to keep in step.

A handful of cheap statements per scrape: counts over indexed columns, and per symbol one
index seek for its newest base candle (not a scan of the candles table). A failing source
leaves its gauges out of that scrape and says so in ``cryptolens_metrics_source_up``, rather
than failing the whole scrape.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import Engine, bindparam, func, or_, select
from sqlalchemy.exc import SQLAlchemyError

from cryptolens.clock import utcnow
from cryptolens.db.accounts import Subscription, User
from cryptolens.db.models import Candle, Pattern, Setting, Symbol
from cryptolens.db.patterns import OPEN_STATUSES
from cryptolens.domain.jobs import PRIORITY
from cryptolens.domain.timeframes import TIMEFRAME_MS
from cryptolens.services.market.clock import KEY_PREFIX

log = logging.getLogger(__name__)

#: RQ keeps a queue's waiting job ids in this list.
RQ_QUEUE_KEY = "rq:queue:{}"

_PATTERNS = (
    select(Pattern.pattern_type, func.count())
    .where(Pattern.status.in_(OPEN_STATUSES))
    .group_by(Pattern.pattern_type)
)
_USERS = select(func.count()).select_from(User).where(User.active.is_(True))
_SUBSCRIPTIONS = (
    select(Subscription.plan, func.count(func.distinct(Subscription.user_id)))
    .where(
        Subscription.started_at <= bindparam("now"),
        or_(Subscription.expires_at.is_(None), Subscription.expires_at > bindparam("now")),
    )
    .group_by(Subscription.plan)
)
_NEWEST_BASE = (
    select(func.max(Candle.open_time))
    .where(Candle.symbol_id == Symbol.id, Candle.timeframe == bindparam("timeframe"))
    .scalar_subquery()
)
_SYMBOLS = select(Symbol.symbol, _NEWEST_BASE).where(
    Symbol.exchange == bindparam("exchange"), Symbol.active.is_(True)
)
_MARKET_NOW = select(Setting.value).where(Setting.key == bindparam("key"))


@dataclass(frozen=True, slots=True)
class StoreGauges:
    """Rows behind the gauges, as read at one scrape."""

    patterns: Sequence[tuple[str, int]]
    users: int
    subscriptions: Sequence[tuple[str, int]]
    market_now_ms: int | None
    newest_base: Sequence[tuple[str, int | None]]


def read_store(engine: Engine, *, exchange: str, base_timeframe: str, now: datetime) -> StoreGauges:
    """The counts and newest candles the gauges report, in one short read."""
    with engine.connect() as connection:
        patterns = [(str(k), int(n)) for k, n in connection.execute(_PATTERNS)]
        users = int(connection.scalar(_USERS) or 0)
        subscriptions = [
            (str(p), int(n)) for p, n in connection.execute(_SUBSCRIPTIONS, {"now": now})
        ]
        clock = connection.scalar(_MARKET_NOW, {"key": f"{KEY_PREFIX}{exchange}"})
        newest = [
            (str(s), None if t is None else int(t))
            for s, t in connection.execute(
                _SYMBOLS, {"exchange": exchange, "timeframe": base_timeframe}
            )
        ]
    return StoreGauges(
        patterns=patterns,
        users=users,
        subscriptions=subscriptions,
        market_now_ms=None if clock is None else int(clock),
        newest_base=newest,
    )


def ingestion_lag_s(newest_open_ms: int, *, base_ms: int, market_now_ms: int) -> float:
    """Seconds the newest stored base candle's close lags the market clock (never negative):
    0 while the candle in progress is the only one missing."""
    closed_through = market_now_ms - market_now_ms % base_ms
    return max(0.0, (closed_through - (newest_open_ms + base_ms)) / 1000)


def store_metrics(found: StoreGauges, *, base_timeframe: str, wall_ms: int) -> list[Metric]:
    """The gauge families for ``found``."""
    patterns = GaugeMetricFamily(
        "cryptolens_patterns_active", "Open zones (active or touched), by type.", labels=["type"]
    )
    for kind, n in found.patterns:
        patterns.add_metric([kind], n)
    users = GaugeMetricFamily("cryptolens_users_active", "Accounts that are not deactivated.")
    users.add_metric([], found.users)
    subscriptions = GaugeMetricFamily(
        "cryptolens_subscriptions_active",
        "Users with a paid plan running now, by plan.",
        labels=["plan"],
    )
    for plan, n in found.subscriptions:
        subscriptions.add_metric([plan], n)
    out: list[Metric] = [patterns, users, subscriptions]
    if found.market_now_ms is None:
        return out
    clock_age = GaugeMetricFamily(
        "cryptolens_market_clock_age_seconds",
        "Wall-clock seconds since the exchange time last recorded by ingestion.",
    )
    clock_age.add_metric([], max(0.0, (wall_ms - found.market_now_ms) / 1000))
    lag = GaugeMetricFamily(
        "cryptolens_ingestion_lag_seconds",
        "Seconds the newest stored base candle lags the market clock, by symbol.",
        labels=["symbol"],
    )
    base_ms = TIMEFRAME_MS[base_timeframe]
    for symbol, newest in found.newest_base:
        if newest is not None:
            seconds = ingestion_lag_s(newest, base_ms=base_ms, market_now_ms=found.market_now_ms)
            lag.add_metric([symbol], seconds)
    return [*out, clock_age, lag]


def queue_sizes(redis: Redis[bytes]) -> list[tuple[str, int]]:
    """Jobs waiting in each RQ queue, in one round trip."""
    pipe = redis.pipeline(transaction=False)
    for name in PRIORITY:
        pipe.llen(RQ_QUEUE_KEY.format(name.value))
    return [(name.value, int(n)) for name, n in zip(PRIORITY, pipe.execute(), strict=True)]


class StoreCollector:
    """A Prometheus collector of the stored state's gauges (give it to ``exposition``)."""

    def __init__(
        self, engine: Engine, redis: Redis[bytes] | None, *, exchange: str, base_timeframe: str
    ) -> None:
        self._engine = engine
        self._redis = redis
        self._exchange = exchange
        self._base_timeframe = base_timeframe

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "cryptolens_metrics_source_up",
            "Whether a scrape-time source answered (1) or not (0).",
            labels=["source"],
        )
        try:
            found = read_store(
                self._engine,
                exchange=self._exchange,
                base_timeframe=self._base_timeframe,
                now=utcnow(),
            )
        except SQLAlchemyError:
            log.warning("metrics: the database did not answer", exc_info=True)
            up.add_metric(["database"], 0)
        else:
            up.add_metric(["database"], 1)
            wall_ms = int(time.time() * 1000)
            yield from store_metrics(found, base_timeframe=self._base_timeframe, wall_ms=wall_ms)
        if self._redis is not None:
            yield from self._queues(up)
        yield up

    def _queues(self, up: GaugeMetricFamily) -> Iterator[Metric]:
        assert self._redis is not None
        try:
            sizes = queue_sizes(self._redis)
        except RedisError:
            log.warning("metrics: Redis did not answer", exc_info=True)
            up.add_metric(["redis"], 0)
            return
        up.add_metric(["redis"], 1)
        queues = GaugeMetricFamily(
            "cryptolens_job_queue_size", "Jobs waiting in each queue.", labels=["queue"]
        )
        for name, n in sizes:
            queues.add_metric([name], n)
        yield queues
