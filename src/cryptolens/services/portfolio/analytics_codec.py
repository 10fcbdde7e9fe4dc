"""``TradeAnalytics`` as JSON text and back, exactly: decimals as their strings, floats as
JSON numbers (Python writes the shortest text that reads back as the same float), times as
ISO 8601 with their offset (stored in UTC; the reader converts the curve to its zone).

``decode(encode(x)) == x`` for every ``x``; ``decode`` raises ``SnapshotFormatError`` for
text it cannot read (another format version, or damage), which the caller treats as no
snapshot at all. Pure: no I/O.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from cryptolens.services.portfolio.analytics_model import (
    BreakdownRow,
    Drawdown,
    EquityPoint,
    Summary,
    TradeAnalytics,
)
from cryptolens.services.portfolio.analytics_rollup import Figures

#: Bumped whenever the layout below changes: older snapshots then read as missing.
FORMAT = 1


class SnapshotFormatError(ValueError):
    """Stored snapshot text this version cannot read."""


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _figures(f: Figures) -> list[Any]:
    return [
        f.trades,
        f.wins,
        f.losses,
        str(f.net_pnl),
        str(f.gross_profit),
        str(f.gross_loss),
        f.r_trades,
        f.sum_r,
    ]


def _summary(s: Summary) -> dict[str, Any]:
    return {
        "figures": _figures(s.figures),
        "open_trades": s.open_trades,
        "average_win": _money(s.average_win),
        "average_loss": _money(s.average_loss),
        "largest_win": _money(s.largest_win),
        "largest_loss": _money(s.largest_loss),
        "average_win_r": s.average_win_r,
        "average_loss_r": s.average_loss_r,
        "average_holding_seconds": s.average_holding_seconds,
    }


def _drawdown(d: Drawdown) -> dict[str, Any]:
    return {
        "amount": str(d.amount),
        "percent": d.percent,
        "peak_equity": str(d.peak_equity),
        "started_at": _time(d.started_at),
        "trough_at": _time(d.trough_at),
        "recovered_at": _time(d.recovered_at),
        "duration_seconds": d.duration_seconds,
    }


def encode(found: TradeAnalytics) -> str:
    """``found`` as compact JSON text."""
    payload = {
        "format": FORMAT,
        "summary": _summary(found.summary),
        "drawdown": _drawdown(found.drawdown),
        "curve": [[_time(p.at), str(p.equity)] for p in found.equity_curve],
        "breakdowns": {
            name: [[row.key, _figures(row.figures)] for row in rows]
            for name, rows in found.breakdowns.items()
        },
    }
    return json.dumps(payload, separators=(",", ":"), allow_nan=False)


def _decimal(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise SnapshotFormatError(f"a decimal is stored as text, not {value!r}")
    return Decimal(value)


def _optional_decimal(value: Any) -> Decimal | None:
    return None if value is None else _decimal(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _datetime(value: Any) -> datetime:
    found = datetime.fromisoformat(value)
    if found.tzinfo is None:
        raise SnapshotFormatError(f"time without a zone: {value!r}")
    return found.astimezone(UTC)


def _optional_datetime(value: Any) -> datetime | None:
    return None if value is None else _datetime(value)


def _key(value: Any) -> str | int | None:
    if value is None or isinstance(value, str | int):
        return value
    raise SnapshotFormatError(f"breakdown key {value!r}")


def _read_figures(cells: list[Any]) -> Figures:
    trades, wins, losses, net, profit, loss, r_trades, sum_r = cells
    return Figures(
        trades=int(trades),
        wins=int(wins),
        losses=int(losses),
        net_pnl=_decimal(net),
        gross_profit=_decimal(profit),
        gross_loss=_decimal(loss),
        r_trades=int(r_trades),
        sum_r=float(sum_r),
    )


def _read_summary(s: dict[str, Any]) -> Summary:
    return Summary(
        figures=_read_figures(s["figures"]),
        open_trades=int(s["open_trades"]),
        average_win=_optional_decimal(s["average_win"]),
        average_loss=_optional_decimal(s["average_loss"]),
        largest_win=_optional_decimal(s["largest_win"]),
        largest_loss=_optional_decimal(s["largest_loss"]),
        average_win_r=_float(s["average_win_r"]),
        average_loss_r=_float(s["average_loss_r"]),
        average_holding_seconds=_float(s["average_holding_seconds"]),
    )


def _read_drawdown(d: dict[str, Any]) -> Drawdown:
    return Drawdown(
        amount=_decimal(d["amount"]),
        percent=float(d["percent"]),
        peak_equity=_decimal(d["peak_equity"]),
        started_at=_optional_datetime(d["started_at"]),
        trough_at=_optional_datetime(d["trough_at"]),
        recovered_at=_optional_datetime(d["recovered_at"]),
        duration_seconds=int(d["duration_seconds"]),
    )


def decode(text: str) -> TradeAnalytics:
    """The ``TradeAnalytics`` that ``encode`` wrote (times in UTC); SnapshotFormatError for
    anything else."""
    try:
        payload = json.loads(text)
        if payload.get("format") != FORMAT:
            raise SnapshotFormatError(f"snapshot format {payload.get('format')!r}")
        return TradeAnalytics(
            summary=_read_summary(payload["summary"]),
            drawdown=_read_drawdown(payload["drawdown"]),
            equity_curve=tuple(
                EquityPoint(_datetime(at), _decimal(equity)) for at, equity in payload["curve"]
            ),
            breakdowns={
                name: tuple(BreakdownRow(_key(key), _read_figures(cells)) for key, cells in rows)
                for name, rows in payload["breakdowns"].items()
            },
        )
    except SnapshotFormatError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, InvalidOperation) as error:
        raise SnapshotFormatError(f"unreadable snapshot: {error!r}") from error
