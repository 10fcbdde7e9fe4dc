"""RQ entry points for the portfolio: ids in, safe to run twice."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cryptolens.jobs.context import job_engine, job_redis, job_settings
from cryptolens.services.ops.background import release
from cryptolens.services.portfolio.analytics import refresh_analytics
from cryptolens.services.portfolio.analytics_snapshot import refresh_key


def refresh_portfolio_analytics_job(portfolio_id: int) -> bool:
    """Store a current analytics snapshot of ``portfolio_id`` (nothing to do when it has
    one, or is gone); True when it computed one."""
    settings = job_settings()
    # Let go first: a change committed while this runs queues the next refresh.
    release(job_redis(settings), refresh_key(portfolio_id))
    with Session(job_engine(settings)) as session:
        computed = refresh_analytics(session, portfolio_id=portfolio_id)
        session.commit()
    return computed
