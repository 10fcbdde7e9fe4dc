"""The notification jobs' work, callable in-process (a thread without Redis) or from the RQ
entry points: fan a signal or a broadcast out into delivery rows, then deliver what is due.
Each run is recorded in job_runs with its counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.services.notifications.delivery import deliver_due
from cryptolens.services.notifications.fanout import (
    FanoutReport,
    fan_out_broadcast,
    fan_out_signal,
)
from cryptolens.services.ops.job_runs import recorded_run


def _counts(report: FanoutReport) -> dict[str, Any]:
    return {f"fanout_{key}": value for key, value in report.counts().items()}


def send_signal_notifications(
    engine: Engine, settings: Settings, *, signal_id: int, now: datetime | None = None
) -> dict[str, Any]:
    """Fan signal ``signal_id`` out to its subscribers and deliver what is due now."""
    with recorded_run(engine, "send_signal_notifications", target=str(signal_id)) as run:
        moment = now or utcnow()
        fanned = fan_out_signal(engine, settings, signal_id=signal_id, now=moment)
        delivered = deliver_due(engine, settings, now=moment)
        run.counts = _counts(fanned) | delivered.counts()
        return run.counts


def send_bulk_notifications(
    engine: Engine, settings: Settings, *, broadcast_id: int, now: datetime | None = None
) -> dict[str, Any]:
    """Fan broadcast ``broadcast_id`` out to its audience and deliver what is due now."""
    with recorded_run(engine, "send_bulk_notifications", target=str(broadcast_id)) as run:
        moment = now or utcnow()
        fanned = fan_out_broadcast(engine, settings, broadcast_id=broadcast_id, now=moment)
        delivered = deliver_due(engine, settings, now=moment)
        run.counts = _counts(fanned) | delivered.counts()
        return run.counts
