"""CSV download and upload: the download neutralises formula cells; an upload with errors is
a 400 listing each row's problem and stores nothing; a good one stores every trade; a file
above the request limit is refused whole."""

from __future__ import annotations

import io

from flask import Flask
from werkzeug.test import TestResponse

from cryptolens.db.portfolio import Trade
from tests.builders.portfolio_web import Trader, count_rows
from tests.web.accounts_helpers import csrf_token, post_form

FORM = "/portfolio"


def _upload(trader: Trader, data: bytes, portfolio_id: int | None = None) -> TestResponse:
    target = portfolio_id or trader.seeded.portfolio
    fields = {"csrf_token": csrf_token(trader.client, FORM), "file": (io.BytesIO(data), "t.csv")}
    return trader.client.post(
        f"/portfolio/{target}/import", data=fields, content_type="multipart/form-data"
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


def test_a_file_above_the_request_limit_is_refused(app: Flask, pro: Trader) -> None:
    before = count_rows(app, Trade)
    body = b"trade,symbol\n" + b"1,BTC/USDT\n" * 200_000  # 2.2 MB, above the 1 MB default
    response = pro.client.post(
        f"/portfolio/{pro.seeded.portfolio}/import",
        data=body,
        content_type="multipart/form-data; boundary=xyz",
    )
    assert response.status_code == 413
    assert count_rows(app, Trade) == before


def test_another_owners_portfolio_can_be_neither_downloaded_nor_uploaded_to(
    app: Flask, pro: Trader, rival: Trader
) -> None:
    theirs = rival.seeded.portfolio
    assert pro.client.get(f"/portfolio/{theirs}/trades.csv").status_code == 404
    exported = _export(pro).data
    before = count_rows(app, Trade, portfolio_id=theirs)
    assert _upload(pro, exported, portfolio_id=theirs).status_code == 404
    assert count_rows(app, Trade, portfolio_id=theirs) == before
