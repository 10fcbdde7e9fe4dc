"""Journal entries: added about a day or a trade, shown with light formatting and everything
else escaped; a day in the future is refused; another owner's entry is a 404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask

from cryptolens.db.portfolio import JournalEntry
from tests.builders.portfolio_web import Trader, count_rows
from tests.web.accounts_helpers import post_form

FORM = "/portfolio"


def test_an_entry_is_shown_with_bold_and_bullets_and_its_html_escaped(
    app: Flask, pro: Trader
) -> None:
    body = "**Patience** paid.\n- waited\n- <script>alert(1)</script>"
    data = {"day": "2025-03-03", "body": body, "mistakes": "none", "emotions": "calm"}
    path = f"/portfolio/{pro.seeded.portfolio}/journal"
    response = post_form(pro.client, path, data, form_path=FORM)
    assert response.status_code == 302
    page = pro.client.get(f"/portfolio/{pro.seeded.portfolio}").text
    assert "<strong>Patience</strong> paid." in page
    assert "<li>&lt;script&gt;alert(1)&lt;/script&gt;</li>" in page
    assert "<script>alert(1)" not in page


def test_an_entry_about_a_trade_shows_on_the_trade_page(pro: Trader) -> None:
    trade_id = pro.seeded.open_trade
    data = {"day": "2025-03-03", "body": "Scaled in too early.", "trade_id": str(trade_id)}
    path = f"/portfolio/{pro.seeded.portfolio}/journal"
    response = post_form(pro.client, path, data, form_path=FORM)
    assert response.headers["Location"].endswith(f"/portfolio/trades/{trade_id}#journal")
    assert "Scaled in too early." in pro.client.get(f"/portfolio/trades/{trade_id}").text


def test_a_day_in_the_future_or_an_empty_entry_is_a_400(app: Flask, pro: Trader) -> None:
    before = count_rows(app, JournalEntry)
    later = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    path = f"/portfolio/{pro.seeded.portfolio}/journal"
    future = post_form(pro.client, path, {"day": later, "body": "x"}, form_path=FORM)
    assert future.status_code == 400
    assert "cannot be in the future" in future.text
    empty = post_form(pro.client, path, {"day": "2025-03-03", "body": " "}, form_path=FORM)
    assert empty.status_code == 400
    assert "Entry is required" in empty.text
    bad_day = post_form(pro.client, path, {"day": "soon", "body": "x"}, form_path=FORM)
    assert bad_day.status_code == 400
    assert count_rows(app, JournalEntry) == before


def test_another_owners_entry_cannot_be_deleted_nor_written_to_their_portfolio(
    app: Flask, pro: Trader, rival: Trader
) -> None:
    theirs = rival.seeded.entry
    path = f"/portfolio/journal/{theirs}/delete"
    assert post_form(pro.client, path, form_path=FORM).status_code == 404
    assert count_rows(app, JournalEntry, id=theirs) == 1
    data = {"day": "2025-03-03", "body": "mine now"}
    written = post_form(pro.client, f"/portfolio/{rival.seeded.portfolio}/journal", data)
    assert written.status_code == 404
    linked = {**data, "trade_id": str(rival.seeded.open_trade)}
    into_mine = post_form(pro.client, f"/portfolio/{pro.seeded.portfolio}/journal", linked)
    assert into_mine.status_code == 404
    assert count_rows(app, JournalEntry, body="mine now") == 0


def test_deleting_an_entry(app: Flask, pro: Trader) -> None:
    path = f"/portfolio/journal/{pro.seeded.entry}/delete"
    assert post_form(pro.client, path, form_path=FORM).status_code == 302
    assert count_rows(app, JournalEntry, id=pro.seeded.entry) == 0
