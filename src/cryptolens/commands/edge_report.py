"""``cryptolens edge-report``: the edge report on the shipped BTC/USD history, as text tables
or JSON; it computes the report (unless the stored one is current) and stores it for /edge."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import click
from flask import current_app

from cryptolens.clock import utcnow
from cryptolens.domain.errors import CryptoLensError
from cryptolens.runtime import app_settings
from cryptolens.services.quality.edge_report import compute_report
from cryptolens.services.quality.edge_store import (
    cache_path,
    cached_report,
    save_report,
)


@click.command("edge-report")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--refresh", is_flag=True, help="Compute again even if the stored report is current.")
@click.option(
    "--without-model",
    is_flag=True,
    help="Leave out the model section (walk-forward training is the slow part).",
)
def edge_report_command(as_json: bool, refresh: bool, without_model: bool) -> None:
    """Hold rates against placebo zones, the model's out-of-sample quality and the signals'
    expectancy after fees, on the shipped BTC/USD history."""
    settings = app_settings(current_app)
    try:
        stored = None if refresh else cached_report(settings)
        with_model = not without_model
        if stored is not None and stored.current and stored.report["params"]["model"] == with_model:
            report, how = stored.report, "read from {}: data, code and parameters unchanged"
        else:
            report, how = (
                compute_report(settings, now=utcnow(), with_model=with_model),
                "computed now and stored in {}",
            )
            save_report(settings, report)
    except CryptoLensError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(
            f"cannot store the report in {cache_path(settings)}: {error.strerror or error}"
        ) from None
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo("\n".join(report_lines(report)))
    click.echo("\n(" + how.format(cache_path(settings)) + ")")


def report_lines(report: dict[str, Any]) -> list[str]:
    """The report as text: a heading, then the hold, model and signal tables."""
    p = report["params"]
    lines = [
        f"Edge report: {report['data']['source']}, {report['candles']:,} candles "
        f"{_day(report['first_open'])} .. {_day(report['last_open'])}",
        f"computed {report['computed_at']} (version {report['version']}); timeframes "
        f"{', '.join(p['timeframes'])}; {report['zones']:,} zones",
        "",
        *_wrap(
            f"Hold rate of real zones against placebo zones ({p['placebo_draws']} per zone, "
            f"seed {p['seed']}): held = price moved {p['atr_mult']:g} x ATR away after the "
            "touch before closing beyond the far edge. 95 % Wilson intervals; the "
            f"difference's interval is Newcombe's. * = fewer than {p['small_sample']} decided "
            f"zones. Of {len(report['holds'])} rows, about 1 in 20 shows an edge (or worse) "
            "by chance alone."
        ),
    ]
    rows = [
        [
            h["pattern_type"],
            h["timeframe"],
            h["direction"],
            f"{h['real']['decided']:,}",
            _rate(h["real"]["rate"]),
            f"{h['placebo']['decided']:,}",
            _rate(h["placebo"]["rate"]),
            _points(h["difference"]),
            h["verdict"] + (" *" if h["small"] else ""),
        ]
        for h in report["holds"]
    ]
    heads = ["type", "tf", "dir", "n", "held [95% CI]", "n placebo", "placebo held", "diff"]
    lines += _table([*heads, "verdict"], rows)
    lines += ["", "Model (out of sample)", *_model_lines(report)]
    lines += [
        "",
        *_wrap(
            f"Signals: backtest trades after fees (maker {p['maker_fee_bps']:g} bps, taker "
            f"{p['taker_fee_bps']:g} bps); 95 % percentile bootstrap of the mean, "
            f"{p['bootstrap_resamples']:,} resamples, seed {p['seed']}. "
            f"{report['signals_found']:,} signals, {report['signals_skipped']:,} not traded "
            "(a position was already open)."
        ),
    ]
    rows = [
        [
            s["scope"],
            f"{s['trades']:,}",
            "-" if s["win_rate"] is None else f"{s['win_rate'] * 100:.1f} %",
            _mean(s["expectancy_r"], "R", 3),
            _mean(s["expectancy_pct"], "%", 2),
            s["verdict"] + (" *" if s["small"] else ""),
        ]
        for s in report["signals"]
    ]
    lines += _table(
        ["scope", "trades", "win rate", "expectancy R", "expectancy %", "verdict"], rows
    )
    return lines


def _model_lines(report: dict[str, Any]) -> list[str]:
    model = report["model"]
    if model is None:
        return _wrap(report["model_note"], indent="  ")
    rows = [
        [a["pattern_type"], f"{a['zones']:,}", _auc(a["auc"]), _auc(a["strength_auc"])]
        for a in model["aucs"]
    ]
    lines = _table(["type", "zones", "AUC", "strength AUC"], rows)
    rows = [
        [
            f"{b['low'] * 100:.0f}-{b['high'] * 100:.0f} %",
            f"{b['zones']:,}",
            _share(b["predicted"]),
            _share(b["observed"]),
            "-" if b["gap_points"] is None else f"{b['gap_points']:.1f}",
        ]
        for b in model["reliability"]
    ]
    return [*lines, "", *_table(["bin", "zones", "predicted", "observed", "gap (pts)"], rows)]


def _table(heads: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(x) for x in column) for column in zip(heads, *rows, strict=True)]
    return [
        "  " + "  ".join(f"{x:<{w}}" for x, w in zip(row, widths, strict=True)).rstrip()
        for row in [heads, *rows]
    ]


def _wrap(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(text, width=100, initial_indent=indent, subsequent_indent=indent)


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).date().isoformat()


def _rate(rate: dict[str, float] | None) -> str:
    if rate is None:
        return "-"
    return f"{rate['value'] * 100:.1f} % [{rate['low'] * 100:.1f}, {rate['high'] * 100:.1f}]"


def _points(diff: dict[str, float] | None) -> str:
    if diff is None:
        return "-"
    return f"{diff['value'] * 100:+.1f} [{diff['low'] * 100:+.1f}, {diff['high'] * 100:+.1f}] pts"


def _mean(mean: dict[str, float] | None, unit: str, places: int) -> str:
    if mean is None:
        return "-"
    v, lo, hi = mean["value"], mean["low"], mean["high"]
    return f"{v:+.{places}f} {unit} [{lo:+.{places}f}, {hi:+.{places}f}]"


def _auc(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"
