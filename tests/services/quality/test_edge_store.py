"""Where the edge report is kept: its key follows the data, the parameters and the model
flag; a stored report is current only under the same key."""

from __future__ import annotations

import json
from pathlib import Path

from cryptolens.services.quality.edge_store import (
    FORMAT,
    SHIPPED_HISTORY,
    cache_path,
    cached_report,
    report_key,
    report_timeframes,
    save_report,
)
from tests.builders.settings import make_settings


def test_the_key_changes_with_the_data_the_parameters_and_the_model_flag(tmp_path: Path) -> None:
    settings = make_settings(instance_dir=tmp_path)
    history = tmp_path / "history.csv"
    history.write_text("open_time,open,high,low,close,volume\n0,1,1,1,1,1\n")
    key = report_key(settings, history)
    assert key == report_key(settings, history)
    assert key != report_key(make_settings(instance_dir=tmp_path, edge_seed=21), history)
    assert key != report_key(make_settings(instance_dir=tmp_path, edge_placebo_draws=2), history)
    assert key != report_key(settings, history, with_model=False)
    history.write_text("open_time,open,high,low,close,volume\n0,1,1,1,2,1\n")
    assert key != report_key(settings, history)


def test_a_stored_report_is_current_only_under_its_own_key(tmp_path: Path) -> None:
    settings = make_settings(instance_dir=tmp_path / "instance")
    assert cached_report(settings) is None
    report = {"format": FORMAT, "key": report_key(settings), "params": {"model": True}}
    save_report(settings, report)
    stored = cached_report(settings)
    assert stored is not None
    assert stored.current
    assert stored.report == report
    assert [p.name for p in cache_path(settings).parent.iterdir()] == ["edge-report.json"]
    other = make_settings(instance_dir=tmp_path / "instance", edge_seed=99)
    again = cached_report(other)
    assert again is not None
    assert not again.current


def test_without_its_history_file_no_report_is_current(tmp_path: Path) -> None:
    settings = make_settings(instance_dir=tmp_path)
    save_report(settings, {"format": FORMAT, "key": report_key(settings), "params": {}})
    stored = cached_report(settings, tmp_path / "gone.csv.gz")
    assert stored is not None
    assert not stored.current


def test_a_report_of_another_layout_reads_as_none(tmp_path: Path) -> None:
    settings = make_settings(instance_dir=tmp_path)
    cache_path(settings).write_text(json.dumps({"format": FORMAT + 1}))
    assert cached_report(settings) is None
    cache_path(settings).write_text("[1, 2]")
    assert cached_report(settings) is None


def test_the_report_uses_the_configured_timeframes_the_hourly_history_can_build() -> None:
    settings = make_settings(timeframes=("1m", "15m", "1h", "4h", "1d"))
    assert report_timeframes(settings) == ("1h", "4h", "1d")
    assert SHIPPED_HISTORY.is_file()
