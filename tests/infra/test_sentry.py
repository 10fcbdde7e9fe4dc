"""SENTRY_DSN: error tracking also reports each recorded exception, with its scrubbed context
and nothing else (no local variables), through the official SDK; unset, nothing is sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from cryptolens.infra import sentry
from tests.builders.settings import make_settings

DSN = "https://public@127.0.0.1:9/1"


class Capture(Transport):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        for item in envelope.items:
            event = item.get_event()
            if event is not None:
                self.events.append(event)


@pytest.fixture
def capture(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Capture]:
    monkeypatch.setitem(sentry._state, "on", False)
    transport = Capture()
    assert sentry.init_sentry(
        make_settings(instance_dir=tmp_path, sentry_dsn=DSN), transport=transport
    )
    yield transport
    sentry_sdk.init()  # no DSN: the SDK is off again


def _fail(value: str) -> None:  # not named "password": the SDK filters that name itself
    raise RuntimeError(f"failed for {len(value)} characters")


def test_without_a_dsn_nothing_starts(tmp_path: Path) -> None:
    assert not sentry.init_sentry(make_settings(instance_dir=tmp_path, sentry_dsn=""))


def test_a_reported_error_carries_the_scrubbed_context_and_no_locals(capture: Capture) -> None:
    secret = "".join(reversed("terces-2retnuh"))  # not in the source lines Sentry sends
    try:
        _fail(secret)
    except RuntimeError as error:
        sentry.report(error, source="web", context={"path": "/x", "password": "[redacted]"})
    sentry_sdk.flush()
    [event] = capture.events
    assert event["tags"]["source"] == "web"
    assert event["contexts"]["cryptolens"] == {"path": "/x", "password": "[redacted]"}
    assert event["exception"]["values"][0]["type"] == "RuntimeError"
    assert "hunter2" not in repr(event)
