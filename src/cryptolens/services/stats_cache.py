"""Precomputed summary figures (zones by state, signal outcomes), refreshed by a job so
pages and the API read one row instead of scanning big tables."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cryptolens.db.base import utcnow
from cryptolens.db.models import Pattern, Setting, Signal

KEY = "stats:summary"


def compute_summary(session: Session) -> dict[str, Any]:
    zones = session.execute(
        select(Pattern.timeframe, Pattern.pattern_type, Pattern.status, func.count())
        .group_by(Pattern.timeframe, Pattern.pattern_type, Pattern.status)
        .order_by(Pattern.timeframe, Pattern.pattern_type, Pattern.status)
    ).all()
    outcomes = session.execute(
        select(Signal.outcome, func.count(), func.avg(Signal.r_multiple))
        .group_by(Signal.outcome)
        .order_by(Signal.outcome)
    ).all()
    return {
        "zones": [
            {"timeframe": tf, "pattern_type": kind, "status": status, "count": int(n)}
            for tf, kind, status, n in zones
        ],
        "signal_outcomes": [
            {
                "outcome": outcome,
                "count": int(n),
                "avg_r": None if avg is None else float(avg),
            }
            for outcome, n, avg in outcomes
        ],
    }


def refresh_summary(engine: Engine) -> dict[str, Any]:
    """Recompute the summary and store it with the time it was computed."""
    with Session(engine) as session, session.begin():
        summary = compute_summary(session) | {"computed_at": utcnow().isoformat()}
        row = session.get(Setting, KEY)
        text = json.dumps(summary, separators=(",", ":"))
        if row is None:
            session.add(Setting(key=KEY, value=text))
        else:
            row.value = text
    return summary


def cached_summary(session: Session) -> dict[str, Any] | None:
    row = session.get(Setting, KEY)
    return None if row is None else dict(json.loads(row.value))
