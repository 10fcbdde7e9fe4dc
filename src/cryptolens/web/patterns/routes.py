"""Patterns pages."""

from __future__ import annotations

from flask import current_app, render_template, request

from cryptolens.extensions import db
from cryptolens.services.listing import parse_page
from cryptolens.services.patterns import list_patterns, parse_pattern_filters
from cryptolens.web.patterns import bp
from cryptolens.web.state import app_settings


@bp.get("")
def index() -> str:
    filters = parse_pattern_filters(request.args)
    page = list_patterns(
        db.session(),
        exchange=app_settings(current_app).exchange_id,
        filters=filters,
        page=parse_page(request.args),
    )
    return render_template("patterns/index.html", page=page, filters=filters)
