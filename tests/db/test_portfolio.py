from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from cryptolens.db.accounts import User
from cryptolens.db.base import as_number, canonical_decimal
from cryptolens.db.portfolio import Portfolio


def _portfolio(session: Session, name: str, balance: Decimal) -> Portfolio:
    user = session.scalars(select(User).where(User.email == "p@db.test")).one_or_none()
    if user is None:
        user = User(email="p@db.test", password_hash="x")
        session.add(user)
        session.flush()
    row = Portfolio(user_id=user.id, name=name, quote_currency="USDT", initial_balance=balance)
    session.add(row)
    session.flush()
    return row


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ("0.1", "0.1"),
        ("1.5000", "1.5"),
        ("100", "100"),
        ("1E+2", "100"),
        ("999999999999999999.9999999999", "999999999999999999.9999999999"),
        ("0.0000000001", "0.0000000001"),
        ("-42.125", "-42.125"),
    ],
)
def test_exact_decimals_read_back_exactly_in_canonical_form(
    session: Session, given: str, read: str
) -> None:
    _portfolio(session, "p", Decimal(given))
    session.commit()
    session.expire_all()
    stored = session.scalars(select(Portfolio.initial_balance)).one()
    assert isinstance(stored, Decimal)
    assert format(stored, "f") == read
    assert stored.as_tuple() == canonical_decimal(stored).as_tuple()


@pytest.mark.parametrize("given", ["0.00000000001", "1000000000000000000", "NaN", "Infinity"])
def test_exact_decimals_refuse_what_the_column_cannot_hold(session: Session, given: str) -> None:
    with pytest.raises(StatementError, match=r"ExactDecimal|does not fit"):
        _portfolio(session, "p", Decimal(given))
    session.rollback()


def test_as_number_compares_and_sums_numerically_on_every_dialect(session: Session) -> None:
    for name, value in (("a", "9"), ("b", "10"), ("c", "-2.5")):
        _portfolio(session, name, Decimal(value))
    session.commit()
    above = session.scalars(
        select(Portfolio.name)
        .where(as_number(Portfolio.initial_balance) > 0)
        .order_by(as_number(Portfolio.initial_balance))
    ).all()
    assert above == ["a", "b"]
    total = session.scalar(select(func.sum(as_number(Portfolio.initial_balance))))
    assert Decimal(str(total)) == Decimal("16.5")


def test_canonical_decimal_drops_exponents_and_trailing_zeros() -> None:
    assert str(canonical_decimal(Decimal("1.2300"))) == "1.23"
    assert str(canonical_decimal(Decimal("5E+3"))) == "5000"
    assert str(canonical_decimal(Decimal("0E-10"))) == "0"
