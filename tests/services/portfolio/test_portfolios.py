from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cryptolens.db.portfolio import Trade, TradeFill
from cryptolens.domain.errors import NotFoundError, TierRequiredError
from cryptolens.domain.trades import FieldError
from cryptolens.services.portfolio.portfolios import (
    PortfolioInput,
    create_portfolio,
    delete_portfolio,
    get_portfolio,
    list_portfolios,
    update_portfolio,
)
from tests.builders.portfolio import PortfolioOwner, add_owner, add_portfolio, add_trade

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _input(name: str = "Swing", **changes: str) -> PortfolioInput:
    values = {"quote_currency": "usdt", "initial_balance": "10000", "description": ""}
    values.update(changes)
    return PortfolioInput(
        name=name,
        quote_currency=values["quote_currency"],
        initial_balance=Decimal(values["initial_balance"]),
        description=values["description"],
    )


def test_a_portfolio_is_created_with_its_currency_spelled_canonically(session: Session) -> None:
    owner = add_owner(session)
    made = create_portfolio(session, owner=owner, data=_input("  Swing  "), now=NOW)
    assert (made.name, made.quote_currency, made.initial_balance) == (
        "Swing",
        "USDT",
        Decimal(10000),
    )
    assert [p.id for p in list_portfolios(session, owner=owner)] == [made.id]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"initial_balance": "0"}, "initial_balance", "greater than 0"),
        ({"initial_balance": "-1"}, "initial_balance", "greater than 0"),
        ({"initial_balance": "1000000000"}, "initial_balance", "below 1,000,000,000"),
        ({"quote_currency": "DOGE"}, "quote_currency", "not one of"),
        ({"quote_currency": ""}, "quote_currency", "not one of"),
        ({"description": "x" * 10_001}, "description", "longer than"),
    ],
)
def test_bad_portfolio_input_is_refused_naming_the_field(
    session: Session, changes: dict[str, str], field: str, message: str
) -> None:
    owner = add_owner(session)
    with pytest.raises(FieldError, match=message) as caught:
        create_portfolio(session, owner=owner, data=_input(**changes), now=NOW)
    assert caught.value.field == field
    assert list_portfolios(session, owner=owner) == []


@pytest.mark.parametrize("name", ["", "   ", "n" * 101])
def test_a_portfolio_needs_a_name_of_at_most_100_characters(session: Session, name: str) -> None:
    with pytest.raises(FieldError) as caught:
        create_portfolio(session, owner=add_owner(session), data=_input(name), now=NOW)
    assert caught.value.field == "name"


def test_the_largest_balance_below_a_billion_is_accepted(session: Session) -> None:
    owner = add_owner(session)
    made = create_portfolio(
        session, owner=owner, data=_input(initial_balance="999999999.9999999999"), now=NOW
    )
    assert made.initial_balance == Decimal("999999999.9999999999")


def test_two_portfolios_of_one_owner_cannot_share_a_name(session: Session) -> None:
    owner = add_owner(session)
    create_portfolio(session, owner=owner, data=_input("Main"), now=NOW)
    with pytest.raises(FieldError, match="already have a portfolio named 'Main'"):
        create_portfolio(session, owner=owner, data=_input("Main"), now=NOW)
    other = add_owner(session)
    create_portfolio(session, owner=other, data=_input("Main"), now=NOW)


def test_free_has_no_portfolio(session: Session) -> None:
    owner = add_owner(session, plan="free")
    with pytest.raises(TierRequiredError, match="Pro plan"):
        create_portfolio(session, owner=owner, data=_input(), now=NOW)


def test_pro_has_one_portfolio_and_premium_any_number(session: Session) -> None:
    pro = add_owner(session, plan="pro")
    create_portfolio(session, owner=pro, data=_input("One"), now=NOW)
    with pytest.raises(TierRequiredError, match="More than 1 portfolio needs the Premium plan"):
        create_portfolio(session, owner=pro, data=_input("Two"), now=NOW)
    premium = add_owner(session, plan="premium")
    for n in range(4):
        create_portfolio(session, owner=premium, data=_input(f"P{n}"), now=NOW)
    assert len(list_portfolios(session, owner=premium)) == 4


@pytest.mark.usefixtures("plans_off")
def test_without_plans_a_free_account_has_any_number_of_portfolios(session: Session) -> None:
    owner = add_owner(session, plan="free")
    for n in range(3):
        create_portfolio(session, owner=owner, data=_input(f"P{n}"), now=NOW)
    assert len(list_portfolios(session, owner=owner)) == 3


def test_another_owner_cannot_read_change_or_delete_a_portfolio(session: Session) -> None:
    owner, intruder = add_owner(session), add_owner(session)
    admin = add_owner(session, admin=True)
    portfolio_id = add_portfolio(session, owner, name="Mine")
    for other in (intruder, admin):
        assert list_portfolios(session, owner=other) == []
    for other in (intruder, admin, PortfolioOwner(None)):
        with pytest.raises(NotFoundError) as caught:
            get_portfolio(session, owner=other, portfolio_id=portfolio_id)
        assert "Mine" not in str(caught.value)
        with pytest.raises(NotFoundError):
            update_portfolio(
                session, owner=other, portfolio_id=portfolio_id, data=_input("Theirs"), now=NOW
            )
        with pytest.raises(NotFoundError):
            delete_portfolio(session, owner=other, portfolio_id=portfolio_id)
    assert get_portfolio(session, owner=owner, portfolio_id=portfolio_id).name == "Mine"


def test_an_unknown_id_and_another_owners_id_answer_alike(session: Session) -> None:
    owner, intruder = add_owner(session), add_owner(session)
    portfolio_id = add_portfolio(session, owner)
    with pytest.raises(NotFoundError) as theirs:
        get_portfolio(session, owner=intruder, portfolio_id=portfolio_id)
    with pytest.raises(NotFoundError) as missing:
        get_portfolio(session, owner=intruder, portfolio_id=portfolio_id + 1000)
    assert str(theirs.value).replace(str(portfolio_id), "N") == str(missing.value).replace(
        str(portfolio_id + 1000), "N"
    )


def test_editing_keeps_the_trades_and_counts_them(session: Session) -> None:
    owner = add_owner(session)
    portfolio_id = add_portfolio(session, owner)
    add_trade(session, owner, portfolio_id)
    changed = update_portfolio(
        session,
        owner=owner,
        portfolio_id=portfolio_id,
        data=_input("Renamed", quote_currency="EUR", description="longer term"),
        now=NOW,
    )
    assert (changed.name, changed.quote_currency, changed.description) == (
        "Renamed",
        "EUR",
        "longer term",
    )
    assert (changed.trades, changed.open_trades) == (1, 0)


def test_deleting_a_portfolio_deletes_its_trades_and_fills(session: Session) -> None:
    owner = add_owner(session)
    portfolio_id = add_portfolio(session, owner)
    kept = add_portfolio(session, owner)
    add_trade(session, owner, portfolio_id)
    add_trade(session, owner, kept)
    delete_portfolio(session, owner=owner, portfolio_id=portfolio_id)
    session.flush()
    assert session.scalar(select(func.count()).select_from(Trade)) == 1
    assert session.scalar(select(func.count()).select_from(TradeFill)) == 2
    assert [p.id for p in list_portfolios(session, owner=owner)] == [kept]
