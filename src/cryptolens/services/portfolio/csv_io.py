"""A portfolio's trades as CSV: one row per fill, with its trade's columns repeated and a
``trade`` number grouping the rows. Export neutralises cells a spreadsheet would run as a
formula; import checks every row, lists each error with its row number and stores nothing
from a file with any error. Export, import into another portfolio and export again gives the
same text.

Times are ISO 8601 (``2025-03-03T09:00:00+00:00``; a time without an offset is read as UTC);
decimals are written exactly, without exponent; tags are separated by commas.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from cryptolens.domain.errors import CryptoLensError, ValidationError
from cryptolens.domain.portfolio_rules import parse_decimal
from cryptolens.domain.trades import FieldError, Fill, Side
from cryptolens.services.portfolio.access import Owner, check_new_trades, owned_portfolio
from cryptolens.services.portfolio.signal_link import check_signal_link
from cryptolens.services.portfolio.trades import (
    CheckedTrade,
    TradeInput,
    TradeView,
    check_trade,
    insert_trades,
    list_trades,
)

MAX_BYTES = 10 * 1024 * 1024
#: What a file above MAX_BYTES is told.
TOO_LARGE = "The file is larger than 10 MB, the most an import takes."
MAX_LISTED_ERRORS = 100
TRADE_COLUMNS = (
    "symbol",
    "direction",
    "planned_stop",
    "target_1",
    "target_2",
    "target_3",
    "setup",
    "tags",
    "notes",
    "mistakes",
    "emotions",
    "signal_id",
)
FILL_COLUMNS = ("side", "at", "price", "quantity", "fee")
#: Written for people reading the file; import ignores them (they follow from the fills).
FIGURE_COLUMNS = ("status", "realized_pnl", "r_multiple")
COLUMNS = ("trade", *TRADE_COLUMNS, *FILL_COLUMNS, *FIGURE_COLUMNS)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


@dataclass(frozen=True, slots=True)
class RowError:
    """What is wrong with a row (``row`` counts the header as row 1; None: the whole file)."""

    row: int | None
    message: str


class ImportRejected(ValidationError):
    """A file that was not imported, with every error found."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        listed = list(errors[:MAX_LISTED_ERRORS])
        more = len(errors) - len(listed)
        lines = [e.message if e.row is None else f"Row {e.row}: {e.message}" for e in listed]
        if more:
            lines.append(f"… and {more} more.")
        noun = "error" if len(errors) == 1 else "errors"
        super().__init__(
            f"Nothing was imported: the file has {len(errors)} {noun}. " + " ".join(lines)
        )
        self.errors = tuple(errors)


@dataclass(frozen=True, slots=True)
class ImportReport:
    trades: int
    fills: int
    trade_ids: tuple[int, ...]


def neutralise(cell: str) -> str:
    """A cell a spreadsheet will not run: one starting ``= + - @``, a tab, a carriage return
    (or a quote, so reading back is unambiguous) gets a leading ``'``."""
    return f"'{cell}" if cell.startswith(_FORMULA_STARTS) else cell


def restore(cell: str) -> str:
    """The cell as it was before ``neutralise``."""
    return cell[1:] if cell.startswith("'") else cell


def _number(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def _trade_cells(trade: TradeView) -> list[str]:
    return [
        trade.symbol,
        trade.direction.value,
        _number(trade.planned_stop),
        *(_number(t) for t in trade.targets),
        trade.setup or "",
        ",".join(trade.tags),
        trade.notes,
        trade.mistakes,
        trade.emotions,
        "" if trade.signal_id is None else str(trade.signal_id),
    ]


def export_trades(session: Session, *, owner: Owner, portfolio_id: int) -> str:
    """The portfolio's trades, oldest first, one row per fill (three queries)."""
    trades = list_trades(session, owner=owner, portfolio_id=portfolio_id, with_fills=True)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for number, trade in enumerate(reversed(trades), start=1):
        shared = _trade_cells(trade)
        done = trade.figures
        figures = [done.status.value, _number(done.realized_pnl), _number(done.r_multiple)]
        for fill in trade.fills:
            cells = [
                fill.side.value,
                fill.at.astimezone(UTC).isoformat(),
                _number(fill.price),
                _number(fill.quantity),
                _number(fill.fee),
            ]
            writer.writerow(neutralise(c) for c in [str(number), *shared, *cells, *figures])
    return out.getvalue()


@dataclass(slots=True)
class _Group:
    first_row: int
    cells: dict[str, str]
    fills: list[Fill]
    rows: list[int]


def _parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise FieldError("at", f"time {text[:40]!r} is not an ISO 8601 date and time.") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _parse_fill(cells: dict[str, str]) -> Fill:
    try:
        side = Side(cells["side"].strip().lower())
    except ValueError:
        raise FieldError("side", "side must be entry or exit.") from None
    fee = cells["fee"].strip() or "0"
    return Fill(
        side=side,
        at=_parse_time(cells["at"]),
        price=parse_decimal("price", cells["price"], "price"),
        quantity=parse_decimal("quantity", cells["quantity"], "quantity"),
        fee=parse_decimal("fee", fee, "fee"),
    )


def _read_rows(data: bytes) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    if len(data) > MAX_BYTES:
        raise ImportRejected([RowError(None, TOO_LARGE)])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected([RowError(None, "The file is not UTF-8 text.")]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in ("trade", *TRADE_COLUMNS, *FILL_COLUMNS) if c not in header]
    if missing:
        message = f"The header lacks the column(s) {', '.join(missing)}."
        raise ImportRejected([RowError(1, message)])
    rows: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            found = f"{len(cells)} cells where the header has {len(header)}."
            errors.append(RowError(number, found))
            continue
        rows.append((number, {h: restore(c) for h, c in zip(header, cells, strict=True)}))
    if not rows and not errors:
        errors.append(RowError(None, "The file has no trades."))
    return rows, errors


def _group(rows: list[tuple[int, dict[str, str]]], errors: list[RowError]) -> dict[str, _Group]:
    groups: dict[str, _Group] = {}
    for number, cells in rows:
        key = cells["trade"].strip()
        if not key:
            errors.append(RowError(number, "trade (the number grouping its fills) is empty."))
            continue
        group = groups.setdefault(key, _Group(number, cells, [], []))
        differing = [c for c in TRADE_COLUMNS if cells[c] != group.cells[c]]
        if differing:
            errors.append(
                RowError(
                    number,
                    f"{differing[0]} differs from row {group.first_row} of the same trade.",
                )
            )
            continue
        try:
            group.fills.append(_parse_fill(cells))
            group.rows.append(number)
        except FieldError as error:
            errors.append(RowError(number, str(error)))
    return groups


def _optional(cells: dict[str, str], column: str) -> Decimal | None:
    text = cells[column].strip()
    return None if not text else parse_decimal(column, text, column)


def _trade_input(group: _Group) -> TradeInput:
    cells = group.cells
    signal = cells["signal_id"].strip()
    if signal and not signal.isdigit():
        raise FieldError("signal_id", "signal_id must be a whole number.")
    return TradeInput(
        symbol=cells["symbol"],
        direction=cells["direction"],
        planned_stop=parse_decimal("planned_stop", cells["planned_stop"], "planned_stop"),
        fills=tuple(group.fills),
        targets=tuple(_optional(cells, f"target_{n}") for n in (1, 2, 3)),
        setup=cells["setup"],
        notes=cells["notes"],
        mistakes=cells["mistakes"],
        emotions=cells["emotions"],
        tags=tuple(cells["tags"].split(",")),
        signal_id=int(signal) if signal else None,
    )


def _row_of(group: _Group, error: FieldError) -> int:
    """The row a trade's error is about: the fill's own row, else the trade's first row."""
    if error.field.startswith("fills["):
        index = int(error.field[6 : error.field.index("]")])
        return group.rows[index]
    return group.first_row


def _check_groups(
    session: Session, owner: Owner, groups: dict[str, _Group], now: datetime
) -> tuple[list[CheckedTrade], list[RowError]]:
    checked: list[CheckedTrade] = []
    errors: list[RowError] = []
    for group in groups.values():
        if not group.fills:
            continue  # its rows' errors are listed already
        try:
            trade = check_trade(_trade_input(group), now=now)
            if trade.signal_id is not None:
                check_signal_link(session, owner=owner, signal_id=trade.signal_id)
        except FieldError as error:
            errors.append(RowError(_row_of(group, error), str(error)))
            continue
        except CryptoLensError as error:  # a signal that is not there, or not on the plan
            errors.append(RowError(group.first_row, f"signal_id: {error}"))
            continue
        checked.append(trade)
    return checked, errors


def import_trades(
    session: Session, *, owner: Owner, portfolio_id: int, data: bytes, now: datetime
) -> ImportReport:
    """Every trade of a CSV file (as ``export_trades`` writes it) into the portfolio, or none:
    ImportRejected lists each error with its row; TierRequiredError when the trades exceed
    what the plan allows today."""
    portfolio = owned_portfolio(session, owner=owner, portfolio_id=portfolio_id)
    rows, errors = _read_rows(data)
    groups = _group(rows, errors)
    checked, trade_errors = _check_groups(session, owner, groups, now)
    errors.extend(trade_errors)
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.row or 0))
    tz = check_new_trades(session, owner=owner, count=len(checked), now=now)
    ids = insert_trades(
        session,
        portfolio_id=portfolio.id,
        user_id=portfolio.user_id,
        trades=checked,
        tz=tz,
        now=now,
    )
    return ImportReport(
        trades=len(ids), fills=sum(len(t.fills) for t in checked), trade_ids=tuple(ids)
    )
