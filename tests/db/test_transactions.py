from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from cryptolens.db.models import Symbol
from cryptolens.db.symbols import ensure_symbol
from cryptolens.db.transactions import changed_rows, claim_once, unit_of_work


def _stored_symbols(engine: Engine) -> int:
    with Session(engine) as other:
        return other.scalar(select(func.count()).select_from(Symbol)) or 0


def test_a_unit_of_work_commits_what_its_block_wrote(
    session: Session, migrated_engine: Engine
) -> None:
    with unit_of_work(session) as work:
        ensure_symbol(work, exchange="binance", symbol="BTC/USDT")
    assert _stored_symbols(migrated_engine) == 1


def test_a_unit_of_work_rolls_back_and_reraises_when_its_block_fails(
    session: Session, migrated_engine: Engine
) -> None:
    def failing_use_case(work: Session) -> None:
        ensure_symbol(work, exchange="binance", symbol="BTC/USDT")
        work.flush()
        raise LookupError("the use case failed half-way")

    with pytest.raises(LookupError, match="half-way"), unit_of_work(session) as work:
        failing_use_case(work)
    assert _stored_symbols(migrated_engine) == 0
    assert session.scalar(select(func.count()).select_from(Symbol)) == 0


def test_claim_once_lets_only_the_first_of_two_claims_through(session: Session) -> None:
    with unit_of_work(session) as work:
        symbol_id = ensure_symbol(work, exchange="binance", symbol="ETH/USDT").id
    claim = update(Symbol).where(Symbol.id == symbol_id, Symbol.active.is_(True))
    with unit_of_work(session) as work:
        assert claim_once(work, claim.values(active=False, deactivated_reason="first"))
        assert not claim_once(work, claim.values(active=False, deactivated_reason="second"))
    assert session.get(Symbol, symbol_id).deactivated_reason == "first"  # type: ignore[union-attr]


def test_changed_rows_counts_every_row_an_update_changed(session: Session) -> None:
    with unit_of_work(session) as work:
        for name in ("BTC/USDT", "ETH/USDT", "SOL/USDT"):
            ensure_symbol(work, exchange="binance", symbol=name)
    with unit_of_work(session) as work:
        moved = changed_rows(
            work, update(Symbol).where(Symbol.symbol != "BTC/USDT").values(active=False)
        )
    assert moved == 2
