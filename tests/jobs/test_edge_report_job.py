"""The daily ``edge_report`` job computes and stores the report for the page, and leaves a
current one alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from cryptolens.jobs import tasks
from cryptolens.services.quality.edge_store import cache_path, cached_report
from tests.builders.settings import make_settings


@pytest.mark.slow
def test_the_job_stores_the_report_once_and_skips_while_it_is_current(tmp_path: Path) -> None:
    settings = make_settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        instance_dir=tmp_path / "instance",
        base_timeframe="1h",
        timeframes=("1h", "1d"),
        edge_placebo_draws=2,
    )
    assert cached_report(settings) is None
    assert tasks.edge_report(None, settings) == {"computed": 1}  # type: ignore[arg-type]
    stored = cached_report(settings)
    assert stored is not None
    assert stored.current
    assert stored.report["params"]["model"] is True
    written = cache_path(settings).stat().st_mtime_ns
    again = tasks.edge_report(None, settings)  # type: ignore[arg-type]
    assert again == {"computed": 0, "reason": "the stored report is current"}
    assert cache_path(settings).stat().st_mtime_ns == written
