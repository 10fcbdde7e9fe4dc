from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cryptolens.domain.errors import ValidationError
from cryptolens.web.backtests.forms import MAX_ADVANCED, advanced_params, backtest_form


def test_the_until_day_is_included_and_blank_fields_are_left_to_the_defaults() -> None:
    form = backtest_form(
        {"symbol": " BTC/USDT ", "since": "2024-01-01", "until": "2024-01-31", "tp1_r": " "}
    )
    assert form.symbol == "BTC/USDT"
    assert form.since == datetime(2024, 1, 1, tzinfo=UTC)
    assert form.until == datetime(2024, 2, 1, tzinfo=UTC)
    assert form.params == {}


def test_advanced_lines_add_parameters_and_override_the_fields() -> None:
    form = backtest_form(
        {
            "since": "2024-01-01",
            "until": "2024-01-02",
            "risk_pct": "1",
            "advanced": "# comment\n\n risk_pct = 2 \nbreak_even=false\n",
        }
    )
    assert form.params == {"risk_pct": "2", "break_even": "false"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("risk_pct", "line 1: write name=value"),
        ("\n=3", "line 2: write name=value"),
        ("tp1_r=1\ntp1_r=2", "tp1_r is given twice"),
        ("x" * (MAX_ADVANCED + 1), "at most 4,000 characters"),
    ],
)
def test_malformed_advanced_lines_are_refused_by_line(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        advanced_params(text)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"until": "2024-01-02"}, "Since is required"),
        ({"since": "2024-01-01"}, "Until is required"),
        ({"since": "yesterday", "until": "2024-01-02"}, "Since must be a date"),
    ],
)
def test_the_dates_are_required_iso_days(fields: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        backtest_form(fields)


def test_the_sweep_section_is_a_sweep_object_and_swept_fields_are_not_fixed() -> None:
    asked = backtest_form(
        {
            "since": "2024-01-01",
            "until": "2024-01-31",
            "min_confluence": "2",
            "risk_pct": "1",
            "tp1_r": "1",
            "sweep": "min_confluence=1,2\n# a comment\n\ntargets=1/2/3,1/3/5",
            "sweep_mode": "random",
            "sweep_count": "3",
            "sweep_seed": "7",
            "sweep_metric": "sortino",
            "wf_in_days": "60",
            "wf_out_days": "",
        }
    )
    assert asked.params == {"risk_pct": "1"}
    assert asked.sweep == {
        "space": ["min_confluence=1,2", "targets=1/2/3,1/3/5"],
        "mode": "random",
        "metric": "sortino",
        "seed": 7,
        "count": 3,
        "walk_forward": {"in_days": "60", "out_days": "0"},
    }


def test_a_form_without_sweep_values_or_days_is_a_single_run() -> None:
    asked = backtest_form({"since": "2024-01-01", "until": "2024-01-31", "sweep": " \n"})
    assert asked.sweep is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"sweep_count": "many"}, "Combinations to draw must be a whole number"),
        ({"sweep": "x" * 5_000}, "sweep values: at most 4,000 characters"),
    ],
)
def test_bad_sweep_fields_are_named(fields: dict[str, str], message: str) -> None:
    form = {"since": "2024-01-01", "until": "2024-01-31", "sweep": "min_confluence=1,2"}
    with pytest.raises(ValidationError, match=message):
        backtest_form(form | fields)
