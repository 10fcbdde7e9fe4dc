"""RQ entry point for backtests: a stored run's id in; progress goes to the job's meta (the
CLI and pages read it) and to the run's row."""

from __future__ import annotations

from rq import get_current_job

from cryptolens.jobs.context import job_engine, job_settings
from cryptolens.services.backtests.store import execute_run


def run_backtest_job(run_id: int) -> str:
    """Run the stored backtest ``run_id``; its final status (a finished run is left as is)."""
    settings = job_settings()
    current = get_current_job()

    def progress(fraction: float, stage: str) -> None:
        if current is not None:
            current.meta.update(progress=round(fraction, 4), stage=stage)
            current.save_meta()  # type: ignore[no-untyped-call]

    return execute_run(job_engine(settings), settings, run_id, progress=progress)
