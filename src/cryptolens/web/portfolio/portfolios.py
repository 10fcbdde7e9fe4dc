"""Portfolio list and creation, one portfolio's trades and journal, deletion."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from cryptolens.clock import utcnow
from cryptolens.db.transactions import unit_of_work
from cryptolens.domain.errors import CryptoLensError
from cryptolens.domain.portfolio_rules import QUOTE_CURRENCIES
from cryptolens.extensions import db
from cryptolens.services.portfolio import journal, portfolios, trades
from cryptolens.web.errors import form_error
from cryptolens.web.filters import reader_zone
from cryptolens.web.portfolio import bp
from cryptolens.web.portfolio.forms import portfolio_input
from cryptolens.web.principal import current_principal

Page = str | Response | tuple[str, int]
#: Closed trades shown on a portfolio's page (the CSV export has them all).
CLOSED_SHOWN = 200


def _index_context() -> dict[str, object]:
    return {
        "portfolios": portfolios.list_portfolios(db.session(), owner=current_principal()),
        "currencies": QUOTE_CURRENCIES,
    }


@bp.get("")
def index() -> str:
    return render_template("portfolio/index.html", form={}, **_index_context())


@bp.post("")
def create() -> Page:
    try:
        with unit_of_work(db.session()) as work:
            made = portfolios.create_portfolio(
                work, owner=current_principal(), data=portfolio_input(request.form), now=utcnow()
            )
    except CryptoLensError as error:
        return form_error("portfolio/index.html", error, form=request.form, **_index_context())
    return redirect(url_for("portfolio.detail", portfolio_id=made.id))


def detail_context(portfolio_id: int, **extra: object) -> dict[str, object]:
    """What a portfolio's page shows: open and closed trades and the journal."""
    session, owner = db.session(), current_principal()
    return {
        "portfolio": portfolios.get_portfolio(session, owner=owner, portfolio_id=portfolio_id),
        "open_trades": trades.list_trades(
            session, owner=owner, portfolio_id=portfolio_id, status="open"
        ),
        "closed_trades": trades.list_trades(
            session, owner=owner, portfolio_id=portfolio_id, status="closed", limit=CLOSED_SHOWN
        ),
        "entries": journal.list_entries(session, owner=owner, portfolio_id=portfolio_id),
        "render_journal": journal.render_journal,
        "today": utcnow().astimezone(reader_zone()).date().isoformat(),
        "form": {},
        **extra,
    }


@bp.get("/<int:portfolio_id>")
def detail(portfolio_id: int) -> str:
    """``?imported=N`` (after an upload) says how many trades came in."""
    imported = request.args.get("imported", type=int)
    context = detail_context(portfolio_id, imported=imported)
    return render_template("portfolio/detail.html", **context)


@bp.post("/<int:portfolio_id>/delete")
def delete(portfolio_id: int) -> Response:
    with unit_of_work(db.session()) as work:
        portfolios.delete_portfolio(work, owner=current_principal(), portfolio_id=portfolio_id)
    return redirect(url_for("portfolio.index"))
