"""``cryptolens db-health``: check the stored candles, and repair them with ``--fix``."""

from __future__ import annotations

import click
from flask import current_app

from cryptolens.domain.errors import CryptoLensError
from cryptolens.domain.timeframes import ms_to_datetime, timeframe_ms
from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.market.candle_audit import HealthReport, SymbolHealth, run_db_health

#: Exit codes: problems left is not the same as "could not check".
EXIT_PROBLEMS = 1
EXIT_ERROR = 2


class _CheckError(click.ClickException):
    exit_code = EXIT_ERROR


def _when(ms: int) -> str:
    return ms_to_datetime(ms).strftime("%Y-%m-%d %H:%M")


#: Holes listed one per line up to this many; the rest are counted.
SHOWN_HOLES = 10


def _hole_lines(holes: tuple[tuple[int, int], ...], timeframe: str) -> list[str]:
    step = timeframe_ms(timeframe)
    # A hole's end is exclusive: show its last missing open time, so "10:10 .. 10:11" reads
    # as the two candles it is.
    lines = [
        f"    {_when(start)} .. {_when(end - step)} UTC ({(end - start) // step} candles)"
        for start, end in holes[:SHOWN_HOLES]
    ]
    if len(holes) > SHOWN_HOLES:
        lines.append(f"    ... and {len(holes) - SHOWN_HOLES} more")
    return lines


def _describe(health: SymbolHealth, base_timeframe: str) -> list[str]:
    state = "healthy" if health.healthy else "PROBLEMS"
    lines = [f"{health.symbol}: {state}"]
    if health.error:
        lines.append(f"  {health.error}")
    if health.holes:
        lines.append(
            f"  {base_timeframe} holes: {len(health.holes)} ({health.missing_candles} candles "
            "missing)"
        )
        lines.extend(_hole_lines(health.holes, base_timeframe))
    if health.known_holes:
        lines.append(
            f"  {base_timeframe} exchange gaps (known, not a problem): {len(health.known_holes)} "
            f"({health.known_missing} candles the exchange does not have either)"
        )
        lines.extend(_hole_lines(health.known_holes, base_timeframe))
    lines.append(
        f"  {'timeframe':<9} {'rows':>10} {'dup':>5} {'misaligned':>10} "
        f"{'missing':>8} {'extra':>6} {'different':>9}"
    )
    for tf in health.timeframes:
        aggregate = tf.timeframe != base_timeframe
        counts = (
            (f"{tf.missing:>8} {tf.extra:>6} {tf.different:>9}")
            if aggregate
            else f"{'-':>8} {'-':>6} {'-':>9}"
        )
        lines.append(
            f"  {tf.timeframe:<9} {tf.rows:>10} {tf.duplicates:>5} {tf.misaligned:>10} {counts}"
        )
    return lines


def _summary(report: HealthReport) -> str:
    if not report.symbols:
        return "no active symbols to check"
    counts = report.counts()
    if report.healthy:
        return f"healthy: {counts['symbols']} symbol(s) checked"
    problems = ", ".join(
        f"{k} {v}"
        for k, v in counts.items()
        if v and k != "symbols" and not k.startswith(("repair", "known"))
    )
    return f"problems remain: {problems}"


@click.command("db-health")
@click.option("--symbol", help="Check one watched symbol (default: every active one).")
@click.option(
    "--fix",
    is_flag=True,
    help="Repair through the exchange (EXCHANGE_API_URL honoured), then check again.",
)
def db_health_command(symbol: str | None, fix: bool) -> None:
    """Check stored candles: base-timeframe holes, duplicate and misaligned rows, and higher
    timeframes that disagree with the base data (missing, extra or different buckets).

    --fix deletes misaligned rows, backfills the holes from the exchange, rebuilds the
    aggregates that disagree, and checks again. Holes the exchange lacks too remain; they are
    recorded as known exchange gaps, listed apart, and no longer count as problems.

    Exit status: 0 healthy, 1 problems remain, 2 the check could not run (e.g. an unknown
    symbol or an unreachable exchange).
    """
    settings = app_settings(current_app)
    try:
        report = run_db_health(db.engine, settings, fix=fix, symbol=symbol)
    except CryptoLensError as exc:
        raise _CheckError(str(exc)) from None
    if report.repair is not None:
        done = report.repair
        click.echo(
            f"repair: fetched {done.fetched}, stored {done.stored}, rebuilt {done.rebuilt}, "
            f"deleted {done.deleted}, failed {done.failed}"
        )
    for health in report.symbols:
        click.echo("\n".join(_describe(health, report.base_timeframe)))
    click.echo(_summary(report))
    if not report.healthy:
        raise SystemExit(EXIT_PROBLEMS)
