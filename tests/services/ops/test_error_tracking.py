"""Error tracking: one group per fingerprint (type + innermost frame of ours), counted
concurrency-safely, scrubbed, alerting the administrators once, resolved and reopened."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.accounts import OutboxEmail, User
from cryptolens.db.errors import ErrorGroup
from cryptolens.db.notifications import Notification
from cryptolens.logs import REDACTED
from cryptolens.notify.targets import ChannelKind
from cryptolens.services.notifications.channels import set_channel
from cryptolens.services.ops import error_tracking
from cryptolens.services.ops.error_tracking import (
    fingerprint,
    list_groups,
    record_error,
    scrub,
    set_status,
)
from cryptolens.services.ops.job_runs import recorded_run
from tests.builders.settings import make_settings

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def track_settings(scan_engine: Engine, tmp_path: Path) -> Settings:
    return make_settings(
        database_url=scan_engine.url.render_as_string(hide_password=False), instance_dir=tmp_path
    )


def _raise(message: str) -> None:
    raise ValueError(message)


def _raise_elsewhere(message: str) -> None:
    raise ValueError(message)


def _caught(work: object, message: str = "bad") -> BaseException:
    try:
        work(message)  # type: ignore[operator]
    except ValueError as error:
        return error
    raise AssertionError("no error")


def _groups(engine: Engine) -> list[tuple[str, int, str]]:
    with Session(engine) as session:
        rows = session.execute(
            select(ErrorGroup.function, ErrorGroup.count, ErrorGroup.status).order_by(ErrorGroup.id)
        ).all()
    return [(f, int(c), s) for f, c, s in rows]


def _outbox(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(OutboxEmail)) or 0)


def _add_admins(engine: Engine, *emails: str) -> None:
    with Session(engine) as session, session.begin():
        for email in emails:
            session.add(User(email=email, password_hash="x", role="admin", email_verified_at=NOW))


def test_the_fingerprint_is_the_type_and_the_innermost_frame_of_ours() -> None:
    found = fingerprint(_caught(_raise))
    assert found.exc_type == "ValueError"
    assert found.module == __name__
    assert found.function == "_raise"
    assert found.line == _raise.__code__.co_firstlineno + 1


def test_the_same_error_twice_is_one_group_counted_twice(
    scan_engine: Engine, track_settings: Settings
) -> None:
    first = record_error(scan_engine, track_settings, _caught(_raise, "a"), source="job", now=NOW)
    again = record_error(scan_engine, track_settings, _caught(_raise, "b"), source="job", now=NOW)
    assert first is not None
    assert first.new
    assert again is not None
    assert not again.new
    assert again.group_id == first.group_id
    assert _groups(scan_engine) == [("_raise", 2, "open")]


def test_another_line_is_another_group(scan_engine: Engine, track_settings: Settings) -> None:
    record_error(scan_engine, track_settings, _caught(_raise), source="job", now=NOW)
    record_error(scan_engine, track_settings, _caught(_raise_elsewhere), source="job", now=NOW)
    assert _groups(scan_engine) == [("_raise", 1, "open"), ("_raise_elsewhere", 1, "open")]


def test_one_exception_seen_twice_counts_once(
    scan_engine: Engine, track_settings: Settings
) -> None:
    """A job's error is seen by its recorded run and again by the worker's handler."""
    error = _caught(_raise)
    assert record_error(scan_engine, track_settings, error, source="job", now=NOW) is not None
    assert record_error(scan_engine, track_settings, error, source="job", now=NOW) is None
    assert _groups(scan_engine) == [("_raise", 1, "open")]


def test_two_writers_racing_on_a_new_fingerprint_make_one_group_counted_twice(
    scan_engine: Engine, track_settings: Settings
) -> None:
    errors = [_caught(_raise), _caught(_raise)]
    start = threading.Barrier(2)
    results: list[object] = []

    def record(error: BaseException) -> None:
        start.wait()
        results.append(record_error(scan_engine, track_settings, error, source="job", now=NOW))

    threads = [threading.Thread(target=record, args=(e,)) for e in errors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert _groups(scan_engine) == [("_raise", 2, "open")]
    assert sorted(getattr(r, "new", None) for r in results) == [False, True]


def test_secrets_in_the_context_are_never_stored(
    scan_engine: Engine, track_settings: Settings
) -> None:
    context = {
        "headers": {
            "Authorization": "Bearer sekrit-bearer",
            "Cookie": "session=sekrit-cookie",
            "X-API-Key": "sekrit-key",
            "User-Agent": "pytest",
        },
        "form": {"email": "a@example.com", "password": "sekrit-password", "csrf_token": "t"},
        "query": {"token": "sekrit-token"},
        "path": "/auth/reset/sekrit-reset-token",
    }
    record_error(
        scan_engine, track_settings, _caught(_raise), source="web", context=context, now=NOW
    )
    with Session(scan_engine) as session:
        stored = session.scalars(select(ErrorGroup)).one()
    assert "sekrit" not in repr(stored.context)
    assert stored.context is not None
    assert stored.context["headers"]["User-Agent"] == "pytest"
    assert stored.context["headers"]["Authorization"] == REDACTED
    assert stored.context["form"]["email"] == "a@example.com"


def test_scrub_walks_nested_lists_and_redacts_values() -> None:
    cleaned = scrub({"items": [{"api_key": "x"}, "/auth/verify/abc"], "Session-Id": "s"})
    assert cleaned == {
        "items": [{"api_key": REDACTED}, f"/auth/verify/{REDACTED}"],
        "Session-Id": REDACTED,
    }


def test_a_new_group_alerts_every_administrator_once(
    scan_engine: Engine, track_settings: Settings
) -> None:
    _add_admins(scan_engine, "one@example.com", "two@example.com")
    with Session(scan_engine) as session, session.begin():
        session.add(User(email="user@example.com", password_hash="x", email_verified_at=NOW))
    record_error(scan_engine, track_settings, _caught(_raise), source="job", now=NOW)
    assert _outbox(scan_engine) == 2
    record_error(scan_engine, track_settings, _caught(_raise), source="job", now=NOW)
    assert _outbox(scan_engine) == 2  # the same group again: no new alert
    record_error(scan_engine, track_settings, _caught(_raise_elsewhere), source="job", now=NOW)
    assert _outbox(scan_engine) == 4
    with Session(scan_engine) as session:
        recipients = sorted(session.scalars(select(OutboxEmail.recipient)))
        subject = session.scalars(select(OutboxEmail.subject)).first()
    assert recipients == [
        "one@example.com",
        "one@example.com",
        "two@example.com",
        "two@example.com",
    ]
    assert subject == "CryptoLens error: ValueError"


def test_a_new_group_reaches_an_administrators_channels_but_not_a_users(
    scan_engine: Engine, track_settings: Settings
) -> None:
    _add_admins(scan_engine, "admin@example.com")
    with Session(scan_engine) as session, session.begin():
        session.add(User(email="user@example.com", password_hash="x", email_verified_at=NOW))
        session.flush()
        for email in ("admin@example.com", "user@example.com"):
            user_id = session.scalars(select(User.id).where(User.email == email)).one()
            set_channel(
                session, track_settings, user_id=user_id, kind=ChannelKind.NTFY, address="topic"
            )
    recorded = record_error(scan_engine, track_settings, _caught(_raise), source="job", now=NOW)
    assert recorded is not None
    with Session(scan_engine) as session:
        rows = session.execute(select(Notification.source, User.email).join(User)).all()
    assert [tuple(r) for r in rows] == [(f"error:{recorded.group_id}", "admin@example.com")]


def test_a_failing_alert_never_hides_the_error(
    scan_engine: Engine, track_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("mail is down")

    monkeypatch.setattr(error_tracking, "alert_admins", broken)
    recorded = record_error(scan_engine, track_settings, _caught(_raise), source="job", now=NOW)
    assert recorded is not None
    assert recorded.new
    assert _groups(scan_engine) == [("_raise", 1, "open")]


def test_a_resolved_group_that_recurs_is_open_again(
    scan_engine: Engine, track_settings: Settings
) -> None:
    recorded = record_error(scan_engine, track_settings, _caught(_raise), source="job", now=NOW)
    assert recorded is not None
    with Session(scan_engine) as session, session.begin():
        set_status(session, group_id=recorded.group_id, resolved=True, now=NOW)
    assert _groups(scan_engine) == [("_raise", 1, "resolved")]
    with Session(scan_engine) as session:
        assert list_groups(session) == []
        assert [g.id for g in list_groups(session, status="resolved")] == [recorded.group_id]
    record_error(scan_engine, track_settings, _caught(_raise), source="job", now=NOW)
    assert _groups(scan_engine) == [("_raise", 2, "open")]


def test_list_groups_searches_type_module_function_and_message(
    scan_engine: Engine, track_settings: Settings
) -> None:
    record_error(scan_engine, track_settings, _caught(_raise, "disk full"), source="job", now=NOW)
    record_error(scan_engine, track_settings, _caught(_raise_elsewhere), source="job", now=NOW)
    with Session(scan_engine) as session:
        assert [g.function for g in list_groups(session, search="DISK")] == ["_raise"]
        assert [g.function for g in list_groups(session, search="elsewhere")] == [
            "_raise_elsewhere"
        ]
        assert len(list_groups(session, status=None, search="valueerror")) == 2


def test_a_failed_recorded_run_is_tracked_with_its_job_context(
    scan_engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", scan_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    with (
        pytest.raises(ValueError, match="boom"),
        recorded_run(scan_engine, "cleanup", target="X/USDT"),
    ):
        _raise("boom")
    with Session(scan_engine) as session:
        stored = session.scalars(select(ErrorGroup)).one()
    # The raising code is this test's: the innermost frame of the package is the run's.
    assert (stored.source, stored.module, stored.count) == (
        "job",
        "cryptolens.services.ops.job_runs",
        1,
    )
    assert stored.context is not None
    assert stored.context["job"] == "cleanup"
    assert stored.context["target"] == "X/USDT"
    assert "boom" in stored.traceback
