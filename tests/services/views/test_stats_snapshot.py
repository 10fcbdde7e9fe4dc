"""The stats snapshot: what the refresh job stores is what the page shows, until it is old."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.services.views.stats import (
    SNAPSHOT_MAX_AGE,
    load_snapshot,
    page_statistics,
    refresh_snapshot,
    statistics,
)
from tests.web.seeding import add_pattern, add_signal, add_symbol


def _seed(session: Session) -> int:
    symbol_id = add_symbol(session, "BTC/USDT")
    for kind in ("fvg", "order_block"):
        add_pattern(session, symbol_id=symbol_id, pattern_type=kind, status="filled")
    add_signal(session, symbol_id=symbol_id, status="closed", outcome="tp2", r_multiple=1.0)
    add_signal(session, symbol_id=symbol_id, status="closed", outcome="stop", r_multiple=-1.0)
    session.commit()
    return symbol_id


def test_the_stored_snapshot_reads_back_as_the_figures_computed(session: Session) -> None:
    _seed(session)
    stored = refresh_snapshot(session)
    session.commit()
    loaded = load_snapshot(session, now=utcnow())
    assert loaded == stored
    assert loaded is not None
    assert loaded.overall is not None
    assert (loaded.overall.trades, loaded.overall.wins) == (2, 1)
    assert {z.pattern_type for z in loaded.zones} == {"fvg", "order_block"}


def test_the_page_shows_the_snapshot_until_it_is_too_old(session: Session) -> None:
    symbol_id = _seed(session)
    refresh_snapshot(session)
    session.commit()
    add_signal(session, symbol_id=symbol_id, status="closed", outcome="tp1", r_multiple=0.3)
    session.commit()
    shown = page_statistics(session)
    assert shown.overall is not None
    assert shown.overall.trades == 2  # the snapshot, not the live tables
    live = statistics(session)
    assert live.overall is not None
    assert live.overall.trades == 3
    later = utcnow() + SNAPSHOT_MAX_AGE + timedelta(seconds=1)
    assert load_snapshot(session, now=later) is None
