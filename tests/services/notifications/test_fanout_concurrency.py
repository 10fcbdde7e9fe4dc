"""Two workers at once (threads with their own connections; on PostgreSQL and MariaDB too,
with TEST_DATABASE_URL): different signals for the same Pro users never pass the cap of 20,
and the same signal is notified exactly once per user."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.notifications import Notification, NotificationDelivery, NotificationQuota
from cryptolens.services.notifications.fanout import FanoutReport, fan_out_signal
from tests.builders.alerts import Who, add_signal, add_users, count_rows

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
TODAY = date(2026, 6, 1)


def _together(work: Sequence[Callable[[], list[FanoutReport]]]) -> list[FanoutReport]:
    """Run each callable in its own thread, released at the same moment."""
    start = threading.Barrier(len(work))
    results: list[list[FanoutReport]] = [[] for _ in work]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work[i]()
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    return [report for reports in results for report in reports]


def _fan_out(
    engine: Engine, settings: Settings, signals: Sequence[int]
) -> Callable[[], list[FanoutReport]]:
    return lambda: [fan_out_signal(engine, settings, signal_id=s, now=NOW) for s in signals]


def test_two_workers_never_send_a_pro_user_the_21st_alert(
    alerts_engine: Engine, alert_settings: Settings
) -> None:
    users = add_users(alerts_engine, Who("pro"), 5)
    signals = [add_signal(alerts_engine) for _ in range(26)]
    reports = _together(
        [
            _fan_out(alerts_engine, alert_settings, signals[0::2]),
            _fan_out(alerts_engine, alert_settings, signals[1::2]),
        ]
    )
    assert sum(r.queued for r in reports) == 20 * len(users)
    assert sum(r.capped for r in reports) == 6 * len(users)
    assert sum(r.limit_notices for r in reports) == len(users)
    with Session(alerts_engine) as session:
        sent = dict(
            session.execute(
                select(Notification.user_id, func.count())
                .where(Notification.kind == "signal", Notification.status == "queued")
                .group_by(Notification.user_id)
            ).all()
        )
        used = dict(
            session.execute(
                select(NotificationQuota.user_id, NotificationQuota.used).where(
                    NotificationQuota.day == TODAY
                )
            ).all()
        )
        notices = session.scalar(
            select(func.count()).select_from(Notification).where(Notification.kind == "limit")
        )
    assert sent == dict.fromkeys(users, 20)
    assert used == dict.fromkeys(users, 20)
    assert notices == len(users)
    # One delivery per alert actually sent, and per notice.
    assert count_rows(alerts_engine, NotificationDelivery) == 21 * len(users)


def test_two_workers_on_the_same_signal_notify_each_user_once(
    alerts_engine: Engine, alert_settings: Settings
) -> None:
    premium = add_users(alerts_engine, Who("premium", kinds=("ntfy", "webhook")), 300)
    pro = add_users(alerts_engine, Who("pro"), 40)
    signal_id = add_signal(alerts_engine)
    reports = _together([_fan_out(alerts_engine, alert_settings, [signal_id])] * 2)
    everyone = len(premium) + len(pro)
    assert sum(r.queued for r in reports) == everyone
    assert sum(r.already for r in reports) == everyone
    with Session(alerts_engine) as session:
        per_user = session.execute(
            select(Notification.user_id, func.count()).group_by(Notification.user_id)
        ).all()
        used = session.scalars(select(NotificationQuota.used)).all()
    assert sorted(u for u, _ in per_user) == sorted(premium + pro)
    assert {n for _, n in per_user} == {1}
    assert count_rows(alerts_engine, NotificationDelivery) == 2 * len(premium) + len(pro)
    assert sorted(used) == [1] * len(pro)  # counted once, not once per worker
