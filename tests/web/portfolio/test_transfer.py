"""CSV download and upload: the download neutralises formula cells; an upload with errors is
a 400 listing each row's problem and stores nothing; a good one stores every trade; a file
above the site's 1 MiB request limit is read up to the import's own 10 MB, and one above that
is refused naming it."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from cryptolens.db.portfolio import Trade
from cryptolens.services.portfolio import csv_io
from tests.builders.portfolio_web import Trader, count_rows
from tests.web.accounts_helpers import csrf_token, post_form

FORM = "/portfolio"
MIB = 1024 * 1024


def _upload(trader: Trader, data: bytes, portfolio_id: int | None = None) -> TestResponse:
    target = portfolio_id or trader.seeded.portfolio
    upload = FileStorage(io.BytesIO(data), "t.csv", content_type="text/csv")
    fields = {"csrf_token": csrf_token(trader.client, FORM), "file": upload}
    # Encoded here, in memory: the test client would spool a large body to a temporary file
    # it never closes.
    boundary, body = encode_multipart(fields)
    return trader.client.post(
        f"/portfolio/{target}/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def _export(trader: Trader) -> TestResponse:
    return trader.client.get(f"/portfolio/{trader.seeded.portfolio}/trades.csv")


def test_the_download_is_a_csv_file_with_one_row_per_fill(pro: Trader) -> None:
    response = _export(pro)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    lines = response.text.strip().splitlines()
    assert lines[0].startswith("trade,symbol,direction")
    assert len(lines) == 1 + 3  # open trade: one entry; closed: entry and exit


def test_formula_cells_are_neutralised_in_the_download(pro: Trader) -> None:
    data = {
        "symbol": "BTC/USDT",
        "direction": "long",
        "planned_stop": "95",
        "notes": '=HYPERLINK("http://evil")',
        "setup": "@SUM(1)",
    }
    path = f"/portfolio/trades/{pro.seeded.open_trade}"
    assert post_form(pro.client, path, data, form_path=FORM).status_code == 302
    text = _export(pro).text
    assert "'=HYPERLINK" in text
    assert "'@SUM(1)" in text
    assert ",=HYPERLINK" not in text


def test_the_download_uploads_again_into_another_portfolio_exactly(
    app: Flask, pro: Trader, rival: Trader
) -> None:
    exported = rival.client.get(f"/portfolio/{rival.seeded.portfolio}/trades.csv").data
    response = _upload(pro, exported)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/portfolio/{pro.seeded.portfolio}?imported=2")
    assert "Imported 2 trades." in pro.client.get(response.headers["Location"]).text
    assert count_rows(app, Trade, portfolio_id=pro.seeded.portfolio) == 4


def test_an_upload_with_errors_lists_each_row_and_stores_nothing(app: Flask, pro: Trader) -> None:
    lines = _export(pro).text.strip().splitlines()
    header, first, second = lines[0], lines[1], lines[2]
    broken = "\n".join([header, first.replace("BTC/USDT", "NOPE"), second, "1,2,3"]) + "\n"
    before = count_rows(app, Trade)
    response = _upload(pro, broken.encode())
    assert response.status_code == 400
    assert 'id="import-errors"' in response.text
    assert "Row 2:" in response.text
    assert "Row 4:" in response.text
    assert count_rows(app, Trade) == before


def test_an_upload_without_a_file_or_not_utf8_is_a_400(app: Flask, pro: Trader) -> None:
    token = csrf_token(pro.client, FORM)
    empty = pro.client.post(
        f"/portfolio/{pro.seeded.portfolio}/import",
        data={"csrf_token": token},
        content_type="multipart/form-data",
    )
    assert empty.status_code == 400
    assert "Choose a CSV file" in empty.text
    latin = _upload(pro, "trade,symbol\n1,\xe9\n".encode("latin-1"))
    assert latin.status_code == 400
    assert "not UTF-8" in latin.text


def _rows_with_errors(trader: Trader, size: int) -> bytes:
    """A CSV file of about ``size`` bytes shaped like the download, each row a trade of
    its own with a symbol the import refuses."""
    header, first = _export(trader).text.splitlines()[:2]
    cells = first.split(",")
    lines = [header]
    total = len(header)
    number = 0
    while total < size:
        number += 1
        line = ",".join([str(number), "NOPE", *cells[2:]])
        lines.append(line)
        total += len(line) + 1
    return ("\n".join(lines) + "\n").encode()


def test_a_2_mb_file_is_read_by_the_import_not_refused_by_the_request_limit(
    app: Flask, pro: Trader
) -> None:
    data = _rows_with_errors(pro, 2 * MIB)
    assert len(data) > 2 * MIB  # twice the 1 MiB request limit of every other form
    before = count_rows(app, Trade)
    response = _upload(pro, data)
    assert response.status_code == 400
    assert 'id="import-errors"' in response.text
    assert "Row 2: " in response.text
    assert count_rows(app, Trade) == before


@pytest.mark.parametrize(
    ("size", "status"),
    [
        # Within the request's room for the form around the file: the import judges it.
        (csv_io.MAX_BYTES + 1, 400),
        # Beyond that room: the request limit of the import's view judges it.
        (11 * MIB, 413),
    ],
)
def test_a_file_above_10_mb_is_refused_naming_the_limit_and_nothing_is_stored(
    app: Flask, pro: Trader, size: int, status: int
) -> None:
    before = count_rows(app, Trade)
    response = _upload(pro, b"trade,symbol\n" + b"x" * (size - 13))
    assert response.status_code == status
    assert "Nothing was imported" in response.text
    assert "The file is larger than 10 MB, the most an import takes." in response.text
    assert count_rows(app, Trade) == before


def test_other_portfolio_forms_keep_the_1_mib_request_limit(pro: Trader) -> None:
    fields = {"csrf_token": csrf_token(pro.client, FORM), "notes": "x" * (2 * MIB)}
    boundary, body = encode_multipart(fields)
    response = pro.client.post(
        f"/portfolio/trades/{pro.seeded.open_trade}",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413
    assert "import" not in response.text.lower()


def test_another_owners_portfolio_can_be_neither_downloaded_nor_uploaded_to(
    app: Flask, pro: Trader, rival: Trader
) -> None:
    theirs = rival.seeded.portfolio
    assert pro.client.get(f"/portfolio/{theirs}/trades.csv").status_code == 404
    exported = _export(pro).data
    before = count_rows(app, Trade, portfolio_id=theirs)
    assert _upload(pro, exported, portfolio_id=theirs).status_code == 404
    assert count_rows(app, Trade, portfolio_id=theirs) == before
