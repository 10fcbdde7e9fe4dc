"""Runtime settings: validated on the way in, stored as text, forgiving on the way out."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.db.models import Setting
from cryptolens.domain.errors import ValidationError
from cryptolens.services.ops.runtime_settings import (
    RuntimeSettings,
    from_stored,
    load_runtime,
    parse_runtime,
    save_runtime,
)
from cryptolens.signals.params import SignalParams


def test_form_values_are_parsed_and_empty_means_not_set() -> None:
    parsed = parse_runtime(
        {
            "registration_open": "",
            "maintenance_banner": "  Back soon ",
            "scan_interval_seconds": "90",
            "signal_min_confluence": "",
            "signal_cooldown_minutes": "0",
        }
    )
    assert parsed == RuntimeSettings(
        registration_open=False,
        maintenance_banner="Back soon",
        scan_interval_seconds=90,
        signal_cooldown_minutes=0,
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("scan_interval_seconds", "9"),
        ("scan_interval_seconds", "1e3"),
        ("signal_min_confluence", "0"),
        ("signal_cooldown_minutes", "43201"),
        ("maintenance_banner", "x" * 301),
    ],
)
def test_bad_values_are_refused_naming_the_field(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field.replace("_", " ")):
        parse_runtime({field: value})


def test_overrides_change_only_the_signal_rules_they_name() -> None:
    base = SignalParams()
    assert RuntimeSettings().signal_params(base) == base
    tuned = RuntimeSettings(signal_min_confluence=3, signal_cooldown_minutes=10)
    params = tuned.signal_params(base)
    assert (params.min_confluence, params.cooldown_ms) == (3, 600_000)
    assert params.targets_r == base.targets_r
    assert RuntimeSettings(scan_interval_seconds=120).scan_interval(60) == 120
    assert RuntimeSettings().scan_interval(60) == 60


def test_a_bad_stored_value_falls_back_to_its_default_alone() -> None:
    loaded = from_stored(
        {"runtime.scan_interval_seconds": "often", "runtime.signal_min_confluence": "4"}
    )
    assert loaded == RuntimeSettings(signal_min_confluence=4)


def test_saving_stores_text_rows_and_reports_what_changed(session: Session) -> None:
    assert save_runtime(session, RuntimeSettings(scan_interval_seconds=120), now=utcnow()) == [
        "scan_interval_seconds"
    ]
    session.flush()
    assert session.get(Setting, "runtime.scan_interval_seconds").value == "120"  # type: ignore[union-attr]
    assert load_runtime(session).scan_interval_seconds == 120
    assert save_runtime(session, RuntimeSettings(scan_interval_seconds=120), now=utcnow()) == []
