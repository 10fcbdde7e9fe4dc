"""Patterns pages."""

from __future__ import annotations

from flask import current_app, render_template, request

from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.accounts import policy
from cryptolens.services.views.listing import parse_page
from cryptolens.services.views.zone_list import list_patterns, parse_pattern_filters
from cryptolens.web.fragments import LIST_TTL_S, cached_html, fragment_key
from cryptolens.web.patterns import bp
from cryptolens.web.principal import current_principal


@bp.get("")
def index() -> str:
    limit_total = policy.patterns_page_limit(current_principal())  # Free: 403 with an upgrade link
    filters = parse_pattern_filters(request.args)
    wanted = parse_page(request.args)
    exchange = app_settings(current_app).exchange_id
    key = fragment_key(
        "patterns_html",
        {**filters.as_args(), "exchange": exchange, "page": wanted, "cap": limit_total},
    )

    def render() -> str:
        page = list_patterns(
            db.session(), exchange=exchange, filters=filters, page=wanted, limit_total=limit_total
        )
        return render_template("patterns/_table.html", page=page, filters=filters)

    table = cached_html(key, LIST_TTL_S, render)
    return render_template("patterns/index.html", table=table, filters=filters)
