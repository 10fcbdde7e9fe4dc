"""The audit log service: secrets never stored, paging newest first."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from cryptolens.services.ops.audit import REMOVED, Actor, audit_page, record, scrub

ACTOR = Actor(user_id=None, email="ops@example.com", client_ip="203.0.113.9")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_scrub_removes_secret_looking_values_at_any_depth() -> None:
    clean = scrub(
        {
            "plan": "pro",
            "password": "hunter2",
            "api_key": "k",
            "nested": {"csrf_token": "t", "Session-Cookie": "c", "days": 3},
        }
    )
    assert clean == {
        "plan": "pro",
        "password": REMOVED,
        "api_key": REMOVED,
        "nested": {"csrf_token": REMOVED, "Session-Cookie": REMOVED, "days": 3},
    }


def test_rows_are_stored_scrubbed_and_paged_newest_first(session: Session) -> None:
    for n in range(5):
        record(
            session,
            ACTOR,
            f"act.{n}",
            target=str(n),
            details={"n": n, "secret": "s3cr3t"},
            now=T0 + timedelta(minutes=n),
        )
    session.flush()
    first = audit_page(session, page=1, size=2)
    assert (first.total, first.pages) == (5, 3)
    assert [e.action for e in first.entries] == ["act.4", "act.3"]
    last = audit_page(session, page=9, size=2)
    assert last.page == 3
    assert [e.action for e in last.entries] == ["act.0"]
    entry = last.entries[0]
    assert json.loads(entry.details) == {"n": 0, "secret": REMOVED}
    assert (entry.actor_email, entry.client_ip) == ("ops@example.com", "203.0.113.9")
