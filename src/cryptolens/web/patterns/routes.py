"""Patterns pages."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_login import current_user

from cryptolens.extensions import db
from cryptolens.services import policy
from cryptolens.services.listing import parse_page
from cryptolens.services.patterns import list_patterns, parse_pattern_filters
from cryptolens.web.patterns import bp
from cryptolens.web.state import app_settings


@bp.get("")
def index() -> str:
    limit_total = policy.patterns_page_limit(current_user)  # Free: 403 with an upgrade link
    filters = parse_pattern_filters(request.args)
    page = list_patterns(
        db.session(),
        exchange=app_settings(current_app).exchange_id,
        filters=filters,
        page=parse_page(request.args),
        limit_total=limit_total,
    )
    return render_template("patterns/index.html", page=page, filters=filters)
