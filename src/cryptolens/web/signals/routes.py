"""Signals pages."""

from __future__ import annotations

from flask import current_app, render_template, request

from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.accounts import policy
from cryptolens.services.views.listing import parse_page
from cryptolens.services.views.signal_list import list_signals, parse_signal_filters, signal_detail
from cryptolens.web.fragments import LIST_TTL_S, cached_html, fragment_key
from cryptolens.web.principal import current_principal
from cryptolens.web.signals import bp


@bp.get("")
def index() -> str:
    limit_total = policy.signals_page_limit(current_principal())  # Free: 403 with an upgrade link
    filters = parse_signal_filters(request.args)
    wanted = parse_page(request.args)
    key = fragment_key("signals_html", {**filters.as_args(), "page": wanted, "cap": limit_total})

    def render() -> str:
        page = list_signals(
            db.session(),
            exchange=app_settings(current_app).exchange_id,
            filters=filters,
            page=wanted,
            limit_total=limit_total,
        )
        return render_template("signals/_table.html", page=page, filters=filters)

    table = cached_html(key, LIST_TTL_S, render)
    return render_template("signals/index.html", table=table, filters=filters)


@bp.get("/<int:signal_id>")
def detail(signal_id: int) -> str:
    """Same rule as the list: Free never, Pro only the newest 50 signals, Premium all."""
    found = signal_detail(
        db.session(),
        signal_id=signal_id,
        exchange=app_settings(current_app).exchange_id,
        count_newer_within=policy.signals_page_limit(current_principal()),
    )
    policy.check_signal_visible(current_principal(), newer=found.newer)
    return render_template("signals/detail.html", detail=found)
