"""The ``signal_alerts`` event consumer: each new signal becomes a ``send_signal_notifications``
job (RQ's high queue; run in the dispatcher's own process without Redis), which fans it out
and sends.

Handing an event over twice submits the job twice, and the fan-out makes the second run a
no-op (its rows are unique per user and signal): the consumer needs no state of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from redis import Redis
from sqlalchemy import Engine

from cryptolens.config import Settings
from cryptolens.domain.events import Event, EventType
from cryptolens.domain.jobs import job
from cryptolens.services.notifications.runs import send_signal_notifications
from cryptolens.services.ops.background import Background

log = logging.getLogger(__name__)

SEND_SIGNAL_NOTIFICATIONS = "send_signal_notifications"

Submit = Callable[[int], None]


class SignalAlerts:
    """Submits one job per SIGNAL_CREATED event (once per signal within a batch)."""

    name = "signal_alerts"

    def __init__(self, submit: Submit) -> None:
        self._submit = submit

    def handle(self, events: Sequence[Event]) -> None:
        submitted: set[int] = set()
        for event in events:
            if event.type is not EventType.SIGNAL_CREATED:
                continue
            signal_id = event.payload.get("signal_id")
            if not isinstance(signal_id, int) or signal_id in submitted:
                continue
            self._submit(signal_id)
            submitted.add(signal_id)


def background_submit(engine: Engine, settings: Settings, redis: Redis[bytes] | None) -> Submit:
    """``submit(signal_id)``: the ``send_signal_notifications`` job on a worker with Redis;
    without it (or with Redis down) the same recorded run right here, so a failure raises and
    leaves the event cursor where it was: the signal is handed over again, never lost."""
    background = Background(redis)
    spec = job(SEND_SIGNAL_NOTIFICATIONS)

    def submit(signal_id: int) -> None:
        if not background.enqueue(spec, signal_id):
            send_signal_notifications(engine, settings, signal_id=signal_id)

    return submit
