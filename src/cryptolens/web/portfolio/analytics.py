"""A portfolio's analytics page: figures, breakdowns, "you vs the signals" and the equity
curve, which ``static/js/equity.js`` draws from the points in a data attribute."""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template

from cryptolens.db.transactions import unit_of_work
from cryptolens.extensions import db
from cryptolens.services.portfolio import portfolios
from cryptolens.services.portfolio.analytics import Analytics, portfolio_analytics
from cryptolens.web.filters import reader_zone
from cryptolens.web.portfolio import bp
from cryptolens.web.principal import current_principal

#: Breakdown tables in the order the page shows them, with their headings.
BREAKDOWNS = (
    ("tag", "Tag"),
    ("setup", "Setup"),
    ("symbol", "Symbol"),
    ("direction", "Direction"),
    ("weekday", "Weekday"),
    ("hour", "Hour"),
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class _AnalyticsOwner:
    """The owner as the analytics service names it (by ``id``)."""

    id: int


def equity_points(found: Analytics) -> list[dict[str, float | int]]:
    """The equity curve for the chart: epoch seconds and the balance after each close."""
    return [
        {"time": int(point.at.timestamp()), "value": float(point.equity)}
        for point in found.equity_curve
    ]


def summary_of(found: Analytics) -> dict[str, object]:
    """The headline figures the API answers with a portfolio."""
    figures, versus = found.summary.figures, found.versus_signals
    return {
        "closed_trades": figures.trades,
        "open_trades": found.summary.open_trades,
        "wins": figures.wins,
        "losses": figures.losses,
        "win_rate": figures.win_rate,
        "profit_factor": figures.profit_factor,
        "expectancy_r": figures.expectancy_r,
        "net_pnl": figures.net_pnl,
        "largest_win": found.summary.largest_win,
        "largest_loss": found.summary.largest_loss,
        "max_drawdown": found.drawdown.amount,
        "max_drawdown_percent": found.drawdown.percent,
        "linked_to_signals": versus.linked,
        "average_r_on_signals": versus.average_r,
        "signals_average_r": versus.signal_average_r,
    }


def load_analytics(portfolio_id: int) -> Analytics:
    """The signed-in owner's analytics of ``portfolio_id`` (NotFoundError for anyone else's);
    a snapshot computed on the way is committed."""
    principal = current_principal()
    owner = _AnalyticsOwner(id=principal.user_id or 0)
    with unit_of_work(db.session()) as work:
        return portfolio_analytics(
            work, owner=owner, portfolio_id=portfolio_id, tz=reader_zone().key
        )


@bp.get("/<int:portfolio_id>/analytics")
def analytics(portfolio_id: int) -> str:
    found = load_analytics(portfolio_id)
    portfolio = portfolios.get_portfolio(
        db.session(), owner=current_principal(), portfolio_id=portfolio_id
    )
    return render_template(
        "portfolio/analytics.html",
        portfolio=portfolio,
        found=found,
        points=equity_points(found),
        breakdowns=BREAKDOWNS,
        weekdays=WEEKDAYS,
    )
