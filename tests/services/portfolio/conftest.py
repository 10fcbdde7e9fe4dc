"""Portfolio fixtures: plans switched off for one test; the statements a test runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from cryptolens.services.accounts import policy


@pytest.fixture
def plans_off(app: Flask) -> Iterator[None]:
    """After the app is built (``create_app`` sets the switch from its settings)."""
    policy.configure(plans_enabled=False)
    yield
    policy.configure(plans_enabled=True)


@pytest.fixture
def statements(session: Session) -> Iterator[list[str]]:
    """Every SQL statement the session's engine runs during the test."""
    seen: list[str] = []
    engine = session.get_bind()
    assert isinstance(engine, Engine)

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)
