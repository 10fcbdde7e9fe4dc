"""Queue names and priorities (each job's queue and timeout are in ``domain.jobs``)."""

from __future__ import annotations

from cryptolens.domain.jobs import PRIORITY, QueueName

#: A lock outlives its job's timeout a little, so a killed job's lock still expires.
LOCK_GRACE_SECONDS = 30

__all__ = ["LOCK_GRACE_SECONDS", "PRIORITY", "QueueName"]
