"""A trade: the new-trade form (pre-filled from a signal with ``?signal=ID``), its page with
fills, adding and removing fills, closing, editing and deleting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from cryptolens.clock import utcnow
from cryptolens.db.transactions import unit_of_work
from cryptolens.domain.errors import CryptoLensError
from cryptolens.extensions import db
from cryptolens.services.portfolio import journal, portfolios, trades
from cryptolens.services.portfolio.access import Owner
from cryptolens.services.portfolio.signal_link import TradeDraft, prefill_from_signal
from cryptolens.services.portfolio.trades import TradeView
from cryptolens.services.views.listing import parse_int
from cryptolens.web.errors import form_error
from cryptolens.web.filters import reader_zone
from cryptolens.web.portfolio import bp
from cryptolens.web.portfolio.forms import (
    FILL_ROWS,
    MAX_ID,
    closing,
    edited_trade_input,
    fill_from,
    new_trade_input,
    parse_id,
)
from cryptolens.web.principal import current_principal

Page = str | Response | tuple[str, int]
NEW_TEMPLATE = "portfolio/trade_new.html"
TRADE_TEMPLATE = "portfolio/trade.html"


def _draft() -> TradeDraft | None:
    signal_id = parse_int(request.args, "signal", default=0, minimum=1, maximum=MAX_ID)
    if not signal_id:
        return None
    return prefill_from_signal(db.session(), owner=current_principal(), signal_id=signal_id)


def _new_context(draft: TradeDraft | None = None, **extra: object) -> dict[str, object]:
    owned = portfolios.list_portfolios(db.session(), owner=current_principal())
    return {
        "draft": draft,
        "portfolios": [(p.id, p.name) for p in owned],
        "fill_rows": FILL_ROWS,
        "now_local": utcnow().astimezone(reader_zone()).strftime("%Y-%m-%dT%H:%M"),
        **extra,
    }


@bp.get("/trades/new")
def new_trade() -> str:
    """The trade form; ``?signal=ID`` fills it from the signal's levels and links it."""
    return render_template(NEW_TEMPLATE, form=MultiDict(), **_new_context(_draft()))


@bp.post("/trades")
def create_trade() -> Page:
    try:
        portfolio_id = parse_id(request.form, "portfolio_id", "Portfolio") or 0
        with unit_of_work(db.session()) as work:
            made = trades.create_trade(
                work,
                owner=current_principal(),
                portfolio_id=portfolio_id,
                data=new_trade_input(request.form, reader_zone()),
                now=utcnow(),
            )
    except CryptoLensError as error:
        return form_error(NEW_TEMPLATE, error, form=request.form, **_new_context())
    return redirect(url_for("portfolio.trade", trade_id=made.id))


def _trade_context(trade_id: int, **extra: object) -> dict[str, object]:
    session, owner = db.session(), current_principal()
    found = trades.get_trade(session, owner=owner, trade_id=trade_id)
    return {
        "trade": found,
        "portfolio": portfolios.get_portfolio(
            session, owner=owner, portfolio_id=found.portfolio_id
        ),
        "entries": journal.list_entries(
            session, owner=owner, portfolio_id=found.portfolio_id, trade_id=trade_id
        ),
        "render_journal": journal.render_journal,
        "now_local": utcnow().astimezone(reader_zone()).strftime("%Y-%m-%dT%H:%M"),
        "today": utcnow().astimezone(reader_zone()).date().isoformat(),
        "form": {},
        **extra,
    }


@bp.get("/trades/<int:trade_id>")
def trade(trade_id: int) -> str:
    return render_template(TRADE_TEMPLATE, **_trade_context(trade_id))


def _change(trade_id: int, action: Callable[..., TradeView], **arguments: object) -> Page:
    """Run ``action`` on the trade in one transaction; show the page again with the error."""
    try:
        with unit_of_work(db.session()) as work:
            action(work, owner=current_principal(), trade_id=trade_id, now=utcnow(), **arguments)
    except CryptoLensError as error:
        return form_error(TRADE_TEMPLATE, error, **_trade_context(trade_id, form=request.form))
    return redirect(url_for("portfolio.trade", trade_id=trade_id))


def _edited(work: Session, *, owner: Owner, trade_id: int, now: datetime) -> TradeView:
    current = trades.get_trade(work, owner=owner, trade_id=trade_id)
    data = edited_trade_input(request.form, current)
    return trades.update_trade(work, owner=owner, trade_id=trade_id, data=data, now=now)


@bp.post("/trades/<int:trade_id>")
def update_trade(trade_id: int) -> Page:
    """Stop, targets, tags, setup, notes, mistakes and emotions (the fills stay)."""
    return _change(trade_id, _edited)


@bp.post("/trades/<int:trade_id>/fills")
def add_fill(trade_id: int) -> Page:
    try:
        fill = fill_from(request.form, reader_zone())
    except CryptoLensError as error:
        return form_error(TRADE_TEMPLATE, error, **_trade_context(trade_id, form=request.form))
    return _change(trade_id, trades.add_fill, fill=fill)


@bp.post("/trades/<int:trade_id>/fills/<int:fill_id>/delete")
def remove_fill(trade_id: int, fill_id: int) -> Page:
    return _change(trade_id, trades.remove_fill, fill_id=fill_id)


@bp.post("/trades/<int:trade_id>/close")
def close_trade(trade_id: int) -> Page:
    """Exit the whole open quantity at the price and time given."""
    try:
        given = closing(request.form, reader_zone())
    except CryptoLensError as error:
        return form_error(TRADE_TEMPLATE, error, **_trade_context(trade_id, form=request.form))
    return _change(trade_id, trades.close_trade, price=given.price, at=given.at, fee=given.fee)


@bp.post("/trades/<int:trade_id>/delete")
def delete_trade(trade_id: int) -> Response:
    with unit_of_work(db.session()) as work:
        found = trades.get_trade(work, owner=current_principal(), trade_id=trade_id)
        trades.delete_trade(work, owner=current_principal(), trade_id=trade_id)
    return redirect(url_for("portfolio.detail", portfolio_id=found.portfolio_id))
