"""Zones (patterns), signals, one signal with its zones and outcome, and the track record.

The same plan rules as the pages: Free sees neither list (403 naming the plan), Pro the newest
100 zones and 50 signals (the cursor stops there), Premium everything."""

from __future__ import annotations

from typing import Any

from flask import current_app

from cryptolens.db.symbols import require_symbol
from cryptolens.domain.api_scopes import Scope
from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.accounts import policy
from cryptolens.services.views.keyset import CursorPage, parse_cursor
from cryptolens.services.views.signal_list import (
    SignalFilters,
    list_signals_after,
    signal_detail,
)
from cryptolens.services.views.track_record import GROUP_KEYS, track_record
from cryptolens.services.views.zone_list import PatternFilters, list_patterns_after
from cryptolens.web.api.v1 import bp
from cryptolens.web.api.v1.answers import Answer, answer, rows, shallow
from cryptolens.web.api.v1.models import (
    Out,
    PatternsEnvelope,
    SignalEnvelope,
    SignalsEnvelope,
    TrackRecordEnvelope,
)
from cryptolens.web.api.v1.queries import (
    MAX_ID,
    NoQuery,
    PatternQuery,
    SignalQuery,
    TrackRecordQuery,
)
from cryptolens.web.api.v1.spec import endpoint
from cryptolens.web.principal import current_principal


def _paged(model: type[Out], page: CursorPage[Any], limit: int) -> Answer:
    following = page.next_cursor.encode() if page.next_cursor is not None else None
    return answer(model, rows(page.rows), limit=limit, next_cursor=following)


@bp.get("/patterns")
@endpoint(Scope.READ_PATTERNS, resp=PatternsEnvelope, tag="patterns", query=PatternQuery)
def patterns(query: PatternQuery) -> Answer:
    """Zones newest first, filtered like the patterns page; page on with ``cursor``."""
    limit_total = policy.patterns_page_limit(current_principal())
    filters = PatternFilters(
        symbol=query.symbol,
        timeframe=query.timeframe,
        pattern_type=query.type,
        direction=query.direction,
        status=query.status,
    )
    page = list_patterns_after(
        db.session(),
        exchange=app_settings(current_app).exchange_id,
        filters=filters,
        limit=query.limit,
        cursor=parse_cursor(query.cursor),
        limit_total=limit_total,
    )
    return _paged(PatternsEnvelope, page, query.limit)


@bp.get("/signals")
@endpoint(Scope.READ_SIGNALS, resp=SignalsEnvelope, tag="signals", query=SignalQuery)
def signals(query: SignalQuery) -> Answer:
    """Signals newest first, filtered like the signals page; page on with ``cursor``."""
    limit_total = policy.signals_page_limit(current_principal())
    filters = SignalFilters(
        symbol=query.symbol, direction=query.direction, status=query.status, outcome=query.outcome
    )
    page = list_signals_after(
        db.session(),
        exchange=app_settings(current_app).exchange_id,
        filters=filters,
        limit=query.limit,
        cursor=parse_cursor(query.cursor),
        limit_total=limit_total,
    )
    return _paged(SignalsEnvelope, page, query.limit)


@bp.get(f"/signals/<int(max={MAX_ID}):signal_id>")
@endpoint(Scope.READ_SIGNALS, resp=SignalEnvelope, tag="signals", query=NoQuery)
def signal(signal_id: int) -> Answer:
    """One signal with its levels, the zones that formed it and its outcome."""
    principal = current_principal()
    found = signal_detail(
        db.session(),
        signal_id=signal_id,
        exchange=app_settings(current_app).exchange_id,
        count_newer_within=policy.signals_page_limit(principal),
    )
    policy.check_signal_visible(principal, newer=found.newer)
    data = {
        "signal": shallow(found.signal),
        "zones": rows(found.zones),
        "market_now": found.market_now,
    }
    return answer(SignalEnvelope, data)


@bp.get("/track-record")
@endpoint(Scope.READ_SIGNALS, resp=TrackRecordEnvelope, tag="signals", query=TrackRecordQuery)
def record(query: TrackRecordQuery) -> Answer:
    """Trades, win rate, average R and expectancy of closed signals, grouped as asked."""
    session = db.session()
    symbol_id = None
    if query.symbol is not None:
        exchange = app_settings(current_app).exchange_id
        symbol_id = require_symbol(session, exchange=exchange, symbol=query.symbol).id
    groups = tuple(query.group_by) if query.group_by is not None else GROUP_KEYS
    found = track_record(
        session,
        symbol_id=symbol_id,
        direction=query.direction,
        group_by=tuple(dict.fromkeys(groups)),  # type: ignore[arg-type]
    )
    return answer(TrackRecordEnvelope, rows(found))
