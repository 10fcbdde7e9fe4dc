"""CSV download and upload of a portfolio's trades (one row per fill). An upload with any
error is refused whole (400) with every error and its row number; nothing is stored. The
upload takes files up to the import's own 10 MB, above the site's request limit."""

from __future__ import annotations

from flask import Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from cryptolens.clock import utcnow
from cryptolens.db.transactions import unit_of_work
from cryptolens.domain.errors import CryptoLensError, ValidationError
from cryptolens.extensions import db
from cryptolens.services.portfolio import csv_io
from cryptolens.services.portfolio.csv_io import ImportRejected, RowError
from cryptolens.web.portfolio import bp
from cryptolens.web.portfolio.portfolios import detail_context
from cryptolens.web.principal import current_principal
from cryptolens.web.serving import body_limit

Page = str | BaseResponse | tuple[str, int]
#: Room in an upload's body for the form around the file (boundaries, part headers, token).
FORM_OVERHEAD = 64 * 1024


@bp.get("/<int:portfolio_id>/trades.csv")
def export_csv(portfolio_id: int) -> Response:
    text = csv_io.export_trades(db.session(), owner=current_principal(), portfolio_id=portfolio_id)
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="portfolio-{portfolio_id}-trades.csv"'
    )
    return response


def _uploaded() -> bytes:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError("Choose a CSV file to import.")
    data: bytes = upload.read()
    return data


@bp.post("/<int:portfolio_id>/import")
@body_limit(csv_io.MAX_BYTES + FORM_OVERHEAD, f"Nothing was imported: {csv_io.TOO_LARGE}")
def import_csv(portfolio_id: int) -> Page:
    try:
        with unit_of_work(db.session()) as work:
            report = csv_io.import_trades(
                work,
                owner=current_principal(),
                portfolio_id=portfolio_id,
                data=_uploaded(),
                now=utcnow(),
            )
    except CryptoLensError as error:
        rows = error.errors if isinstance(error, ImportRejected) else (RowError(None, str(error)),)
        context = detail_context(portfolio_id, import_errors=rows)
        page = render_template("portfolio/detail.html", **context)
        return page, error.status_code
    return redirect(url_for("portfolio.detail", portfolio_id=portfolio_id, imported=report.trades))
