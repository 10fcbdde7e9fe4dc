from __future__ import annotations

import importlib

from cryptolens.domain.jobs import JOBS, RUN_JOB, QueueName, job, schedule
from cryptolens.jobs import tasks


def test_every_registered_function_is_importable_by_the_path_rq_stores() -> None:
    for spec in JOBS:
        module, _, name = spec.function.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), spec.name


def test_every_job_run_by_name_has_work_the_in_process_runner_can_call() -> None:
    for spec in JOBS:
        if spec.function == RUN_JOB:
            assert callable(tasks.work_for(spec.name))


def test_high_queue_jobs_time_out_within_a_minute() -> None:
    high = [spec for spec in JOBS if spec.queue is QueueName.HIGH]
    assert {spec.name for spec in high} >= {"dispatch_events", "deliver_outbox", "send_email"}
    assert all(spec.timeout <= 60 for spec in high)


def test_the_schedule_is_the_registrys_scheduled_jobs_with_the_scan_interval_applied() -> None:
    entries = {e.name: e for e in schedule(scan_every=15)}
    assert set(entries) == {spec.name for spec in JOBS if spec.scheduled}
    assert entries["scan"].every == 15
    assert entries["cleanup"] == job("cleanup").entry()
    assert "send_email" not in entries
