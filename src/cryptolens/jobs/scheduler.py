"""The scheduler: fires schedule entries once per slot.

With Redis, it only enqueues: a leader lock lets one scheduler of many enqueue, and a
per-slot claim makes a hand-over between leaders enqueue each slot once. Without Redis it
runs the same jobs in its own process, one after another.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence

from redis import Redis
from rq import Queue
from sqlalchemy import Engine

from cryptolens.config import Settings
from cryptolens.db.events import undispatched_mark
from cryptolens.domain.jobs import job
from cryptolens.jobs import tasks
from cryptolens.jobs.queues import QueueName
from cryptolens.jobs.schedule import Entry, schedule
from cryptolens.services.market.ingest import watched_symbols
from cryptolens.services.ops.error_tracking import record_job_error
from cryptolens.services.ops.runtime_settings import RuntimeSettings
from cryptolens.services.scanning.session import ScanSession

log = logging.getLogger(__name__)

LEADER_KEY = "cryptolens:scheduler:leader"
SLOT_PREFIX = "cryptolens:scheduler:slot:"
#: Entries this often or more fire as soon as a scheduler starts; rarer ones wait their slot.
RUN_ON_START_MAX = 3600

# Take the lock if free, or extend it if we hold it: atomically.
_LEAD = """
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
elseif holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

Dispatch = Callable[[Entry, int], None]
#: Told of a job that failed as the scheduler fired it (error tracking), with its name.
OnError = Callable[[Exception, str], None]


#: Counts that describe the work's size, not what it did.
_SIZE_COUNTS = frozenset({"symbols", "skipped"})


def idle(counts: object) -> bool:
    """Whether a run's counts say it did nothing (every count zero but the sizes)."""
    if not isinstance(counts, dict):
        return False
    return all(
        not value
        for key, value in counts.items()
        if key not in _SIZE_COUNTS and not str(key).startswith("seconds_")
    )


def scheduler_errors(engine: Engine, settings: Settings) -> OnError:
    """Count what a fired job raised in error tracking (once: a recorded run has counted
    its own failure already)."""

    def on_error(error: Exception, name: str) -> None:
        record_job_error(
            engine, error, source="scheduler", settings=settings, context={"job": name}
        )

    return on_error


class Scheduler:
    """Decides what is due; ``claim`` says whether this instance may fire it."""

    def __init__(
        self,
        entries: Sequence[Entry],
        dispatch: Dispatch,
        *,
        claim: Callable[[Entry, int], bool] | None = None,
        on_error: OnError | None = None,
    ) -> None:
        self.entries = tuple(entries)
        self._dispatch = dispatch
        self._on_error = on_error
        self._claim = claim or (lambda _entry, _slot: True)
        self._last: dict[str, int] = {}
        #: Set by an administrator (runtime settings, read by ``RuntimeWatch``): nothing fires.
        self.paused = False

    def tick(self, now: float) -> list[str]:
        """Fire every entry whose slot changed since the last tick; returns their names."""
        fired: list[str] = []
        if self.paused:
            return fired
        for entry in self.entries:
            slot = entry.slot(now)
            previous = self._last.get(entry.name)
            if previous == slot:
                continue
            self._last[entry.name] = slot
            if previous is None and entry.every > RUN_ON_START_MAX:
                continue
            if not self._claim(entry, slot):
                continue
            try:
                self._dispatch(entry, slot)
            except Exception as error:  # a failing job never stops the schedule
                log.exception("scheduled job %s failed", entry.name)
                if self._on_error is not None:
                    self._on_error(error, entry.name)
            fired.append(entry.name)
        return fired


class RuntimeWatch:
    """Applies the administrators' runtime settings to a running scheduler: the pause flag and
    the scan interval (the schedule is rebuilt when it changes). Reads them at most every
    ``every_seconds``; a failed read keeps the current state."""

    def __init__(
        self,
        scheduler: Scheduler,
        load: Callable[[], RuntimeSettings],
        *,
        default_interval: int,
        every_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._scheduler = scheduler
        self._load = load
        self._default = default_interval
        self._every = every_seconds
        self._clock = clock
        self._read_at = float("-inf")
        self.interval: int | None = None

    def __call__(self) -> bool:
        """Read the settings when due; returns whether the scheduler is paused."""
        now = self._clock()
        if now - self._read_at >= self._every:
            self._read_at = now
            try:
                runtime = self._load()
            except Exception:  # the database is down: keep going as we were
                log.warning("could not read the runtime settings", exc_info=True)
                return self._scheduler.paused
            if runtime.scheduler_paused != self._scheduler.paused:
                log.info("scheduler %s", "paused" if runtime.scheduler_paused else "resumed")
            self._scheduler.paused = runtime.scheduler_paused
            interval = runtime.scan_interval(self._default)
            if interval != self.interval:
                if self.interval is not None:
                    log.info("scan interval now %ss", interval)
                self._scheduler.entries = tuple(schedule(interval))
                self.interval = interval
        return self._scheduler.paused


class RedisClaims:
    """Leadership and per-slot claims in Redis."""

    def __init__(self, redis: Redis[bytes], *, lease_seconds: float = 10.0) -> None:
        self.redis = redis
        self.token = uuid.uuid4().hex
        self.lease_ms = int(lease_seconds * 1000)
        self._lead = redis.register_script(_LEAD)

    def lead(self) -> bool:
        """Take or keep the leader lock for one lease."""
        return bool(self._lead(keys=[LEADER_KEY], args=[self.token, self.lease_ms]))

    def __call__(self, entry: Entry, slot: int) -> bool:
        if not self.lead():
            return False
        key = f"{SLOT_PREFIX}{entry.name}:{slot}"
        return bool(self.redis.set(key, self.token, nx=True, ex=max(2 * entry.every, 60)))

    def resign(self) -> None:
        if self.redis.get(LEADER_KEY) == self.token.encode():
            self.redis.delete(LEADER_KEY)


def enqueuer(engine: Engine, settings: Settings, redis: Redis[bytes]) -> Dispatch:
    """Dispatch that enqueues each entry's registered job on its queue, with its timeout (a
    per-symbol job once per watched symbol)."""
    queues = {name: Queue(name.value, connection=redis) for name in QueueName}

    def dispatch(entry: Entry, slot: int) -> None:
        spec = job(entry.name)
        queue = queues[spec.queue]
        if spec.per_symbol:
            for symbol_id, _symbol in watched_symbols(engine, settings):
                queue.enqueue(
                    spec.function,
                    symbol_id,
                    job_timeout=spec.timeout,
                    result_ttl=3600,
                    failure_ttl=86_400,
                    description=f"{spec.name} symbol {symbol_id} (slot {slot})",
                )
            return
        queue.enqueue(
            spec.function,
            spec.name,
            job_timeout=spec.timeout,
            result_ttl=3600,
            failure_ttl=86_400,
            description=f"{spec.name} (slot {slot})",
        )

    return dispatch


class InProcess:
    """Dispatch that runs each job here and now (the embedded mode, no Redis); scans keep
    one exchange connection across cycles. ``close()`` when done."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._scans = ScanSession(engine, settings)

    def __call__(self, entry: Entry, _slot: int) -> None:
        spec = job(entry.name)
        if spec.per_symbol:
            counts = tasks.run_scan_all(self.engine, self.settings, session=self._scans)
        else:
            counts = tasks.recorded(tasks.work_for(spec.name), spec.name)(
                self.engine, self.settings
            )
        # An idle cycle (nothing fetched, found or closed) is not news at INFO.
        log.log(logging.DEBUG if idle(counts) else logging.INFO, "%s: %s", entry.name, counts)

    def close(self) -> None:
        self._scans.close()


def in_process(engine: Engine, settings: Settings) -> InProcess:
    return InProcess(engine, settings)


class EventWatch:
    """Fires ``dispatch_events`` within a tick of new events being committed, instead of at the
    next minute: a new signal reaches its consumers (alerts) in about a second.

    Each call asks one cheap question (the newest event not yet sequenced) and fires when that
    changed, or when events are still waiting ``refire_seconds`` after the last firing (a
    queued dispatch job that has not run yet is not enqueued again every second).
    """

    def __init__(
        self,
        engine: Engine,
        dispatch: Dispatch,
        *,
        refire_seconds: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._dispatch = dispatch
        self._refire = refire_seconds
        self._clock = clock
        self._mark: int | None = None
        self._fired_at = float("-inf")

    def __call__(self) -> bool:
        with self._engine.connect() as connection:
            mark = undispatched_mark(connection)
        now = self._clock()
        if mark is None or (mark == self._mark and now - self._fired_at < self._refire):
            return False
        self._mark, self._fired_at = mark, now
        try:
            self._dispatch(job("dispatch_events").entry(), -1)
        except Exception:  # the minute schedule still dispatches
            log.exception("event-triggered dispatch failed")
            return False
        return True


def run_forever(
    scheduler: Scheduler,
    stop: threading.Event,
    *,
    poll_seconds: float = 1.0,
    on_tick: Callable[[], object] | None = None,
) -> None:
    """Tick until ``stop`` is set."""
    while not stop.is_set():
        if on_tick is not None:
            on_tick()
        scheduler.tick(time.time())
        stop.wait(poll_seconds)
