"""Recorded job runs: the processing-time histogram moves with every run, by job and outcome."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from cryptolens.domain.enums import JobStatus
from cryptolens.services.ops.job_runs import recent_runs, recorded_run
from tests.builders.metrics import recorded

COUNT = "cryptolens_job_processing_seconds_count"


def test_a_finished_run_is_timed_under_its_name_and_status(scan_engine: Engine) -> None:
    before = recorded(COUNT, job="cleanup", status="succeeded")
    with recorded_run(scan_engine, "cleanup"):
        pass
    assert recorded(COUNT, job="cleanup", status="succeeded") == before + 1
    assert recorded("cryptolens_job_processing_seconds_sum", job="cleanup") > 0


def test_a_failed_and_a_skipped_run_are_timed_under_their_outcome(scan_engine: Engine) -> None:
    failed = recorded(COUNT, job="scan_symbol", status="failed")
    skipped = recorded(COUNT, job="scan_symbol", status="skipped")
    with pytest.raises(RuntimeError), recorded_run(scan_engine, "scan_symbol", target="X/USDT"):
        raise RuntimeError("boom")
    with recorded_run(scan_engine, "scan_symbol", target="X/USDT") as run:
        run.status = JobStatus.SKIPPED
    assert recorded(COUNT, job="scan_symbol", status="failed") == failed + 1
    assert recorded(COUNT, job="scan_symbol", status="skipped") == skipped + 1
    # The target (a symbol) is not a label: one series per job, however many symbols.
    assert [r.status for r in recent_runs(scan_engine, name="scan_symbol")] == [
        "skipped",
        "failed",
    ]
