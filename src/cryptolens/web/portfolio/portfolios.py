"""Portfolio list and creation, one portfolio's trades and journal, editing, deletion."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from cryptolens.clock import utcnow
from cryptolens.db.transactions import unit_of_work
from cryptolens.domain.errors import CryptoLensError
from cryptolens.domain.portfolio_rules import QUOTE_CURRENCIES
from cryptolens.domain.trades import canonical
from cryptolens.extensions import db
from cryptolens.services.portfolio import journal, portfolios, trades
from cryptolens.web.errors import form_error
from cryptolens.web.filters import reader_zone
from cryptolens.web.portfolio import bp
from cryptolens.web.portfolio.forms import portfolio_input
from cryptolens.web.principal import current_principal

Page = str | Response | tuple[str, int]
EDIT_TEMPLATE = "portfolio/edit.html"
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


@bp.get("/<int:portfolio_id>/edit")
def edit(portfolio_id: int) -> str:
    """The portfolio's form, filled with what it holds now."""
    shown = portfolios.get_portfolio(
        db.session(), owner=current_principal(), portfolio_id=portfolio_id
    )
    form = {
        "name": shown.name,
        "description": shown.description,
        "quote_currency": shown.quote_currency,
        "initial_balance": f"{canonical(shown.initial_balance):f}",
    }
    return render_template(EDIT_TEMPLATE, portfolio=shown, form=form, currencies=QUOTE_CURRENCIES)


@bp.post("/<int:portfolio_id>/edit")
def update(portfolio_id: int) -> Page:
    owner = current_principal()
    try:
        with unit_of_work(db.session()) as work:
            portfolios.update_portfolio(
                work,
                owner=owner,
                portfolio_id=portfolio_id,
                data=portfolio_input(request.form),
                now=utcnow(),
            )
    except CryptoLensError as error:
        # Another owner's id is a 404 here too, before any word about the form.
        shown = portfolios.get_portfolio(db.session(), owner=owner, portfolio_id=portfolio_id)
        return form_error(
            EDIT_TEMPLATE, error, portfolio=shown, form=request.form, currencies=QUOTE_CURRENCIES
        )
    return redirect(url_for("portfolio.detail", portfolio_id=portfolio_id))


@bp.post("/<int:portfolio_id>/delete")
def delete(portfolio_id: int) -> Response:
    with unit_of_work(db.session()) as work:
        portfolios.delete_portfolio(work, owner=current_principal(), portfolio_id=portfolio_id)
    return redirect(url_for("portfolio.index"))
