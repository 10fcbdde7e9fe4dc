"""Admin symbols page: add (after the exchange confirms it), activate, deactivate, purge
with the name typed back, and each symbol's backfill progress."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from cryptolens.db.transactions import unit_of_work
from cryptolens.domain.errors import CryptoLensError
from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.market import symbols_admin
from cryptolens.web.access import admin_only
from cryptolens.web.admin import bp
from cryptolens.web.admin.trail import outcome, record
from cryptolens.web.errors import form_error

Page = str | Response | tuple[str, int]
TEMPLATE = "admin/symbols.html"


def _context(**extra: object) -> dict[str, object]:
    settings = app_settings(current_app)
    return {
        "symbols": symbols_admin.symbol_progress(db.session(), settings),
        "exchange": settings.exchange_id,
        "base_timeframe": settings.base_timeframe,
        **extra,
    }


@bp.get("/symbols")
@admin_only
def symbols() -> Page:
    return render_template(TEMPLATE, **_context())


@bp.post("/symbols")
@admin_only
def add_symbol() -> Page:
    settings = app_settings(current_app)
    typed = request.form.get("symbol", "")
    try:
        name = symbols_admin.check_listed(settings, typed)
        with unit_of_work(db.session()) as work:
            added = symbols_admin.add_symbol(work, settings, name)
            record(work, "symbol.add", target=name, details={"exchange": settings.exchange_id})
    except CryptoLensError as error:  # UnknownSymbolError: the exchange does not list it
        return form_error(TEMPLATE, error, **_context(symbol=typed))
    outcome("Symbols", f"Watching {added.symbol} on {settings.exchange_id}; scans pick it up.")
    return redirect(url_for("admin.symbols"))


@bp.post("/symbols/<int:symbol_id>/active")
@admin_only
def symbol_active(symbol_id: int) -> Page:
    active = request.form.get("active") == "on"
    try:
        with unit_of_work(db.session()) as work:
            found = symbols_admin.set_symbol_active(
                work, app_settings(current_app), symbol_id=symbol_id, active=active
            )
            name = found.symbol
            record(work, "symbol.activate" if active else "symbol.deactivate", target=name)
    except CryptoLensError as error:
        return form_error(TEMPLATE, error, **_context())
    outcome("Symbols", f"{name} {'is watched again' if active else 'is no longer watched'}.")
    return redirect(url_for("admin.symbols"))


@bp.post("/symbols/<int:symbol_id>/purge")
@admin_only
def purge_symbol(symbol_id: int) -> Page:
    try:
        with unit_of_work(db.session()) as work:
            name = symbols_admin.purge_symbol(
                work,
                app_settings(current_app),
                symbol_id=symbol_id,
                typed=request.form.get("confirm", ""),
            )
            record(work, "symbol.purge", target=name)
    except CryptoLensError as error:
        return form_error(TEMPLATE, error, **_context())
    outcome("Symbols", f"{name} and its candles, zones and signals are deleted.")
    return redirect(url_for("admin.symbols"))
