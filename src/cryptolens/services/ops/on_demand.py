"""Work asked for on demand (the API's scan and fetch actions, the scheduler's "run now"):
queued for a worker through the job registry, or run in a thread without Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from redis import Redis
from rq import Queue
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.symbols import list_symbols, require_symbol
from cryptolens.domain.errors import NotFoundError
from cryptolens.domain.jobs import RUN_JOB, job
from cryptolens.services.market.ingest import IngestReport, exchange_client, ingest_cycle
from cryptolens.services.ops.background import Background
from cryptolens.services.scanning.scan import scan_cycle

SCAN_JOB = job("scan")
FETCH_JOB = job("fetch")


@dataclass(frozen=True, slots=True)
class Target:
    id: int
    symbol: str


def watched_targets(session: Session, *, exchange: str, symbols: Sequence[str]) -> list[Target]:
    """The named watched symbols (every active one when none is named); NotFoundError for
    a symbol that is not watched."""
    if not symbols:
        watched = list_symbols(session, exchange=exchange, active_only=True)
        return [Target(s.id, s.symbol) for s in watched]
    found = [require_symbol(session, exchange=exchange, symbol=name) for name in symbols]
    stopped = [s.symbol for s in found if not s.active]
    if stopped:
        raise NotFoundError(f"symbol {stopped[0]} is not watched any more")
    return [Target(s.id, s.symbol) for s in found]


def fetch_now(engine: Engine, settings: Settings, symbols: list[str]) -> IngestReport:
    """Fetch and store the newly closed candles of ``symbols`` (a short-lived client)."""

    async def main() -> IngestReport:
        async with exchange_client(settings) as client:
            return await ingest_cycle(engine, settings, client, symbols=symbols)

    return asyncio.run(main())


#: ``queue_scans`` or ``queue_fetches``: put one job per symbol on the background runner.
QueueWork = Callable[[Background, Engine, Settings, Sequence[Target]], None]


def queue_scans(
    background: Background, engine: Engine, settings: Settings, targets: Sequence[Target]
) -> None:
    """One scan job per symbol (fetch, detect, advance zones and signals)."""
    for target in targets:
        work = partial(scan_cycle, engine, settings, symbols=[target.symbol])
        background.submit(SCAN_JOB, target.id, inline=work)


def queue_fetches(
    background: Background, engine: Engine, settings: Settings, targets: Sequence[Target]
) -> None:
    """One fetch job per symbol (closed candles only, no scan)."""
    for target in targets:
        work = partial(fetch_now, engine, settings, [target.symbol])
        background.submit(FETCH_JOB, target.id, inline=work)


def queue_scheduled(redis: Redis[bytes], name: str) -> None:
    """Run the scheduled job ``name`` now on a worker; NotFoundError for an unknown job or
    one that is not scheduled work (per-symbol jobs go through ``queue_scans``)."""
    try:
        spec = job(name)
    except KeyError:
        raise NotFoundError(f"there is no job {name[:40]!r}") from None
    if not spec.scheduled or spec.function != RUN_JOB:
        raise NotFoundError(f"job {name} is not scheduled work (POST /api/v1/scan scans)")
    Queue(spec.queue.value, connection=redis).enqueue(
        spec.function, name, job_timeout=spec.timeout, result_ttl=3600
    )
