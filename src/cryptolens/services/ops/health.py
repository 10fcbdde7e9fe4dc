"""Health of the database and Redis, checked locally: no outbound calls to exchanges."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from redis import Redis
from sqlalchemy import Engine, text

from cryptolens.db import migrate

OK = "ok"
DOWN = "down"


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    status: str
    latency_ms: float
    detail: str | None = None

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"status": self.status, "latency_ms": self.latency_ms}
        if self.detail:
            data["detail"] = self.detail
        return data


@dataclass(frozen=True, slots=True)
class HealthReport:
    components: dict[str, ComponentHealth]
    version: str
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def healthy(self) -> bool:
        return all(c.status == OK for c in self.components.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "status": "ok" if self.healthy else "degraded",
            "components": {name: c.as_dict() for name, c in self.components.items()},
            "version": self.version,
            "timestamp": self.timestamp.isoformat().replace("+00:00", "Z"),
        }


def _timed(check: Callable[[], str | None]) -> ComponentHealth:
    started = time.perf_counter()
    try:
        detail = check()
    except Exception as exc:  # any failure of a dependency is a health result, not a crash
        elapsed = round((time.perf_counter() - started) * 1000, 2)
        return ComponentHealth(DOWN, elapsed, f"{type(exc).__name__}: {exc}".splitlines()[0])
    return ComponentHealth(OK, round((time.perf_counter() - started) * 1000, 2), detail)


def check_database(engine: Engine, *, require_schema: bool = False) -> ComponentHealth:
    """Run ``SELECT 1``; with ``require_schema`` also require migrations at head."""

    def probe() -> str | None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            if not require_schema:
                return None
            current = migrate.current_revision(connection)
        head = migrate.head_revision()
        if current != head:
            raise RuntimeError(f"schema at {current or 'nothing'}, expected {head}")
        return f"schema at {current}"

    return _timed(probe)


def check_redis(client: Redis[bytes]) -> ComponentHealth:
    def probe() -> str | None:
        client.ping()
        return None

    return _timed(probe)


def health_report(
    *, engine: Engine, redis: Redis[bytes] | None, version: str, require_schema: bool = False
) -> HealthReport:
    components = {"database": check_database(engine, require_schema=require_schema)}
    if redis is not None:
        components["redis"] = check_redis(redis)
    return HealthReport(components=components, version=version)
