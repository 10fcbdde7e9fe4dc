"""Portfolios and their trades: list, create, one with its analytics summary, trades (a new
one may take a signal: "take this trade"), fills, and the CSV export. Owner-scoped like the
pages: another owner's ids are 404s; a plan without the portfolio gets a 403 naming the plan."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from cryptolens.clock import utcnow
from cryptolens.db.transactions import unit_of_work
from cryptolens.domain.api_scopes import Scope
from cryptolens.domain.errors import NotFoundError
from cryptolens.domain.plans import Capability
from cryptolens.domain.trades import Fill, Side
from cryptolens.extensions import db
from cryptolens.services.accounts import policy
from cryptolens.services.portfolio import csv_io, portfolios, trades
from cryptolens.services.portfolio.portfolios import PortfolioInput
from cryptolens.services.portfolio.signal_link import prefill_from_signal
from cryptolens.services.portfolio.trades import TradeInput, TradeView
from cryptolens.web.api.v1 import bp
from cryptolens.web.api.v1.answers import Answer, answer, shallow
from cryptolens.web.api.v1.portfolio_schemas import (
    ExportEnvelope,
    FillBody,
    PortfolioBody,
    PortfolioDetailEnvelope,
    PortfolioEnvelope,
    PortfoliosEnvelope,
    TradeBody,
    TradeEnvelope,
    TradeQuery,
    TradesEnvelope,
)
from cryptolens.web.api.v1.queries import MAX_ID, NoQuery
from cryptolens.web.api.v1.spec import endpoint
from cryptolens.web.portfolio.analytics import load_analytics, summary_of
from cryptolens.web.principal import Principal, current_principal

TAG = "portfolio"
PORTFOLIO = f"/portfolios/<int(max={MAX_ID}):portfolio_id>"


def _owner() -> Principal:
    """The caller, if their plan includes the portfolio (TierRequiredError otherwise)."""
    principal = current_principal()
    policy.require(principal, Capability.PORTFOLIO)
    return principal


def _trade_out(view: TradeView) -> dict[str, object]:
    data = shallow(view)
    figures = shallow(data.pop("figures"))
    del figures["lots"]  # a stored trade keeps its totals only
    data.update(figures)
    data["targets"] = list(view.targets)
    data["tags"] = list(view.tags)
    data["fills"] = [shallow(f) for f in view.fills]
    return data


@bp.get("/portfolios")
@endpoint(Scope.READ_PORTFOLIO, resp=PortfoliosEnvelope, tag=TAG, query=NoQuery)
def list_portfolios() -> Answer:
    """The caller's portfolios by name, with their trade counts."""
    found = portfolios.list_portfolios(db.session(), owner=_owner())
    return answer(PortfoliosEnvelope, [shallow(p) for p in found])


@bp.post("/portfolios")
@endpoint(Scope.WRITE_PORTFOLIO, resp=PortfolioEnvelope, tag=TAG, json=PortfolioBody, status=201)
def create_portfolio(json: PortfolioBody) -> Answer:
    """A new portfolio (Pro: one; Premium: any number)."""
    data = PortfolioInput(
        name=json.name,
        quote_currency=json.quote_currency,
        initial_balance=json.initial_balance,
        description=json.description,
    )
    with unit_of_work(db.session()) as work:
        made = portfolios.create_portfolio(work, owner=_owner(), data=data, now=utcnow())
    return answer(PortfolioEnvelope, shallow(made), status=201)


@bp.get(PORTFOLIO)
@endpoint(Scope.READ_PORTFOLIO, resp=PortfolioDetailEnvelope, tag=TAG, query=NoQuery)
def get_portfolio(portfolio_id: int) -> Answer:
    """One portfolio with the summary of its analytics (closed trades)."""
    found = portfolios.get_portfolio(db.session(), owner=_owner(), portfolio_id=portfolio_id)
    summary = summary_of(load_analytics(portfolio_id))
    return answer(PortfolioDetailEnvelope, {"portfolio": shallow(found), "summary": summary})


@bp.get(f"{PORTFOLIO}/trades")
@endpoint(Scope.READ_PORTFOLIO, resp=TradesEnvelope, tag=TAG, query=TradeQuery)
def list_trades(portfolio_id: int, query: TradeQuery) -> Answer:
    """A portfolio's trades, newest first, with their fills and tags."""
    found = trades.list_trades(
        db.session(),
        owner=_owner(),
        portfolio_id=portfolio_id,
        status=query.status,
        limit=query.limit,
        with_fills=True,
    )
    return answer(TradesEnvelope, [_trade_out(t) for t in found], limit=query.limit)


def _fill(body: FillBody) -> Fill:
    return Fill(Side(body.side), body.at, body.price, body.quantity, body.fee)


def _trade_input(body: TradeBody, owner: Principal) -> TradeInput:
    """The body as a trade; with ``signal_id``, what it leaves out comes from the signal."""
    given = TradeInput(
        symbol=body.symbol or "",
        direction=body.direction or "",
        planned_stop=body.planned_stop or Decimal(0),
        fills=tuple(_fill(f) for f in body.fills),
        targets=tuple(body.targets or ()),
        setup=body.setup,
        notes=body.notes,
        mistakes=body.mistakes,
        emotions=body.emotions,
        tags=tuple(body.tags),
        signal_id=body.signal_id,
    )
    if body.signal_id is None:
        return given
    draft = prefill_from_signal(db.session(), owner=owner, signal_id=body.signal_id)
    return replace(
        given,
        symbol=body.symbol or draft.symbol,
        direction=body.direction or draft.direction.value,
        planned_stop=body.planned_stop or draft.planned_stop,
        targets=tuple(body.targets) if body.targets is not None else draft.targets,
    )


@bp.post(f"{PORTFOLIO}/trades")
@endpoint(Scope.WRITE_PORTFOLIO, resp=TradeEnvelope, tag=TAG, json=TradeBody, status=201)
def create_trade(portfolio_id: int, json: TradeBody) -> Answer:
    """A new trade from its fills (Pro: 5 new trades a day)."""
    owner = _owner()
    data = _trade_input(json, owner)
    with unit_of_work(db.session()) as work:
        made = trades.create_trade(
            work, owner=owner, portfolio_id=portfolio_id, data=data, now=utcnow()
        )
    return answer(TradeEnvelope, _trade_out(made), status=201)


@bp.post(f"{PORTFOLIO}/trades/<int(max={MAX_ID}):trade_id>/fills")
@endpoint(Scope.WRITE_PORTFOLIO, resp=TradeEnvelope, tag=TAG, json=FillBody, status=201)
def add_fill(portfolio_id: int, trade_id: int, json: FillBody) -> Answer:
    """Add an entry (scale-in) or an exit (partial or whole) to a trade; answers the trade."""
    owner = _owner()
    with unit_of_work(db.session()) as work:
        current = trades.get_trade(work, owner=owner, trade_id=trade_id)
        if current.portfolio_id != portfolio_id:
            raise NotFoundError(f"No trade with id {trade_id} in portfolio {portfolio_id}.")
        changed = trades.add_fill(
            work, owner=owner, trade_id=trade_id, fill=_fill(json), now=utcnow()
        )
    return answer(TradeEnvelope, _trade_out(changed), status=201)


@bp.get(f"{PORTFOLIO}/export")
@endpoint(Scope.READ_PORTFOLIO, resp=ExportEnvelope, tag=TAG, query=NoQuery)
def export_portfolio(portfolio_id: int) -> Answer:
    """The portfolio's trades as CSV text (the pages' download; import it there)."""
    text = csv_io.export_trades(db.session(), owner=_owner(), portfolio_id=portfolio_id)
    data = {
        "portfolio_id": portfolio_id,
        "filename": f"portfolio-{portfolio_id}-trades.csv",
        "content_type": "text/csv",
        "csv": text,
    }
    return answer(ExportEnvelope, data)
