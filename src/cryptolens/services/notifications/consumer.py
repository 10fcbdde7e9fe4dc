"""The ``signal_alerts`` event consumer: each new signal becomes a ``send_signal_notifications``
job (RQ's high queue; a thread in-process without Redis), which fans it out and sends.

Handing an event over twice submits the job twice, and the fan-out makes the second run a
no-op (its rows are unique per user and signal): the consumer needs no state of its own.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence
from functools import partial

from redis import Redis
from sqlalchemy import Engine

from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.domain.events import Event, EventType
from cryptolens.domain.jobs import BY_NAME, HIGH_TIMEOUT, JobSpec, QueueName
from cryptolens.services.notifications.fanout import fan_out_signal
from cryptolens.services.ops.background import Background

log = logging.getLogger(__name__)

SEND_SIGNAL_NOTIFICATIONS = "send_signal_notifications"
#: The run that also delivers (delivery's module), used in-process when it is installed.
RUNS_MODULE = "cryptolens.services.notifications.runs"

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
    """``submit(signal_id)`` through ``Background``: the registered job on a worker with
    Redis, else ``send_in_process`` in a thread."""
    spec = BY_NAME.get(SEND_SIGNAL_NOTIFICATIONS)
    # Until the job is registered there is nothing a worker could run: in-process only.
    background = Background(redis if spec is not None else None)
    chosen = spec or JobSpec(SEND_SIGNAL_NOTIFICATIONS, "", QueueName.HIGH, HIGH_TIMEOUT)

    def submit(signal_id: int) -> None:
        background.submit(
            chosen, signal_id, inline=partial(send_in_process, engine, settings, signal_id)
        )

    return submit


def send_in_process(engine: Engine, settings: Settings, signal_id: int) -> object:
    """The job's work without a worker: the recorded fan-out-and-deliver run when delivery
    is installed, else the fan-out alone (the scheduled delivery job sends its rows)."""
    try:
        runs = importlib.import_module(RUNS_MODULE)
    except ImportError:
        return fan_out_signal(engine, settings, signal_id=signal_id, now=utcnow())
    return runs.send_signal_notifications(engine, settings, signal_id=signal_id)
