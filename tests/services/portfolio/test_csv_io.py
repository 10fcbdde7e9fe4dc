from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cryptolens.db.portfolio import Trade, TradeFill
from cryptolens.domain.errors import NotFoundError, TierRequiredError
from cryptolens.services.portfolio.csv_io import (
    COLUMNS,
    MAX_BYTES,
    ImportRejected,
    export_trades,
    import_trades,
    neutralise,
    restore,
)
from cryptolens.services.portfolio.trades import list_trades
from tests.builders.portfolio import (
    T0,
    PortfolioOwner,
    TradeSpec,
    add_owner,
    add_portfolio,
    add_trade,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _journal(session: Session, owner: PortfolioOwner) -> int:
    portfolio_id = add_portfolio(session, owner)
    add_trade(
        session,
        owner,
        portfolio_id,
        TradeSpec(
            entries=(("0.0000123456", "1500000.123", "0.0000000001"), ("0.000013", "2", "1")),
            exits=(("0.00002", "1500002.123", "0.25"),),
            stop="0.00001",
            targets=("0.00002", None, "0.1"),
            tags=("breakout", "=cmd"),
            setup="+fvg",
            notes='@SUM(A1)\nsecond line, with "quotes"',
            mistakes="-entered early",
            emotions="'calm",
        ),
    )
    add_trade(
        session,
        owner,
        portfolio_id,
        TradeSpec(
            direction="short",
            entries=(("64000.5", "0.1"),),
            exits=(("63000", "0.05"),),
            stop="65000",
            opened_at=T0 + timedelta(days=2, microseconds=250),
        ),
    )
    return portfolio_id


def test_export_import_export_is_exact(session: Session) -> None:
    owner = add_owner(session)
    source = _journal(session, owner)
    exported = export_trades(session, owner=owner, portfolio_id=source)
    target = add_portfolio(session, owner)
    report = import_trades(
        session, owner=owner, portfolio_id=target, data=exported.encode(), now=NOW
    )
    assert (report.trades, report.fills) == (2, 5)
    session.expire_all()
    assert export_trades(session, owner=owner, portfolio_id=target) == exported
    before = list_trades(session, owner=owner, portfolio_id=source)
    after = list_trades(session, owner=owner, portfolio_id=target)
    assert [t.figures for t in after] == [t.figures for t in before]


def test_export_has_one_row_per_fill_with_exact_decimals(session: Session) -> None:
    owner = add_owner(session)
    rows = _rows(export_trades(session, owner=owner, portfolio_id=_journal(session, owner)))
    assert list(rows[0]) == list(COLUMNS)
    assert [(r["trade"], r["side"]) for r in rows] == [
        ("1", "entry"),
        ("1", "entry"),
        ("1", "exit"),
        ("2", "entry"),
        ("2", "exit"),
    ]
    assert [r["price"] for r in rows[:3]] == ["0.0000123456", "0.000013", "0.00002"]
    assert rows[0]["quantity"] == "1500000.123"
    assert rows[0]["fee"] == "0.0000000001"
    assert rows[3]["at"] == "2025-03-05T09:00:00.000250+00:00"
    assert rows[4]["status"] == "open"


def test_export_neutralises_cells_a_spreadsheet_would_run(session: Session) -> None:
    owner = add_owner(session)
    rows = _rows(export_trades(session, owner=owner, portfolio_id=_journal(session, owner)))
    first = rows[0]
    assert first["tags"] == "'=cmd,breakout"
    assert first["setup"] == "'+fvg"
    assert first["notes"].startswith("'@SUM(A1)")
    assert first["mistakes"] == "'-entered early"
    assert first["emotions"] == "''calm"
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize("cell", ["=1+2", "+1", "-1", "@A1", "\tx", "\rx", "'x", "''", "plain"])
def test_a_neutralised_cell_reads_back_as_it_was(cell: str) -> None:
    assert restore(neutralise(cell)) == cell


def _file(*rows: dict[str, str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in COLUMNS})
    return out.getvalue().encode()


def _row(trade: str = "1", **cells: str) -> dict[str, str]:
    base = {
        "trade": trade,
        "symbol": "BTC/USDT",
        "direction": "long",
        "planned_stop": "95",
        "side": "entry",
        "at": "2025-03-03T09:00:00+00:00",
        "price": "100",
        "quantity": "1",
        "fee": "0",
    }
    return base | cells


def _count(session: Session) -> tuple[int, int]:
    trades = session.scalar(select(func.count()).select_from(Trade))
    fills = session.scalar(select(func.count()).select_from(TradeFill))
    return int(trades or 0), int(fills or 0)


def test_a_file_with_any_error_imports_nothing_and_lists_every_error(session: Session) -> None:
    owner = add_owner(session)
    portfolio_id = add_portfolio(session, owner)
    data = _file(
        _row("1"),
        _row("1", side="exit", at="2025-03-03T10:00:00Z", price="110"),
        _row("2", price="-5"),
        _row("3", symbol="B"),
        _row("3", symbol="B", side="exit", at="2025-03-03T10:00:00Z", quantity="2"),
        _row("4", at="next tuesday"),
        _row("5"),
        _row("5", side="exit", at="2025-03-03T08:00:00Z"),
        _row("6", at="2099-01-01T00:00:00Z"),
        _row("7", quantity="1.5"),
        _row("7", side="exit", at="2025-03-03T10:00:00Z", quantity="2"),
        _row("8", direction="long"),
        _row("8", direction="short", side="exit", at="2025-03-03T10:00:00Z"),
        _row("9", signal_id="987654"),
    )
    with pytest.raises(ImportRejected) as caught:
        import_trades(session, owner=owner, portfolio_id=portfolio_id, data=data, now=NOW)
    found = [(e.row, e.message) for e in caught.value.errors]
    assert [row for row, _ in found] == [4, 5, 7, 9, 10, 12, 14, 15]
    messages = dict(found)
    assert "price must be greater than 0" in messages[4]
    assert "3 to 20 characters" in messages[5]
    assert "not an ISO 8601" in messages[7]
    assert "before the first entry" in messages[9]
    assert "in the future" in messages[10]
    assert "more than the open position of 1.5" in messages[12]
    assert "direction differs from row 13" in messages[14]
    assert "signal_id" in messages[15]
    assert "Row 4:" in str(caught.value)
    assert "Nothing was imported" in str(caught.value)
    assert _count(session) == (0, 0)


def test_a_file_over_10_mb_is_refused_with_a_clear_message(session: Session) -> None:
    owner = add_owner(session)
    portfolio_id = add_portfolio(session, owner)
    data = _file(_row()) + b" " * MAX_BYTES
    with pytest.raises(ImportRejected, match="larger than 10 MB"):
        import_trades(session, owner=owner, portfolio_id=portfolio_id, data=data, now=NOW)
    assert _count(session) == (0, 0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "lacks the column"),
        (b"trade,symbol\r\n1,BTC/USDT\r\n", "lacks the column"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (_file(), "no trades"),
    ],
)
def test_files_that_are_not_a_trade_export_are_refused(
    session: Session, data: bytes, message: str
) -> None:
    owner = add_owner(session)
    portfolio_id = add_portfolio(session, owner)
    with pytest.raises(ImportRejected, match=message):
        import_trades(session, owner=owner, portfolio_id=portfolio_id, data=data, now=NOW)


def test_import_counts_against_the_daily_allowance_as_a_whole(session: Session) -> None:
    pro = add_owner(session, plan="pro")
    portfolio_id = add_portfolio(session, pro)
    six = _file(*(_row(str(n)) for n in range(1, 7)))
    with pytest.raises(TierRequiredError, match="5 new trades a day"):
        import_trades(session, owner=pro, portfolio_id=portfolio_id, data=six, now=NOW)
    assert _count(session) == (0, 0)
    five = _file(*(_row(str(n)) for n in range(1, 6)))
    report = import_trades(session, owner=pro, portfolio_id=portfolio_id, data=five, now=NOW)
    assert report.trades == 5


def test_nobody_exports_or_imports_another_owners_portfolio(session: Session) -> None:
    owner, intruder = add_owner(session), add_owner(session)
    portfolio_id = _journal(session, owner)
    with pytest.raises(NotFoundError):
        export_trades(session, owner=intruder, portfolio_id=portfolio_id)
    with pytest.raises(NotFoundError):
        import_trades(
            session, owner=intruder, portfolio_id=portfolio_id, data=_file(_row()), now=NOW
        )
    assert _count(session) == (2, 5)


def test_a_spreadsheet_saved_file_with_a_bom_and_no_offsets_imports_as_utc(
    session: Session,
) -> None:
    owner = add_owner(session)
    portfolio_id = add_portfolio(session, owner)
    data = b"\xef\xbb\xbf" + _file(_row(at="2025-03-03 09:00:00", fee=""))
    import_trades(session, owner=owner, portfolio_id=portfolio_id, data=data, now=NOW)
    (trade,) = list_trades(session, owner=owner, portfolio_id=portfolio_id)
    assert trade.figures.opened_at == datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    assert trade.figures.fees == 0
