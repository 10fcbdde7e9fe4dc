"""The backtest form and the user's runs; one run's page, its progress (JSON for the page's
script), its trades as CSV; sharing by link."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import quote

from flask import Response, current_app, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from cryptolens.backtest.params import PARAMS, Value, run_params
from cryptolens.backtest.sweep import RANKING, SWEEP_PARAMS
from cryptolens.db.backtests import BacktestRun
from cryptolens.db.transactions import unit_of_work
from cryptolens.domain.errors import CryptoLensError, ValidationError
from cryptolens.extensions import db
from cryptolens.runtime import app_redis, app_settings
from cryptolens.services.accounts import policy
from cryptolens.services.backtests import store
from cryptolens.services.backtests.pages import (
    DEFAULT_DAYS,
    StoredRange,
    default_values,
    price_chart,
    stored_ranges,
)
from cryptolens.services.backtests.run import check_request
from cryptolens.services.ops.background import Background
from cryptolens.web.backtests import bp
from cryptolens.web.backtests.forms import MAIN_PARAMS, MAX_ADVANCED, backtest_form
from cryptolens.web.errors import form_error
from cryptolens.web.principal import current_principal

Page = str | BaseResponse | tuple[str, int]
INDEX_TEMPLATE = "backtests/index.html"


def _index_context(form: Mapping[str, object] | None = None) -> dict[str, object]:
    """The page's choices and the user's runs; ``form`` (None: the defaults) fills the form."""
    settings, principal = app_settings(current_app), current_principal()
    session = db.session()
    ranges = stored_ranges(session, settings)
    defaults = default_values(settings.signal_params())
    return {
        "form": _default_form(ranges, defaults) if form is None else form,
        "ranges": ranges,
        "runs": store.list_runs(session, user_id=principal.user_id or 0),
        "main_params": [PARAMS[name] for name in MAIN_PARAMS],
        "defaults": defaults,
        "advanced_params": [p for p in PARAMS.values() if p.name not in MAIN_PARAMS],
        "default_days": DEFAULT_DAYS,
        "max_days": policy.limits_for(principal).backtest_days,
        "last_day": last_day,
        "sweep_params": list(SWEEP_PARAMS),
        "ranking_metrics": list(RANKING),
    }


def _default_form(ranges: list[StoredRange], defaults: Mapping[str, Value]) -> dict[str, object]:
    """The main parameters at their defaults; the first symbol's newest stored days."""
    form: dict[str, object] = {name: defaults[name] for name in MAIN_PARAMS}
    if ranges:
        first = ranges[0]
        since, until = first.default_since().isoformat(), first.last.isoformat()
        form |= {"symbol": first.symbol, "since": since, "until": until}
    return form


#: Ranking rows a sweep's page shows (the API answers them all).
SHOWN_ROWS = 100
#: Fields a link may prefill the form with ("run this combination" on a sweep's page).
PREFILL_FIELDS = ("symbol", "since", "until", "advanced")


@bp.get("")
def index() -> str:
    """The form (with the defaults, or the fields of a prefill link) and the user's runs."""
    prefill = {f: request.args[f][:MAX_ADVANCED] for f in PREFILL_FIELDS if f in request.args}
    if not prefill:
        return render_template(INDEX_TEMPLATE, **_index_context())
    context = _index_context()
    form = dict(context["form"]) | prefill  # type: ignore[call-overload]
    return render_template(INDEX_TEMPLATE, **(context | {"form": form}))


@bp.post("")
def create() -> Page:
    principal, settings = current_principal(), app_settings(current_app)
    try:
        asked = backtest_form(request.form)
        _check_stored(asked.symbol, stored_ranges(db.session(), settings))
        checked = check_request(
            symbol=asked.symbol,
            since=asked.since,
            until=asked.until,
            params=asked.params,
            limits=policy.limits_for(principal),
        )
        run_params(checked.params, signals=settings.signal_params())  # values that fit together
        run_id = store.queue_run(
            db.engine,
            settings,
            Background(app_redis(current_app)),
            user_id=principal.user_id or 0,
            request=checked,
            sweep=asked.sweep,
        )
    except CryptoLensError as error:
        return form_error(INDEX_TEMPLATE, error, **_index_context(request.form))
    return redirect(url_for("backtests.run", run_id=run_id))


def _check_stored(symbol: str, ranges: list[StoredRange]) -> None:
    """ValidationError unless ``symbol`` is watched and has stored candles."""
    if symbol and symbol not in {r.symbol for r in ranges}:
        names = ", ".join(r.symbol for r in ranges) or "none yet"
        raise ValidationError(f"no stored candles for {symbol[:40]!r}; stored: {names}")


def _visible(run_id: int) -> BacktestRun:
    return store.visible_run(
        db.session(),
        viewer=current_principal(),
        run_id=run_id,
        token=request.args.get("share") or None,
    )


def last_day(until: datetime) -> str:
    """The last UTC day a run's range includes (``until`` is exclusive)."""
    return (until - timedelta(microseconds=1)).strftime("%Y-%m-%d")


def _share_link(run_id: int, token: str) -> str:
    base = app_settings(current_app).resolved_public_url
    return f"{base}{url_for('backtests.run', run_id=run_id)}?share={quote(token, safe='')}"


@bp.get("/<int:run_id>")
def run(run_id: int) -> str:
    """The run; its owner also sees the share link while the run is shared."""
    row, principal = _visible(run_id), current_principal()
    view = store.run_view(row)
    owner = row.user_id is not None and row.user_id == principal.user_id
    token = row.share_token if owner else None
    done = view.status == store.DONE and view.kind == "single"
    return render_template(
        "backtests/run.html",
        view=view,
        chart=price_chart(db.session(), app_settings(current_app), view) if done else None,
        single_link=partial(_single_link, view),
        shown_rows=SHOWN_ROWS,
        owner=owner,
        share_link=_share_link(run_id, token) if token else None,
        share=request.args.get("share") or None,
        params_shown=sorted(view.params.items()),
        last_day=last_day,
    )


def _single_link(view: store.RunView, params: Mapping[str, Value]) -> str:
    """The form prefilled with ``view``'s symbol and range and ``params`` (as advanced
    lines, so they override the main fields)."""
    lines = "\n".join(
        f"{name}={str(value).lower() if isinstance(value, bool) else value}"
        for name, value in sorted(params.items())
    )
    since, until = view.since.strftime("%Y-%m-%d"), last_day(view.until)
    return url_for("backtests.index", symbol=view.symbol, since=since, until=until, advanced=lines)


@bp.get("/<int:run_id>/status")
def status(run_id: int) -> Response:
    """How far the run is; a sweep's also as backtests ``done`` of ``total``."""
    view = store.run_view(_visible(run_id))
    answer: dict[str, object] = {
        "status": view.status,
        "progress": view.progress,
        "error": view.error,
    }
    if view.backtests_done is not None:
        answer["done"], answer["total"] = view.backtests_done
    return jsonify(answer)


@bp.get("/<int:run_id>/trades.csv")
def trades_csv(run_id: int) -> Response:
    view = store.run_view(_visible(run_id))
    response = Response(store.trades_csv(view), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="backtest-{run_id}-trades.csv"'
    return response


@bp.post("/<int:run_id>/share")
def share(run_id: int) -> BaseResponse:
    with unit_of_work(db.session()) as work:
        store.share_run(work, viewer=current_principal(), run_id=run_id)
    return redirect(url_for("backtests.run", run_id=run_id))


@bp.post("/<int:run_id>/unshare")
def unshare(run_id: int) -> BaseResponse:
    with unit_of_work(db.session()) as work:
        store.unshare_run(work, viewer=current_principal(), run_id=run_id)
    return redirect(url_for("backtests.run", run_id=run_id))
