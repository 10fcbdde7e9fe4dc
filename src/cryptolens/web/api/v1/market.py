"""Symbols, candles and the pattern matrix."""

from __future__ import annotations

from flask import current_app

from cryptolens.db.symbols import ensure_symbol, list_symbols, require_symbol
from cryptolens.domain.api_scopes import Scope
from cryptolens.domain.symbols import parse_symbol
from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.accounts import policy
from cryptolens.services.views.chart import ChartQuery, chart_candles
from cryptolens.services.views.matrix import pattern_matrix
from cryptolens.web.api.v1 import bp
from cryptolens.web.api.v1.answers import Answer, answer, shallow
from cryptolens.web.api.v1.models import (
    CandlesEnvelope,
    MatrixEnvelope,
    SymbolEnvelope,
    SymbolsEnvelope,
)
from cryptolens.web.api.v1.queries import CandleQuery, MatrixQuery, NoQuery, SymbolBody
from cryptolens.web.api.v1.spec import endpoint
from cryptolens.web.principal import current_principal


def _symbol_out(row: object) -> dict[str, object]:
    return {name: getattr(row, name) for name in ("symbol", "exchange", "base", "quote", "active")}


@bp.get("/symbols")
@endpoint(Scope.READ_SYMBOLS, resp=SymbolsEnvelope, tag="symbols", query=NoQuery)
def symbols() -> Answer:
    """Watched symbols (those the caller's plan shows)."""
    visible = policy.visible_symbols(current_principal())
    found = list_symbols(
        db.session(), exchange=app_settings(current_app).exchange_id, active_only=True
    )
    shown = [_symbol_out(s) for s in found if visible is None or s.symbol in visible]
    return answer(SymbolsEnvelope, shown)


@bp.post("/symbols")
@endpoint(Scope.ADMIN_SYMBOLS, resp=SymbolEnvelope, tag="symbols", json=SymbolBody, status=201)
def add_symbol(json: SymbolBody) -> Answer:
    """Watch a symbol (administrators); scans pick it up on their next run."""
    session = db.session()
    added = ensure_symbol(
        session, exchange=app_settings(current_app).exchange_id, symbol=json.symbol
    )
    session.commit()
    return answer(SymbolEnvelope, _symbol_out(added), status=201)


@bp.delete("/symbols/<base>/<quote>")
@endpoint(Scope.ADMIN_SYMBOLS, resp=SymbolEnvelope, tag="symbols", query=NoQuery)
def remove_symbol(base: str, quote: str) -> Answer:
    """Stop watching a symbol (administrators); its data is kept."""
    session = db.session()
    exchange = app_settings(current_app).exchange_id
    found = require_symbol(session, exchange=exchange, symbol=parse_symbol(f"{base}/{quote}"))
    found.active = False
    found.deactivated_reason = "removed through the API"
    session.commit()
    return answer(SymbolEnvelope, _symbol_out(found))


@bp.get("/candles")
@endpoint(Scope.READ_MARKET, resp=CandlesEnvelope, tag="market", query=CandleQuery)
def candles(query: CandleQuery) -> Answer:
    """Stored candles of one symbol and timeframe, oldest first (the newest ``limit``)."""
    settings = app_settings(current_app)
    policy.check_symbol_visible(current_principal(), query.symbol)
    found = chart_candles(
        db.session(),
        query=ChartQuery(
            exchange=settings.exchange_id,
            symbol=query.symbol,
            timeframe=query.timeframe or settings.base_timeframe,
            limit=query.limit,
            start_ms=query.start,
            end_ms=query.end,
        ),
    )
    data = shallow(found)
    return answer(CandlesEnvelope, data, count=len(found.open_time), limit=query.limit)


@bp.get("/matrix")
@endpoint(Scope.READ_MARKET, resp=MatrixEnvelope, tag="market", query=MatrixQuery)
def matrix(query: MatrixQuery) -> Answer:
    """Open zones per symbol and timeframe, by pattern type and direction."""
    principal = current_principal()
    found = pattern_matrix(
        db.session(),
        timeframes=query.timeframe or app_settings(current_app).timeframes,
        symbols=policy.visible_symbols(principal),
        pattern_types=policy.pattern_types(principal),
    )
    cells = [
        {
            "symbol": cell.symbol,
            "timeframe": cell.timeframe,
            "counts": [{"pattern_type": t, "direction": d, "count": n} for t, d, n in cell.counts],
        }
        for cell in found.cells.values()
    ]
    data = {"symbols": found.symbols, "timeframes": found.timeframes, "cells": cells}
    return answer(MatrixEnvelope, data, count=len(cells))
