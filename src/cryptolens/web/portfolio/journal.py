"""Journal entries: about a day of a portfolio, or about one of its trades."""

from __future__ import annotations

from flask import redirect, request, url_for
from werkzeug.wrappers import Response

from cryptolens.clock import utcnow
from cryptolens.db.transactions import unit_of_work
from cryptolens.domain.errors import CryptoLensError
from cryptolens.extensions import db
from cryptolens.services.portfolio import journal
from cryptolens.web.errors import form_error
from cryptolens.web.portfolio import bp
from cryptolens.web.portfolio.forms import journal_input
from cryptolens.web.portfolio.portfolios import detail_context
from cryptolens.web.principal import current_principal

Page = str | Response | tuple[str, int]


@bp.post("/<int:portfolio_id>/journal")
def add_entry(portfolio_id: int) -> Page:
    """A new entry; one about a trade goes back to that trade's page."""
    try:
        with unit_of_work(db.session()) as work:
            made = journal.add_entry(
                work,
                owner=current_principal(),
                portfolio_id=portfolio_id,
                data=journal_input(request.form),
                now=utcnow(),
            )
    except CryptoLensError as error:
        context = detail_context(portfolio_id, form=request.form)
        return form_error("portfolio/detail.html", error, **context)
    if made.trade_id is not None:
        return redirect(url_for("portfolio.trade", trade_id=made.trade_id, _anchor="journal"))
    return redirect(url_for("portfolio.detail", portfolio_id=portfolio_id, _anchor="journal"))


@bp.post("/journal/<int:entry_id>/delete")
def delete_entry(entry_id: int) -> Response:
    with unit_of_work(db.session()) as work:
        found = journal.get_entry(work, owner=current_principal(), entry_id=entry_id)
        journal.delete_entry(work, owner=current_principal(), entry_id=entry_id)
    return redirect(url_for("portfolio.detail", portfolio_id=found.portfolio_id, _anchor="journal"))
