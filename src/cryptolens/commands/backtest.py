"""``cryptolens backtest``: backtest a watched symbol on its stored candles with the live
strategy, print the metrics and write every trade as JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from flask import current_app

from cryptolens.backtest.metrics import Metrics
from cryptolens.backtest.params import describe, parse_assignments
from cryptolens.backtest.report import (
    bar_equity,
    metrics_dict,
    report_metrics,
    trade_dict,
)
from cryptolens.backtest.sweep import Mode, SweepResult
from cryptolens.backtest.sweep_forward import WalkForwardResult
from cryptolens.domain.errors import CryptoLensError
from cryptolens.domain.timeframes import timeframe_ms
from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.backtests.run import check_request, run_stored_backtest
from cryptolens.services.backtests.sweeps import WalkForward, run_stored_sweep, sweep_spec

HOUR_MS = 3_600_000


def _date(text: str, option: str) -> datetime:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date like 2018-01-01", param_hint=option
        ) from None


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:,.2f} %"


def _number(value: float | None, places: int = 2) -> str:
    return "-" if value is None else f"{value:,.{places}f}"


def _hours(ms: float | None) -> str:
    return "-" if ms is None else f"{ms / HOUR_MS:,.1f} h"


def metrics_lines(m: Metrics) -> list[tuple[str, str]]:
    """The metrics table: label and formatted value."""
    return [
        ("Return", _pct(m.total_return)),
        ("CAGR", _pct(m.cagr)),
        ("Volatility (ann.)", _pct(m.volatility)),
        ("Sharpe", _number(m.sharpe)),
        ("Sortino", _number(m.sortino)),
        ("Calmar", _number(m.calmar)),
        ("Max drawdown", _pct(m.max_drawdown)),
        ("Max drawdown duration", _hours(m.max_drawdown_duration_ms)),
        ("Exposure", _pct(m.exposure)),
        ("Trades", f"{m.trades:,}"),
        ("Win rate", _pct(m.win_rate)),
        ("Profit factor", _number(m.profit_factor)),
        ("Expectancy (R)", _number(m.expectancy_r, 3)),
        ("Expectancy (%)", _pct(m.expectancy_pct)),
        ("SQN", _number(m.sqn)),
        ("Average trade", _pct(m.avg_trade_pct)),
        ("Best trade", _pct(m.best_trade_pct)),
        ("Worst trade", _pct(m.worst_trade_pct)),
        ("Average duration", _hours(m.avg_duration_ms)),
        ("Fees paid", _number(m.fees_paid)),
        ("Final equity", _number(m.final_equity)),
        ("Buy and hold", _pct(m.buy_and_hold_return)),
        ("Ambiguous candles", f"{m.ambiguous:,}"),
    ]


@click.command(
    "backtest",
    epilog="Parameters (--param name=value):\n\n" + describe().replace("\n", "\n\n"),
)
@click.option("--symbol", required=True, help="A watched symbol, e.g. BTC/USDT.")
@click.option("--since", required=True, help="First day (UTC), e.g. 2018-01-01.")
@click.option("--until", required=True, help="Day after the last (UTC), e.g. 2019-01-01.")
@click.option("--param", "params", multiple=True, help="name=value (repeatable).")
@click.option("--fee-bps", type=float, help="Maker and taker fee in basis points.")
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write here."
)
@click.option(
    "--sweep",
    "sweep",
    multiple=True,
    help="name=a,b,c or name=start:stop:step: try these values (repeatable) and rank them.",
)
@click.option("--mode", type=click.Choice(["grid", "random"]), default="grid", show_default=True)
@click.option("--count", type=int, help="Combinations drawn in random mode.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random mode's seed.")
@click.option("--rank", "metric", default="sharpe", show_default=True, help="Metric to rank by.")
@click.option("--walk-forward", help="IN:OUT days: optimise in sample, score out of sample.")
def backtest_command(
    symbol: str,
    since: str,
    until: str,
    params: tuple[str, ...],
    fee_bps: float | None,
    json_path: Path | None,
    sweep: tuple[str, ...],
    mode: Mode,
    count: int | None,
    seed: int,
    metric: str,
    walk_forward: str | None,
) -> None:
    """Backtest SYMBOL's stored candles from SINCE to UNTIL with the live strategy; print the
    metrics, write the trades as JSON."""
    settings = app_settings(current_app)
    assignments = list(params)
    if fee_bps is not None:
        given = {a.partition("=")[0].strip() for a in assignments}
        assignments += [
            f"{k}={fee_bps}" for k in ("maker_fee_bps", "taker_fee_bps") if k not in given
        ]
    try:
        request = check_request(
            symbol=symbol,
            since=_date(since, "--since"),
            until=_date(until, "--until"),
            params=parse_assignments(assignments),
        )
        if sweep or walk_forward:
            spec = sweep_spec(
                settings, request, space=sweep, metric=metric, mode=mode, count=count, seed=seed
            )
            forward = WalkForward.parse(walk_forward) if walk_forward else None
            with _bar("sweep") as tick:
                found = run_stored_sweep(
                    db.engine,
                    settings,
                    request,
                    spec,
                    walk_forward=forward,
                    progress=lambda done, total: tick(done / total, f"{done}/{total}"),
                )
            _show_sweep(found, json_path)
            return
        with _bar("backtest") as tick:
            result = run_stored_backtest(db.engine, settings, request, progress=tick)
        bar_ms = timeframe_ms(settings.base_timeframe)
        curve = bar_equity(result, request.symbol, result.replays[request.symbol].base, bar_ms)
        metrics = report_metrics(result, curve, bar_ms)
    except CryptoLensError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"{request.symbol} {since} .. {until} ({settings.base_timeframe} base, "
        f"timeframes {', '.join(settings.timeframes)})"
    )
    _table(metrics_lines(metrics))
    if json_path is not None:
        payload: dict[str, Any] = {
            "symbol": request.symbol,
            "since": request.since.isoformat(),
            "until": request.until.isoformat(),
            "params": dict(request.params),
            "metrics": metrics_dict(metrics),
            "skipped": result.skipped,
            "trades": [trade_dict(t) for t in result.trades],
        }
        json_path.write_text(json.dumps(payload, indent=2))
        click.echo(f"{len(result.trades):,} trades written to {json_path}")


def _table(lines: list[tuple[str, str]]) -> None:
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        click.echo(f"  {label:<{width}}  {value:>14}")


@contextmanager
def _bar(label: str) -> Iterator[Callable[[float, str], None]]:
    """A progress bar on stderr, moved by ``tick(fraction, stage)``."""
    with click.progressbar(length=100, label=label, file=sys.stderr) as bar:
        done = [0]

        def tick(fraction: float, stage: str) -> None:
            step = int(fraction * 100) - done[0]
            if step > 0:
                bar.label = stage
                bar.update(step)
                done[0] += step

        yield tick


#: Rows of a sweep's ranking printed (the JSON file has them all).
SHOWN_ROWS = 10


def _show_sweep(found: SweepResult | WalkForwardResult, json_path: Path | None) -> None:
    if isinstance(found, SweepResult):
        click.echo(f"{len(found.rows)} combinations ranked by {found.metric}:")
        for row in found.rows[:SHOWN_ROWS]:
            values = ", ".join(f"{k}={v}" for k, v in row.params.items())
            click.echo(f"  #{row.rank:<3} {_number(row.score, 3):>10}  {values}")
        click.echo("Best:")
        _table(metrics_lines(found.best.metrics))
        payload: dict[str, Any] = {
            "metric": found.metric,
            "rows": [row.as_dict() for row in found.rows],
        }
    else:
        click.echo(f"walk-forward, {len(found.splits)} splits, ranked by {found.metric}:")
        for split in found.splits:
            values = ", ".join(f"{k}={v}" for k, v in split.params.items())
            click.echo(
                f"  split {split.split.index}: in {_number(split.in_score, 3)}, "
                f"out {_number(split.out_score, 3)}  {values}"
            )
        for warning in found.warnings:
            click.echo(f"  warning: {warning}")
        if found.stitched is not None:
            click.echo("Out of sample, stitched:")
            _table(metrics_lines(found.stitched))
        payload = {
            "metric": found.metric,
            "splits": [split.as_dict() for split in found.splits],
            "warnings": list(found.warnings),
            "stitched": None if found.stitched is None else metrics_dict(found.stitched),
        }
    if json_path is not None:
        json_path.write_text(json.dumps(payload, indent=2))
        click.echo(f"written to {json_path}")
