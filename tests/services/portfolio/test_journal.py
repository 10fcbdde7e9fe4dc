from __future__ import annotations

from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest
from sqlalchemy.orm import Session

from cryptolens.domain.errors import NotFoundError, TierRequiredError
from cryptolens.domain.trades import FieldError
from cryptolens.services.portfolio.journal import (
    JournalInput,
    add_entry,
    delete_entry,
    get_entry,
    list_entries,
    render_journal,
    update_entry,
)
from tests.builders.portfolio import add_owner, add_portfolio, add_trade

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = date(2026, 5, 29)


def test_entries_about_a_day_or_a_trade_list_newest_first(session: Session) -> None:
    owner = add_owner(session)
    portfolio_id = add_portfolio(session, owner)
    trade_id = add_trade(session, owner, portfolio_id)
    day = add_entry(
        session,
        owner=owner,
        portfolio_id=portfolio_id,
        data=JournalInput(DAY, "  Choppy day.  ", emotions="bored"),
        now=NOW,
    )
    about = add_entry(
        session,
        owner=owner,
        portfolio_id=portfolio_id,
        data=JournalInput(date(2026, 5, 30), "Held too long", "moved stop", trade_id=trade_id),
        now=NOW,
    )
    assert day.body == "Choppy day."
    assert [e.id for e in list_entries(session, owner=owner, portfolio_id=portfolio_id)] == [
        about.id,
        day.id,
    ]
    listed = list_entries(session, owner=owner, portfolio_id=portfolio_id, trade_id=trade_id)
    assert [(e.id, e.mistakes) for e in listed] == [(about.id, "moved stop")]
    changed = update_entry(
        session, owner=owner, entry_id=day.id, data=JournalInput(DAY, "Calm day."), now=NOW
    )
    assert get_entry(session, owner=owner, entry_id=day.id).body == changed.body == "Calm day."
    delete_entry(session, owner=owner, entry_id=day.id)
    assert [e.id for e in list_entries(session, owner=owner, portfolio_id=portfolio_id)] == [
        about.id
    ]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (JournalInput(DAY, "   "), "body"),
        (JournalInput(date(2026, 6, 2), "tomorrow"), "day"),
        (JournalInput(DAY, "ok", mistakes="m" * 10_001), "mistakes"),
    ],
)
def test_bad_entries_are_refused_naming_the_field(
    session: Session, data: JournalInput, field: str
) -> None:
    owner = add_owner(session)
    portfolio_id = add_portfolio(session, owner)
    with pytest.raises(FieldError) as caught:
        add_entry(session, owner=owner, portfolio_id=portfolio_id, data=data, now=NOW)
    assert caught.value.field == field


def test_an_entry_cannot_be_about_a_trade_of_another_portfolio_or_owner(
    session: Session,
) -> None:
    owner, intruder = add_owner(session), add_owner(session)
    mine, other = add_portfolio(session, owner), add_portfolio(session, owner)
    elsewhere = add_trade(session, owner, other)
    with pytest.raises(FieldError, match="another portfolio"):
        add_entry(
            session,
            owner=owner,
            portfolio_id=mine,
            data=JournalInput(DAY, "x", trade_id=elsewhere),
            now=NOW,
        )
    theirs = add_portfolio(session, intruder)
    with pytest.raises(NotFoundError):
        add_entry(
            session,
            owner=intruder,
            portfolio_id=theirs,
            data=JournalInput(DAY, "x", trade_id=elsewhere),
            now=NOW,
        )


def test_another_owner_reaches_no_journal_entry(session: Session) -> None:
    owner, intruder = add_owner(session), add_owner(session)
    admin = add_owner(session, admin=True)
    portfolio_id = add_portfolio(session, owner)
    entry = add_entry(
        session, owner=owner, portfolio_id=portfolio_id, data=JournalInput(DAY, "mine"), now=NOW
    )
    for other in (intruder, admin):
        with pytest.raises(NotFoundError):
            get_entry(session, owner=other, entry_id=entry.id)
        with pytest.raises(NotFoundError):
            update_entry(
                session, owner=other, entry_id=entry.id, data=JournalInput(DAY, "x"), now=NOW
            )
        with pytest.raises(NotFoundError):
            delete_entry(session, owner=other, entry_id=entry.id)
        with pytest.raises(NotFoundError):
            list_entries(session, owner=other, portfolio_id=portfolio_id)
        with pytest.raises(NotFoundError):
            add_entry(
                session,
                owner=other,
                portfolio_id=portfolio_id,
                data=JournalInput(DAY, "x"),
                now=NOW,
            )
    assert get_entry(session, owner=owner, entry_id=entry.id).body == "mine"


def test_a_free_account_writes_no_journal(session: Session) -> None:
    owner = add_owner(session, plan="free")
    portfolio_id = add_portfolio(session, owner)
    with pytest.raises(TierRequiredError):
        add_entry(
            session, owner=owner, portfolio_id=portfolio_id, data=JournalInput(DAY, "x"), now=NOW
        )


def test_journal_text_is_escaped_and_only_light_formatting_becomes_markup() -> None:
    html = render_journal(
        'Went **long** on *impulse* <script>alert("x")</script>\n'
        "second line & <b>not bold</b>\n\n"
        "- **waited** for the close\n"
        "* skipped the retest\n"
        "2*3*4 stays as it is"
    )
    assert str(html) == (
        "<p>Went <strong>long</strong> on <em>impulse</em> "
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;<br>\n"
        "second line &amp; &lt;b&gt;not bold&lt;/b&gt;</p>\n"
        "<ul><li><strong>waited</strong> for the close</li><li>skipped the retest</li></ul>\n"
        "<p>2*3*4 stays as it is</p>"
    )


@pytest.mark.parametrize(
    "text",
    [
        '**<img src=x onerror="alert(1)">**',
        "*<a href='javascript:x'>*",
        "- <iframe>",
        "**a *b** c*",
        "&lt;script&gt;",
    ],
)
def test_no_journal_text_produces_a_tag_other_than_the_allowed_ones(text: str) -> None:
    parser = _TagCheck()
    parser.feed(str(render_journal(text)))
    parser.close()
    assert parser.seen <= {"p", "br", "strong", "em", "ul", "li"}
    assert parser.open == []
    assert not parser.attributes


class _TagCheck(HTMLParser):
    """Tags seen, whether every one is closed in order, and whether any had attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()
        self.open: list[str] = []
        self.attributes = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.add(tag)
        self.attributes = self.attributes or bool(attrs)
        if tag != "br":
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open, f"</{tag}> closes nothing"
        assert self.open.pop() == tag
