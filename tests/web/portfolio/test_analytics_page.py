"""The analytics page: figures of the closed trades, the equity curve's points in a data
attribute for static/js/equity.js (no inline script), "you vs the signals"; 404 for another
owner's portfolio; a fixed number of queries whatever the number of trades."""

from __future__ import annotations

import json
import re

from flask import Flask
from sqlalchemy import event

from cryptolens.domain.plans import Plan
from cryptolens.extensions import db
from tests.builders.portfolio import PortfolioOwner, TradeSpec, add_portfolio, add_trade
from tests.builders.portfolio_web import Trader
from tests.web.seeding import add_signal, add_symbol

_POINTS = re.compile(r"data-points='([^']*)'")


def _points(page: str) -> list[dict[str, float]]:
    match = _POINTS.search(page)
    assert match, "no data-points on the page"
    points: list[dict[str, float]] = json.loads(match.group(1))
    return points


def test_the_page_shows_the_figures_and_the_equity_points(pro: Trader) -> None:
    page = pro.client.get(f"/portfolio/{pro.seeded.portfolio}/analytics")
    assert page.status_code == 200
    assert 'id="closed-count">1<' in page.text
    assert 'id="win-rate">100.0%<' in page.text
    points = _points(page.text)
    assert [p["value"] for p in points] == [10000.0, 10010.0]
    assert points[0]["time"] < points[1]["time"]
    assert "js/equity.js" in page.text
    assert "<script>" not in page.text


def test_you_vs_the_signals_sets_the_traders_r_beside_the_signals(app: Flask, pro: Trader) -> None:
    with app.app_context():
        symbol_id = add_symbol(db.session, "ETH/USDT")
        signal_id = add_signal(
            db.session, symbol_id=symbol_id, status="closed", outcome="tp2", r_multiple=2.0
        ).id
        owner = PortfolioOwner(pro.user_id, Plan.PRO)
        add_trade(db.session, owner, pro.seeded.portfolio, TradeSpec(signal_id=signal_id))
        db.session.commit()
    page = pro.client.get(f"/portfolio/{pro.seeded.portfolio}/analytics").text
    assert 'id="your-r">+2.00R<' in page
    assert 'id="signal-r">+2.00R<' in page
    assert f'href="/signals/{signal_id}"' in page


def test_an_empty_portfolio_says_the_curve_starts_with_the_first_trade(
    app: Flask, pro: Trader
) -> None:
    with app.app_context():
        empty = add_portfolio(db.session, PortfolioOwner(pro.user_id, Plan.PRO), name="Empty")
        db.session.commit()
    page = pro.client.get(f"/portfolio/{empty}/analytics").text
    assert _points(page) == []
    assert 'id="equity-empty"' in page


def test_another_owners_analytics_are_not_found(pro: Trader, rival: Trader) -> None:
    assert pro.client.get(f"/portfolio/{rival.seeded.portfolio}/analytics").status_code == 404


def _queries(app: Flask, pro: Trader) -> int:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert pro.client.get(f"/portfolio/{pro.seeded.portfolio}/analytics").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_the_page_runs_the_same_number_of_queries_for_2_or_40_trades(
    app: Flask, pro: Trader
) -> None:
    few = _queries(app, pro)
    with app.app_context():
        owner = PortfolioOwner(pro.user_id, Plan.PRO)
        for n in range(38):
            spec = TradeSpec(symbol="ETH/USDT" if n % 2 else "BTC/USDT", tags=(f"t{n % 5}",))
            add_trade(db.session, owner, pro.seeded.portfolio, spec)
        db.session.commit()
    assert _queries(app, pro) == few
