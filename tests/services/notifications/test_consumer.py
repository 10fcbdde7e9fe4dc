"""The signal_alerts consumer: one job per new signal, and a signal event handed over again
(after a crash) fans out to nothing new."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.events import record_events
from cryptolens.db.notifications import Notification, quota_used
from cryptolens.domain.events import Event, EventType, NewEvent
from cryptolens.services.notifications.consumer import SignalAlerts, background_submit
from cryptolens.services.ops.event_dispatch import dispatch_events, registered_consumers
from tests.builders.alerts import Who, add_signal, add_user, count_rows, notifications_of

AT = datetime(2026, 6, 1, tzinfo=UTC)


def _event(position: int, kind: EventType, **payload: object) -> Event:
    return Event(position, position, kind, 1, payload, AT)


def test_each_new_signal_is_submitted_once_and_other_events_are_ignored() -> None:
    submitted: list[int] = []
    alerts = SignalAlerts(submitted.append)
    assert alerts.name == "signal_alerts"
    alerts.handle(
        [
            _event(1, EventType.SIGNAL_CREATED, signal_id=7),
            _event(2, EventType.ZONE_FORMED, timeframe="1h"),
            _event(3, EventType.SIGNAL_CREATED, signal_id=8),
            _event(4, EventType.SIGNAL_CREATED, signal_id=7),
            _event(5, EventType.SIGNAL_CREATED, signal_id="not an id"),
        ]
    )
    assert submitted == [7, 8]


def _record_signal_created(engine: Engine, signal_id: int) -> None:
    with engine.begin() as connection:
        record_events(
            connection, [NewEvent(EventType.SIGNAL_CREATED, None, {"signal_id": signal_id})]
        )


def test_without_redis_a_dispatched_signal_is_fanned_out_in_process(
    alerts_engine: Engine, alert_settings: Settings
) -> None:
    user = add_user(alerts_engine, Who("premium"))
    signal_id = add_signal(alerts_engine)
    _record_signal_created(alerts_engine, signal_id)
    report = dispatch_events(alerts_engine, registered_consumers(alerts_engine, alert_settings))
    assert report.handled["signal_alerts"] == 1  # sent in this process before the cursor moved
    [note] = notifications_of(alerts_engine, user)
    assert note.source == f"signal:{signal_id}"


def test_a_signal_handed_over_again_notifies_nobody_twice(
    alerts_engine: Engine, alert_settings: Settings
) -> None:
    user = add_user(alerts_engine, Who("pro"))
    signal_id = add_signal(alerts_engine)
    alerts = SignalAlerts(background_submit(alerts_engine, alert_settings, None))
    event = _event(1, EventType.SIGNAL_CREATED, signal_id=signal_id)
    alerts.handle([event])
    alerts.handle([event])  # the dispatcher crashed before storing its cursor
    assert count_rows(alerts_engine, Notification) == 1
    with Session(alerts_engine) as session:
        assert quota_used(session, user_id=user, day=datetime.now(UTC).date()) == 1


def test_without_redis_a_failing_send_keeps_the_cursor_so_the_signal_comes_back(
    alerts_engine: Engine, alert_settings: Settings
) -> None:
    add_user(alerts_engine, Who("pro"))
    signal_id = add_signal(alerts_engine)
    _record_signal_created(alerts_engine, signal_id)
    calls: list[int] = []

    def broken(sid: int) -> None:
        calls.append(sid)
        raise RuntimeError("database went away mid fan-out")

    failed = dispatch_events(
        alerts_engine, registered_consumers(alerts_engine, alert_settings, submit_signal=broken)
    )
    assert "signal_alerts" in failed.failed
    assert count_rows(alerts_engine, Notification) == 0
    again = dispatch_events(alerts_engine, registered_consumers(alerts_engine, alert_settings))
    assert again.handled["signal_alerts"] == 1
    assert count_rows(alerts_engine, Notification) == 1
    assert calls == [signal_id]
