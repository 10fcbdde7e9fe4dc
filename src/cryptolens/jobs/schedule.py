"""The schedule, cron-like: each entry fires once per slot (a wall-clock period). The
entries come from the job registry (``domain.jobs.schedule``)."""

from __future__ import annotations

from cryptolens.domain.jobs import DAY, Entry, schedule

__all__ = ["DAY", "Entry", "schedule"]
