"""Background work: RQ job entry points, queues, locks and the scheduler.

Jobs are thin adapters onto services: they take ids and primitives, build their own engine
from the environment's settings (a worker is just another entry point), run with explicit
timeouts, record every run in ``job_runs`` and are safe to run twice.
"""
