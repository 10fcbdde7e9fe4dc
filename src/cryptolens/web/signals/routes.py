"""Signals pages."""

from __future__ import annotations

from flask import current_app, render_template, request

from cryptolens.extensions import db
from cryptolens.services.listing import parse_page
from cryptolens.services.signals import list_signals, parse_signal_filters, signal_detail
from cryptolens.web.signals import bp
from cryptolens.web.state import app_settings


@bp.get("")
def index() -> str:
    filters = parse_signal_filters(request.args)
    page = list_signals(db.session(), filters=filters, page=parse_page(request.args))
    return render_template("signals/index.html", page=page, filters=filters)


@bp.get("/<int:signal_id>")
def detail(signal_id: int) -> str:
    found = signal_detail(
        db.session(), signal_id=signal_id, exchange=app_settings(current_app).exchange_id
    )
    return render_template("signals/detail.html", detail=found)
